"""The buddy's private calendar address: made when they first ask for it, replaced on request."""

from __future__ import annotations

from django.db import transaction

from buddyscheme.audit import audit_record
from buddyscheme.models import Membership

from ..models import CalendarFeed


def _lock(membership: Membership) -> None:
    # Two presses at once (a double tap, two devices) queue here instead of racing each other
    # to the feed's one-per-buddy unique constraint.
    Membership.objects.select_for_update().filter(pk=membership.pk).first()


def calendar_feed_create(membership: Membership, by) -> CalendarFeed:
    """The buddy's calendar address, made the first time they ask; the same one after that."""
    with transaction.atomic():
        _lock(membership)
        feed, created = CalendarFeed.objects.get_or_create(membership=membership)
        if created:
            audit_record(
                actor=by, verb="calendar_feed_create", obj=feed, scheme=membership.scheme_id
            )
    return feed


def calendar_feed_reset(membership: Membership, by) -> CalendarFeed:
    """A new address; the old one stops working at once (a lost phone, a calendar shared by
    mistake). Delete and create in one transaction, so the buddy is never left with none."""
    with transaction.atomic():
        _lock(membership)
        CalendarFeed.objects.filter(membership=membership).delete()
        feed = CalendarFeed.objects.create(membership=membership)
        audit_record(actor=by, verb="calendar_feed_reset", obj=feed, scheme=membership.scheme_id)
    return feed
