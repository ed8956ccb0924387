from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def sweep():
    """Every 10 s from beat: raise due alerts and reminders. Idempotent; two at once are safe."""
    services.sweep()


@shared_task(ignore_result=True)
def locations_expire():
    """Hourly from beat: delete the positions of alerts resolved longer ago than the scheme keeps
    them. Idempotent."""
    services.locations_expire()


@shared_task(ignore_result=True)
def remind_missing_debriefs():
    """Every 15 minutes from beat: one reminder for each debrief unsent 24 hours after the
    check-out. Idempotent (a claim per debrief and the outbox's key)."""
    services.debriefs_remind()
