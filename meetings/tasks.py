from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def sweep():
    """Every 10 s from beat: raise due alerts and reminders. Idempotent; two at once are safe."""
    services.sweep()
