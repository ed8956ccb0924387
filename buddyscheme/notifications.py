"""The notification outbox: enqueue in the caller's transaction, deliver with a lease.

Every message the scheme sends leaves through here. Nothing is sent inside the transaction
that decides to send it: the row is the promise, and `notifications_deliver` keeps it at least
once. Each send is recorded; a failing channel is retried with backoff; a worker or broker that
dies loses nothing; a dedupe key means a repeated or redelivered cause never sends twice.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .channels import ChannelError, email_send, get_sms_backend
from .consent import may_text
from .emails import email_build, sms_build
from .models import Channel, Invitation, Notification, NotificationStatus
from .tasks import deliver_notifications

logger = logging.getLogger(__name__)

# The longest one send may take: the SMS provider's and the SMTP connection's timeout.
CHANNEL_TIMEOUT = timedelta(seconds=10)
# A row held by a worker that died is sent by the next round after its lease ends: lease +
# the sweeper's round (5 s) + one send (10 s at most) keeps the design's "sent within recovery
# + 60 s" (a 60 s lease did not: the fault test saw 63.5 s).
LEASE = timedelta(seconds=40)
# A worker claims only as many messages as it can surely send before their lease runs out,
# even if every one takes the channel's full timeout; and it renews the lease of each just
# before sending it. A slow channel then never lets a second worker claim (and send again)
# the end of a batch.
CLAIM_BATCH = max(1, int(LEASE / (CHANNEL_TIMEOUT * 1.2)))
MAX_ATTEMPTS = 8
# A safety alert is retried at least once a minute however long its channel has been failing,
# so the design's "within 60 s" holds from the moment the provider is back.
ALERT_RETRY_CAP = timedelta(seconds=60)


def backoff(attempts: int, *, urgent: bool = False) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 30 min (at 1 min for a safety alert)."""
    wait = timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))
    return min(wait, ALERT_RETRY_CAP) if urgent else wait


def is_safety_alert(template: str) -> bool:
    return template.startswith("alert_")


def notification_enqueue(
    *,
    scheme,
    template: str,
    dedupe_key: str,
    recipient=None,
    to_email: str = "",
    context=None,
    channels=None,
    now=None,
):
    """Queue a message for a person on their channels, or an email to an address that has no
    account yet (`to_email`). Returns the rows created (none twice)."""
    if (recipient is None) == (not to_email):
        raise ValueError("A message goes to exactly one of a recipient or an email address.")
    now = now or timezone.now()
    if recipient is None:
        # An address alone is reached by email only, and its cause (an invitation) names the
        # one address it goes to: the caller's key needs no address in it.
        keys = {Channel.EMAIL: f"{dedupe_key}:{Channel.EMAIL}"}
    else:
        if channels is None:
            channels = [Channel.EMAIL]
            profile = getattr(recipient, "profile", None)
            if profile is not None and profile.phone and may_text(recipient, scheme):
                channels.append(Channel.SMS)
        keys = {channel: f"{dedupe_key}:{recipient.pk}:{channel}" for channel in channels}
    created = []
    for channel, key in keys.items():
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        scheme=scheme,
                        channel=channel,
                        recipient=recipient,
                        to_email=to_email,
                        template=template,
                        context=context or {},
                        dedupe_key=key,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue  # already queued: the dedupe key makes enqueueing idempotent
    if (
        created
        and not _delivering_here.get()
        and not any(entry[1] is _deliver_soon for entry in connection.run_on_commit)
    ):
        # One delivery task per transaction, however many messages it queued.
        transaction.on_commit(_deliver_soon, robust=True)
    return created


def _deliver_soon():
    deliver_notifications.delay()


# Set while a caller delivers the outbox itself (the sweeper process): no Celery task is
# queued, so a dead broker costs nothing and no time.
_delivering_here: ContextVar[bool] = ContextVar("delivering_here", default=False)


@contextmanager
def delivering_here():
    """The caller will run notifications_deliver itself: enqueue schedules no Celery task."""
    token = _delivering_here.set(True)
    try:
        yield
    finally:
        _delivering_here.reset(token)


def _claimable(now):
    return Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).exclude(lease_until__gt=now)


