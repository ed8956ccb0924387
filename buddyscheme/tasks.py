"""Thin tasks: they take ids and call a service or helper."""

from celery import shared_task

from . import services
from .emails import send_email
from .models import Invitation


@shared_task
def heartbeat():
    services.heartbeat_record("celery")


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
