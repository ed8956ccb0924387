"""Location only when it matters: sent with a help request or a duress check-out, kept only if
the buddy allowed it, shown only to that alert's responders, deleted after the alert."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from buddyscheme.celery import app
from meetings import selectors, services, tasks
from meetings.models import AlertLocation, LoneWorkingSettings

from ..base import PersonaTestCase
from ..factories import MembershipFactory, book_meeting, cleared_buddy
from .net import MONDAY_10AM, checked_in, minutes

UTC = ZoneInfo("UTC")
HERE = {"latitude": "51.507351", "longitude": "-0.127758", "accuracy": "23.4"}
POSITION = services.Position(Decimal("51.507351"), Decimal("-0.127758"), 23)


def allow_sharing(membership, allowed=True):
    services.location_sharing_set(membership=membership, allowed=allowed)


def help_pressed(people, key="help", at=None, position=POSITION, meeting=None):
    meeting = meeting or checked_in(people)
    alert = services.meeting_help(
        meeting=meeting, key=key, by=people["buddy"].user, now=at or MONDAY_10AM + minutes(20)
    )
    services.alert_location_record(alert=alert, position=position, now=MONDAY_10AM + minutes(20))
    return alert


@pytest.mark.django_db
class TestKeptOnlyWhenItMatters:
    def test_help_keeps_the_position_when_the_buddy_allowed_it(self, people):
        allow_sharing(people["buddy"])
        alert = help_pressed(people)
        location = selectors.alert_location(alert)
        assert (location.latitude, location.longitude, location.accuracy_metres) == (
            Decimal("51.507351"),
            Decimal("-0.127758"),
            23,
        )

    def test_nothing_is_kept_when_the_buddy_did_not_allow_it(self, people):
        alert = help_pressed(people)
        allow_sharing(people["buddy"], False)
        help_pressed(people, key="again", meeting=alert.meeting)
        assert not AlertLocation.objects.exists()

    def test_never_kept_for_an_ordinary_check_out(self, people):
        """Every PIN check-out sends the position (the phone cannot know which PIN it was);
        only a duress check-out keeps it."""
        allow_sharing(people["buddy"])
        services.buddy_pins_set(membership=people["buddy"], check_out_pin="2468", duress_pin="1357")
        meeting = checked_in(people)
        services.meeting_check_out_with_pin(
            meeting=meeting, key="out", pin="2468", by=None, position=POSITION
        )
        assert not AlertLocation.objects.exists()

    def test_kept_with_a_duress_check_out(self, people):
        allow_sharing(people["buddy"])
        services.buddy_pins_set(membership=people["buddy"], check_out_pin="2468", duress_pin="1357")
        meeting = checked_in(people)
        services.meeting_check_out_with_pin(
            meeting=meeting, key="out", pin="1357", by=None, position=POSITION
        )
        assert AlertLocation.objects.get().alert.reason == "duress"

    def test_never_kept_for_a_timing_alert(self, people):
        allow_sharing(people["buddy"])
        meeting = checked_in(people)
        services.sweep(now=MONDAY_10AM + minutes(75))
        alert = meeting.alerts.get()
        assert services.alert_location_record(alert=alert, position=POSITION) is None

    @pytest.mark.parametrize(
        "posted",
        [
            {},
            {"latitude": "", "longitude": ""},
            {"latitude": "91", "longitude": "0"},
            {"latitude": "51.5", "longitude": "nan"},
            {"latitude": "<script>", "longitude": "0"},
        ],
    )
    def test_a_missing_or_strange_position_is_ignored(self, posted):
        assert services.position_from(posted) is None

    def test_a_posted_position(self):
        assert services.position_from(HERE) == POSITION


@pytest.mark.django_db
class TestDeletedAfterTheAlert:
    def test_deleted_the_set_number_of_days_after_the_alert_is_resolved(self, people):
        allow_sharing(people["buddy"])
        alert = help_pressed(people)
        services.locations_expire(now=MONDAY_10AM + timedelta(days=30))
        assert AlertLocation.objects.count() == 1, "deleted while the alert was still open"
        resolved_at = MONDAY_10AM + minutes(40)
        services.alert_resolve(
            alert=alert, by=people["on_call"].user, outcome="safe", now=resolved_at
        )
        services.locations_expire(now=resolved_at + timedelta(days=7) - minutes(1))
        assert AlertLocation.objects.count() == 1
        services.locations_expire(now=resolved_at + timedelta(days=7))
        assert not AlertLocation.objects.exists()

    def test_the_scheme_sets_the_number_of_days(self, people):
        scheme = people["buddy"].scheme
        services.lone_working(scheme)
        LoneWorkingSettings.objects.filter(scheme=scheme).update(location_retention_days=2)
        allow_sharing(people["buddy"])
        alert = help_pressed(people)
        resolved_at = MONDAY_10AM + minutes(40)
        services.alert_resolve(
            alert=alert, by=people["on_call"].user, outcome="safe", now=resolved_at
        )
        with time_machine.travel(resolved_at + timedelta(days=2, minutes=1), tick=False):
            tasks.locations_expire.delay()
        assert not AlertLocation.objects.exists()

    def test_the_task_is_on_the_one_schedule(self):
        entry = app.conf.beat_schedule["expire-alert-locations"]
        assert entry["task"] == "meetings.tasks.locations_expire" == tasks.locations_expire.name


class LocationPagesTest(PersonaTestCase):
    def setUp(self):
        self.on_call = MembershipFactory(scheme=self.scheme, role="coordinator", is_on_call=True)
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        self.meeting = book_meeting(self.buddy_member, MONDAY_10AM)
        services.meeting_check_in(meeting=self.meeting, key="in", by=None, now=MONDAY_10AM)
        traveller = time_machine.travel(datetime(2026, 11, 30, 10, 20, tzinfo=UTC), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def _help(self, **posted):
        self.client.force_login(self.buddy_member.user)
        page = self.client.get(f"/meetings/{self.meeting.pk}/help/")
        html = page.content.decode()
        key_at = html.index('name="key" value="') + len('name="key" value="')
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/help/", {"key": html[key_at : key_at + 32], **posted}
        )
        self.assertContains(response, "We have told the on-call team")
        return page

    def test_the_help_page_asks_the_phone_only_when_the_buddy_allowed_it(self):
        page = self._help(**HERE)
        self.assertNotContains(page, "location.js")
        self.assertNotContains(page, 'name="latitude"')
        self.assertFalse(AlertLocation.objects.exists())
        allow_sharing(self.buddy_member)
        page = self._help(**HERE)
        self.assertContains(page, "/static/js/location.js")
        self.assertContains(page, "data-share-location")
        self.assertContains(page, 'name="latitude"')
        self.assertEqual(AlertLocation.objects.get().accuracy_metres, 23)

    def test_help_without_a_position_still_goes(self):
        allow_sharing(self.buddy_member)
        self._help(latitude="", longitude="", accuracy="")
        self.assertTrue(self.meeting.alerts.filter(reason="help").exists())
        self.assertFalse(AlertLocation.objects.exists())

    def test_the_check_out_form_sends_the_position_only_with_pins_and_sharing(self):
        self.client.force_login(self.buddy_member.user)
        allow_sharing(self.buddy_member)
        self.assertNotContains(self.client.get("/today/"), "data-share-location")
        services.meeting_check_out(meeting=self.meeting, key="out", by=None)
        services.buddy_pins_set(
            membership=self.buddy_member, check_out_pin="2468", duress_pin="1357"
        )
        # Within the check-in window (it opens 30 minutes before the start).
        book_meeting(self.buddy_member, datetime(2026, 11, 30, 10, 20, tzinfo=UTC))
        later = self.buddy_member.meetings.get(state="planned")
        services.meeting_check_in(meeting=later, key="in-2", by=None)
        today = self.client.get("/today/")
        self.assertContains(today, "data-share-location")
        self.assertContains(today, "/static/js/location.js")

    def test_the_board_shows_a_map_link_to_the_alerts_responders(self):
        allow_sharing(self.buddy_member)
        self._help(**HERE)
        self.login_as("coordinator")
        board = self.client.get("/coordinator/board/live/")
        self.assertContains(
            board,
            "https://www.openstreetmap.org/?mlat=51.507351&amp;mlon=-0.127758"
            "#map=17/51.507351/-0.127758",
        )
        self.assertContains(board, "to within about 23 m")
        self.login_as("other_coordinator")
        self.assertNotContains(self.client.get("/coordinator/board/live/"), "openstreetmap")
