from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def warn_short_of_facilitators():
    """Every 15 minutes from beat: coordinators hear, once, of a session within the warning
    window that still has fewer than two facilitators. Idempotent (a claim per session)."""
    services.sessions_short_of_facilitators_warn()
