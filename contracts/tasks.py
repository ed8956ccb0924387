from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def remind_unsigned_contracts():
    services.remind_unsigned()
