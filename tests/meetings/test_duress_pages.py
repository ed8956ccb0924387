"""The buddy's pages for PINs: the safety page, and a duress check-out that looks ordinary."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction

from buddyscheme.models import Notification
from meetings import services
from meetings.models import Alert, BuddySafety, CalendarFeed, MeetingState, SafetyEvent

from ..base import PersonaTestCase
from ..factories import MembershipFactory, book_meeting, cleared_buddy

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CHECK_OUT_PIN, DURESS_PIN = "2468", "1357"


def without_secrets(html: str) -> str:
    """The page with its CSRF tokens and idempotency keys blanked out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)
    return re.sub(r'name="key" value="[^"]*"', 'name="key"', html)


class SafetyPageTest(PersonaTestCase):
    def setUp(self):
        self.client.force_login(self.buddy)

    def test_set_both_pins(self):
        page = self.client.get("/safety/")
        self.assertContains(page, "You have not set your PINs yet.")
        response = self.client.post(
            "/safety/pins/",
            {
                "check_out_pin": CHECK_OUT_PIN,
                "check_out_pin_again": CHECK_OUT_PIN,
                "duress_pin": DURESS_PIN,
                "duress_pin_again": DURESS_PIN,
            },
            follow=True,
        )
        self.assertContains(response, "Your PINs are saved.")
        self.assertContains(response, "You have set your PINs.")
        self.assertTrue(BuddySafety.objects.get(membership=self.buddy_membership).has_pins)

    def test_errors_keep_nothing_secret_in_the_page(self):
        cases = [
            # typed twice, differently
            ({"check_out_pin_again": "2469"}, "This is not the same as the PIN above."),
            # the two PINs the same
            ({"duress_pin": CHECK_OUT_PIN, "duress_pin_again": CHECK_OUT_PIN}, "must be different"),
            # not 4 to 8 numbers
            ({"check_out_pin": "24", "check_out_pin_again": "24"}, "Use 4 to 8 numbers"),
        ]
        for change, error in cases:
            data = {
                "check_out_pin": CHECK_OUT_PIN,
                "check_out_pin_again": CHECK_OUT_PIN,
                "duress_pin": DURESS_PIN,
                "duress_pin_again": DURESS_PIN,
                **change,
            }
            response = self.client.post("/safety/pins/", data)
            self.assertContains(response, error)
            # Long random tokens (the CSRF token) may contain "24" by chance: leave them out.
            html = re.sub(r"[A-Za-z0-9]{32,}", "", response.content.decode())
            for typed in set(data.values()):
                self.assertNotIn(typed, html, f"{typed} came back in the page")
        self.assertFalse(BuddySafety.objects.exists())

    def test_location_sharing_is_the_buddys_choice(self):
        self.client.post("/safety/location/", {"share_location": "on"})
        self.assertTrue(services.location_sharing_allowed(self.buddy_membership))
        page = self.client.get("/safety/")
        self.assertContains(page, "deleted 7 days after the alert is closed")
        self.client.post("/safety/location/", {})
        self.assertFalse(services.location_sharing_allowed(self.buddy_membership))


class DuressCheckOutPageTest(PersonaTestCase):
    def setUp(self):
        MembershipFactory(
            scheme=self.scheme, role="coordinator", is_on_call=True, user__email="oncall@a.example"
        )
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        services.buddy_pins_set(
            membership=self.buddy_member, check_out_pin=CHECK_OUT_PIN, duress_pin=DURESS_PIN
        )
        CalendarFeed.objects.create(membership=self.buddy_member)  # the Today page shows it
        self.meeting = book_meeting(self.buddy_member, MONDAY_10AM)
        services.meeting_check_in(meeting=self.meeting, key="in", by=None, now=MONDAY_10AM)
        traveller = time_machine.travel(datetime(2026, 11, 30, 10, 45, tzinfo=UTC), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.client.force_login(self.buddy_member.user)

    def _key(self):
        html = self.client.get("/today/").content.decode()
        start = html.index(f'action="/meetings/{self.meeting.pk}/check-out/"')
        key_at = html.index('name="key" value="', start) + len('name="key" value="')
        return html[key_at : html.index('"', key_at)]

    def _check_out(self, pin):
        """Check out with `pin`, then undo everything it wrote: (the answer, the page it leads
        to, the alerts it raised)."""
        savepoint = transaction.savepoint_create()
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/check-out/", {"key": self._key(), "pin": pin}
        )
        page = self.client.get(response["Location"])
        alerts = list(Alert.objects.values_list("level", "reason"))
        to_buddy = Notification.objects.filter(recipient=self.buddy_member.user).count()
        self.meeting.refresh_from_db()
        state = self.meeting.state
        transaction.savepoint_rollback(savepoint)
        return response, page, alerts, to_buddy, state

    def test_the_form_asks_for_the_pin(self):
        page = self.client.get("/today/")
        self.assertContains(page, 'name="pin"')
        self.assertContains(page, "Your PIN")
        self.assertNotContains(page, 'name="latitude"')  # the buddy has not allowed sharing

    def test_a_duress_check_out_looks_exactly_like_an_ordinary_one(self):
        ordinary, ordinary_page, ordinary_alerts, _, ordinary_state = self._check_out(CHECK_OUT_PIN)
        duress, duress_page, duress_alerts, to_buddy, duress_state = self._check_out(DURESS_PIN)
        # What the phone gets: the same redirect, then the same page, byte for byte apart from
        # the CSRF token and the idempotency keys.
        self.assertEqual(
            (duress.status_code, duress["Location"], duress.content),
            (ordinary.status_code, ordinary["Location"], ordinary.content),
        )
        self.assertContains(duress_page, "You have checked out safely")
        self.assertEqual(
            without_secrets(duress_page.content.decode()),
            without_secrets(ordinary_page.content.decode()),
        )
        self.assertEqual([ordinary_state, duress_state], [MeetingState.CHECKED_OUT] * 2)
        # Only one of them raised the alert, and nothing went to the buddy.
        self.assertEqual(ordinary_alerts, [])
        self.assertEqual(duress_alerts, [(3, "duress")])
        self.assertEqual(to_buddy, 0)

    def test_a_wrong_pin_says_so_and_stays_checked_in(self):
        response = self.client.post(
            f"/meetings/{self.meeting.pk}/check-out/",
            {"key": self._key(), "pin": "9999"},
            follow=True,
        )
        self.assertContains(response, "That PIN is not right")
        self.assertContains(response, "I've left safely")
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_IN)
        self.assertEqual(SafetyEvent.objects.filter(kind="wrong_pin").count(), 1)
