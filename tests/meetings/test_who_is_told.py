"""Who each alert reaches, and who gets the all-clear: active members of this scheme, never nobody."""

import pytest

from buddyscheme.models import Membership, Role
from buddyscheme.services import membership_deactivate
from meetings import services
from meetings.models import OnCallShift

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy
from .net import MONDAY_10AM, checked_in, minutes, told

pytestmark = pytest.mark.django_db


def test_the_on_call_flag_decides_who_a_level_3_alert_reaches(people, scheme):
    # A buddy flagged on call is reached; the plain coordinator, an on-call member who has
    # left, and another scheme's on-call responder are not.
    on_call_buddy = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, is_on_call=True, user__email="volunteer-on-call@example.org"
    )
    MembershipFactory(
        scheme=scheme,
        role=Role.BUDDY,
        is_on_call=True,
        is_active=False,
        user__email="left@example.org",
    )
    MembershipFactory(is_on_call=True, role=Role.COORDINATOR, user__email="elsewhere@example.org")
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    reached = sorted(user.email for user in services.recipients(meeting, 3, now=MONDAY_10AM))
    assert reached == sorted([people["on_call"].user.email, on_call_buddy.user.email])

    # Take the flag away from everyone and the coordinators are reached instead, never nobody.
    Membership.objects.filter(scheme=scheme).update(is_on_call=False)
    reached = sorted(user.email for user in services.recipients(meeting, 3, now=MONDAY_10AM))
    assert reached == ["coord@example.org", "oncall@example.org"]


def test_no_all_clear_to_help_responders_while_help_is_open(people, scheme):
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    meeting = checked_in(people, support_person=support)
    services.sweep(now=MONDAY_10AM + minutes(80))  # level 1 (buddy), level 2 (support)
    services.meeting_help(
        meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(82)
    )
    assert "oncall@example.org" in told("alert_help")
    services.meeting_check_out(
        meeting=meeting, key="out", by=None, now=MONDAY_10AM + minutes(83)
    )  # someone may be pressing it for the buddy
    assert meeting.alerts.get(reason="help").resolved_at is None
    # The on-call responder was alerted only for the help request, which is still open:
    # "All clear … the buddy is safe. No further action is needed" must not reach them.
    assert "oncall@example.org" not in told("all_clear")


def test_each_person_gets_one_all_clear_per_alert_they_received(people):
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(10))  # coordinators told: missed check-in
    services.meeting_check_in(
        meeting=meeting, key="late", by=people["buddy"].user, now=MONDAY_10AM + minutes(15)
    )  # all-clear to the coordinators
    assert told("all_clear") == ["coord@example.org", "oncall@example.org"]
    services.sweep(now=MONDAY_10AM + minutes(70))  # level 1: only the buddy is prompted
    services.meeting_check_out(
        meeting=meeting, key="out", by=people["buddy"].user, now=MONDAY_10AM + minutes(72)
    )
    # Nobody but the buddy was alerted in this round, so nobody needs a second all-clear.
    assert told("all_clear") == ["coord@example.org", "oncall@example.org"]


def test_a_deactivated_responder_on_the_rota_is_not_the_only_one_told(scheme):
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    gone = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="gone@example.org")
    OnCallShift.objects.create(
        scheme=scheme,
        responder=gone,
        starts_at=MONDAY_10AM - minutes(120),
        ends_at=MONDAY_10AM + minutes(600),
    )
    membership_deactivate(membership=gone)  # left the scheme; the rota row stays
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    meeting = book_meeting(buddy, MONDAY_10AM)
    services.meeting_help(meeting=meeting, key="help", by=buddy.user, now=MONDAY_10AM + minutes(5))
    assert told("alert_help") == ["coord@example.org"]


def test_a_deactivated_support_person_is_not_the_only_one_told(people, scheme):
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    checked_in(people, support_person=support)
    membership_deactivate(membership=support)
    services.sweep(now=MONDAY_10AM + minutes(80))  # level 2 due
    assert "support@example.org" not in told("alert_overdue")
    assert told("alert_overdue"), "level 2 reached nobody who is still in the scheme"


def test_level_three_never_reaches_a_member_of_another_scheme(people, scheme):
    other = MembershipFactory(
        scheme=SchemeFactory(name="Other scheme"),
        role=Role.COORDINATOR,
        user__email="other-scheme@example.org",
    )
    # A rota row pointing at another scheme's membership (the admin's raw-id field allows it).
    OnCallShift.objects.create(
        scheme=scheme,
        responder=other,
        starts_at=MONDAY_10AM - minutes(120),
        ends_at=MONDAY_10AM + minutes(600),
    )
    meeting = checked_in(people)
    services.meeting_help(meeting=meeting, key="help", by=None, now=MONDAY_10AM + minutes(5))
    assert "other-scheme@example.org" not in told("alert_help")


def test_level_three_with_a_support_person_and_nobody_on_call_reaches_someone_new(scheme):
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org")
    support = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="support@example.org"
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    meeting = book_meeting(buddy, MONDAY_10AM, support_person=support)
    services.meeting_check_in(meeting=meeting, key="in", by=buddy.user, now=MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + minutes(90))
    assert told("alert_overdue") == ["support@example.org"]
    # Level 3 (nobody acknowledged level 2) goes to exactly the same one person again.
    assert told("alert_urgent") != ["support@example.org"]
