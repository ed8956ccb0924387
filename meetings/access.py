"""Authorisation for meetings and alerts, built on buddyscheme.access (404 other scheme, 403 role)."""

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import Alert, Meeting


def get_meeting_for_user(request, pk: int) -> Meeting:
    """Coordinators see every meeting of their scheme; a buddy only their own."""
    qs = Meeting.objects.select_related("venue", "scheme", "buddy__user__profile")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR], own_paths=["buddy"]
    )


def get_own_meeting_for_buddy(request, pk: int) -> Meeting:
    """A buddy's own meeting, for them to change or cancel. Coordinators use their own pages;
    whether it can still change (planned, not started) is the services' rule."""
    qs = Meeting.objects.select_related("venue", "scheme", "buddy__user", "match")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[], own_paths=["buddy"]
    )


def get_alert_for_user(request, pk: int) -> Alert:
    qs = Alert.objects.select_related("meeting__scheme")
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="meeting__scheme_id", roles=[Role.COORDINATOR]
    )
