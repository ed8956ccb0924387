"""Reads for the responder pages: who an alert reached, in a fixed number of queries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from buddyscheme.models import Role
from meetings import services
from meetings.selectors import alert_recipients, people_alerted

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy

pytestmark = pytest.mark.django_db
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("UTC"))


def on_call_responders(scheme, count):
    for _ in range(count):
        responder = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
        responder.user.profile.phone = "07700 900123"
        responder.user.profile.save()


def help_pressed(scheme, responders):
    """A meeting whose help request reached `responders` new on-call people on two channels."""
    on_call_responders(scheme, responders)
    buddy = cleared_buddy(scheme)
    meeting = book_meeting(buddy, MONDAY_10AM)
    services.meeting_check_in(meeting=meeting, key=f"in-{buddy.pk}", by=None, now=MONDAY_10AM)
    services.sweep(now=MONDAY_10AM + timedelta(minutes=80))  # levels 1 and 2 too
    alert = services.meeting_help(
        meeting=meeting, key=f"help-{buddy.pk}", by=None, now=MONDAY_10AM + timedelta(minutes=81)
    )
    return meeting, alert


def test_alert_recipients_say_who_on_which_channel_and_how_it_went():
    scheme = SchemeFactory()
    meeting, alert = help_pressed(scheme, 2)
    rows = list(alert_recipients(alert))
    assert len(rows) == 4
    assert {row.alert_id for row in rows} == {alert.pk}
    assert sorted(row.channel for row in rows) == ["email", "email", "sms", "sms"]
    assert all(row.notification.recipient_id == row.person_id for row in rows)


def test_people_alerted_by_the_meeting_or_by_some_of_its_alerts():
    scheme = SchemeFactory()
    meeting, help_alert = help_pressed(scheme, 2)
    responders = set(help_alert.recipients.values_list("person_id", flat=True))
    buddy = meeting.buddy.user_id
    assert {user.pk for user in people_alerted(meeting, alerts=[help_alert])} == responders
    prompt = meeting.alerts.filter(level=1)
    assert [user.pk for user in people_alerted(meeting, alerts=prompt)] == [buddy]
    everyone = [user.pk for user in people_alerted(meeting)]
    assert sorted(everyone) == sorted(set(everyone)) == sorted(responders | {buddy})
    other_meeting, _ = help_pressed(scheme, 1)
    assert list(people_alerted(other_meeting, alerts=[help_alert])) == []


@pytest.mark.parametrize("selector", ["alert_recipients", "people_alerted"])
def test_queries_stay_flat_as_recipients_grow(selector, django_assert_num_queries):
    def read(meeting, alert):
        if selector == "alert_recipients":
            return [
                (row.person.display_name, row.channel, row.notification.status)
                for row in alert_recipients(alert)
            ]
        return [person.display_name for person in people_alerted(meeting)]

    scheme = SchemeFactory()
    few = help_pressed(scheme, 1)
    many = help_pressed(scheme, 12)
    with django_assert_num_queries(1):
        few_rows = read(*few)
    with django_assert_num_queries(1):
        many_rows = read(*many)
    assert len(many_rows) > len(few_rows) + 10
