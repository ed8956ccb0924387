"""Thin tasks: they take ids and call a service or helper.

Services and the outbox import this module at the top to enqueue its tasks, so a task imports
the service it calls inside its body: loading either module never needs the other half-loaded.
"""

from celery import shared_task

from .emails import send_email
from .models import Invitation, Membership, Role, Scheme
from .vetting import vetting_lapses


@shared_task
def heartbeat():
    from .services import heartbeat_record  # noqa: PLC0415 - services import this module

    heartbeat_record("celery")


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(invitation_id: int):
    invitation = Invitation.objects.select_related("scheme").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != "open":
        return
    send_email(
        "invitation",
        to=invitation.email,
        context={"invitation": invitation, "path": f"/invite/{invitation.token}/"},
        scheme=invitation.scheme,
    )


@shared_task
def remind_vetting_lapses():
    """Weekly: tell each scheme's coordinators how many checks run out soon (no names by email)."""
    for scheme in Scheme.objects.all():
        count = len(vetting_lapses(scheme))
        if not count:
            continue
        coordinators = Membership.objects.filter(
            scheme=scheme, role=Role.COORDINATOR, is_active=True
        ).select_related("user")
        for coordinator in coordinators:
            send_email(
                "vetting_lapses", to=coordinator.user.email, context={"count": count}, scheme=scheme
            )


@shared_task(acks_late=True)
def deliver_notifications():
    from .notifications import notifications_deliver  # noqa: PLC0415 - it imports this module

    notifications_deliver()
