from celery import shared_task


@shared_task(ignore_result=True)
def remind_plan_steps():
    """Hourly from beat: each due step of a plan whose participant agreed gets one reminder.
    Idempotent (a claim per step)."""
    from . import services  # noqa: PLC0415 - the task body imports the service it calls

    services.plan_reminders_send()
