from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def chase_references():
    services.references_chase()