def notifications_claim(*, now=None, limit=CLAIM_BATCH) -> list[Notification]:
    """Take a lease on up to `limit` due rows. Two workers never hold the same row."""
    now = now or timezone.now()
    with transaction.atomic():
        candidates = _claimable(now).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        claimed = []
        for pk in ids:
            # The conditional UPDATE is the claim: on databases without SKIP LOCKED it is
            # still what stops a second worker (its UPDATE then matches no row).
            won = (
                _claimable(now)
                .filter(pk=pk)
                .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
            )
            if won:
                claimed.append(pk)
    return list(
        Notification.objects.filter(pk__in=claimed).select_related(
            "recipient", "recipient__profile", "scheme"
        )
    )


def _message_context(notification: Notification, now) -> dict | None:
    """What the message's templates need, or None when it is no longer wanted."""
    context = dict(notification.context)
    if "invitation_id" in context:
        # Read when sending, so the link's token is never copied into the outbox; and an
        # invitation withdrawn meanwhile (often a mistyped address) must not arrive late.
        invitation = Invitation.objects.open(now).filter(pk=context["invitation_id"]).first()
        if invitation is None:
            return None
        context.update(invitation=invitation, path=f"/invite/{invitation.token}/")
    return context


def _lease_renewed(notification: Notification, now) -> bool:
    """Extend our lease for the send about to start; False when it is no longer ours."""
    renewed = Notification.objects.filter(
        pk=notification.pk,
        status=NotificationStatus.PENDING,
        lease_until=notification.lease_until,
    ).update(lease_until=now + LEASE)
    if renewed:
        notification.lease_until = now + LEASE
    return bool(renewed)


def notification_send(notification: Notification, now=None) -> bool:
    """Send one claimed row and record the outcome. True when sent."""
    now = now or timezone.now()
    template, scheme = notification.template, notification.scheme
    if not _lease_renewed(notification, now):
        return False  # its lease ran out and another worker took it: theirs to send
    try:
        context = _message_context(notification, now)
        if context is None:
            Notification.objects.filter(
                pk=notification.pk, status=NotificationStatus.PENDING
            ).update(status=NotificationStatus.SKIPPED, lease_until=None)
            return False
        if notification.channel == Channel.EMAIL:
            email_send(
                email_build(
                    template=template,
                    context=context,
                    scheme=scheme,
                    to=notification.email_address,
                )
            )
        else:
            text = sms_build(template=template, context=context, scheme=scheme)
            get_sms_backend().send(notification, text)
    except ChannelError as error:
        return _failed(notification, str(error), now)
    except Exception as error:  # a channel bug must not lose the message: retry it
        logger.exception("notification %s failed", notification.pk)
        return _failed(notification, type(error).__name__, now)
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.SENT, sent_at=now, lease_until=None, last_error=""
    )
    return True


def _failed(notification, error: str, now) -> bool:
    # Safety alerts are never given up: they keep retrying, at least once a minute.
    urgent = is_safety_alert(notification.template)
    gave_up = notification.attempts >= MAX_ATTEMPTS and not urgent
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.FAILED if gave_up else NotificationStatus.PENDING,
        next_attempt_at=now + backoff(notification.attempts, urgent=urgent),
        lease_until=None,
        last_error=error[:200],
    )
    logger.warning("notification %s attempt %s failed", notification.pk, notification.attempts)
    return False


def notifications_send_now(rows: list[Notification], *, now=None) -> int:
    """Claim and send these rows from this process, now (when Celery may be what is down).
    A row another worker holds or has sent is left to it. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for row in rows:
        claimed = (
            _claimable(now)
            .filter(pk=row.pk)
            .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
        )
        if claimed:
            fresh = Notification.objects.select_related("recipient__profile", "scheme").get(
                pk=row.pk
            )
            sent += notification_send(fresh, now=now)
    return sent


def notifications_deliver(*, now=None, limit=CLAIM_BATCH) -> int:
    """Claim and send due notifications until none is left. Returns how many were sent."""
    sent = 0
    while True:
        batch = notifications_claim(now=now, limit=limit)
        if not batch:
            return sent
        sent += sum(notification_send(n, now=now) for n in batch)
