"""Thin tasks: they take ids and call a service.

Services queue work through the outbox, which imports this module at the top to enqueue its
delivery task; so a task imports the service it calls inside its body, and loading either
module never needs the other half-loaded.
"""

from celery import shared_task


@shared_task
def heartbeat():
    from .services import heartbeat_record  # noqa: PLC0415 - services import the outbox, which imports this module

    heartbeat_record("celery")


@shared_task
def remind_vetting_lapses():
    """Weekly, from beat. Safe to run twice: the outbox keys each email by week."""
    from .vetting import vetting_lapses_remind  # noqa: PLC0415 - vetting imports the outbox, which imports this module

    vetting_lapses_remind()


@shared_task(acks_late=True)
def deliver_notifications():
    from .notifications import notifications_deliver  # noqa: PLC0415 - the outbox imports this module

    notifications_deliver()


@shared_task
def prepare_retention_reviews():
    """Daily, from beat: the dry-run retention report for each scheme (no names, no ids in)."""
    from .retention import retention_daily  # noqa: PLC0415 - a task body imports its service

    retention_daily()
