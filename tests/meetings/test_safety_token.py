"""A safety button always works (DESIGN §3): check-out, extend and help carry a signed token
bound to the buddy, the meeting and its watch, so an expired session or a locked login cannot
lose them. Any other page still needs a login."""

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.core import signing
from django.test import Client

from buddyscheme.middleware import SESSION_STARTED_KEY
from meetings.access import SAFETY_TOKEN_SALT, safety_token, safety_token_expires
from meetings.models import Alert, Meeting, MeetingState, SafetyEvent

from ..base import PersonaTestCase
from ..factories import PASSWORD, book_meeting, cleared_buddy

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def field(html: str, action_url: str, name: str) -> str:
    """A hidden field's value inside the form posting to `action_url`."""
    start = html.index(f'action="{action_url}"')
    match = re.compile(rf'name="{name}" value="([^"]*)"').search(html, start)
    return match.group(1)


class SafetyTokenCase(PersonaTestCase):
    def setUp(self):
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        self.meeting = book_meeting(self.buddy_member, MONDAY_10AM)
        travel = time_machine.travel(MONDAY_10AM, tick=False)
        self.traveller = travel.start()
        self.addCleanup(travel.stop)

    def url(self, action, meeting=None):
        return f"/meetings/{(meeting or self.meeting).pk}/{action}/"

    def checked_in_page(self, client=None):
        """Log in, check in from Today, and return Today as the phone then shows it."""
        client = client or self.client
        client.force_login(self.buddy_member.user)
        page = client.get("/today/").content.decode()
        client.post(
            self.url("check-in"),
            {
                "key": field(page, self.url("check-in"), "key"),
                "csrfmiddlewaretoken": field(page, self.url("check-in"), "csrfmiddlewaretoken"),
            },
        )
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_IN)
        return client.get("/today/").content.decode()

    def check_out_fields(self, page):
        return {
            name: field(page, self.url("check-out"), name)
            for name in ("key", "safety_token", "csrfmiddlewaretoken")
        }

    def assert_session_gone(self, client=None):
        response = (client or self.client).get("/today/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])


class CheckOutWithoutSessionTest(SafetyTokenCase):
    def test_check_out_45_minutes_idle_is_recorded_once_with_a_clear_page(self):
        page = self.checked_in_page()
        self.traveller.shift(timedelta(minutes=45))  # the 30-minute idle session has ended
        posted = self.check_out_fields(page)
        response = self.client.post(self.url("check-out"), posted)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "You have checked out safely")
        self.assertIn("no-store", response["Cache-Control"])
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_OUT)
        again = self.client.post(self.url("check-out"), posted)  # a retry on a poor signal
        self.assertContains(again, "You have checked out safely")
        events = SafetyEvent.objects.filter(meeting=self.meeting, kind="check_out")
        self.assertEqual(events.count(), 1)
        self.assertEqual(events.get().by, self.buddy_member.user)
        # The token opened nothing else: every other page still asks for a login.
        self.assert_session_gone()

    def test_csrf_is_still_checked_and_the_page_token_outlives_the_session(self):
        client = Client(enforce_csrf_checks=True)
        page = self.checked_in_page(client)
        self.assertGreaterEqual(settings.CSRF_COOKIE_AGE, 24 * 60 * 60)
        self.traveller.shift(timedelta(minutes=45))
        posted = self.check_out_fields(page)
        without_csrf = {k: v for k, v in posted.items() if k != "csrfmiddlewaretoken"}
        self.assertEqual(client.post(self.url("check-out"), without_csrf).status_code, 403)
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_IN)
        response = client.post(self.url("check-out"), posted)
        self.assertContains(response, "You have checked out safely")
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_OUT)

    def test_a_locked_login_does_not_lock_the_buttons(self):
        page = self.checked_in_page()
        self.client.logout()
        for _ in range(5):
            self.client.post(
                "/accounts/login/",
                {"login": self.buddy_member.user.email, "password": "someone guessing"},
            )
        locked = self.client.post(
            "/accounts/login/", {"login": self.buddy_member.user.email, "password": PASSWORD}
        )
        self.assertContains(locked, "Too many failed login attempts")
        response = self.client.post(self.url("check-out"), self.check_out_fields(page))
        self.assertContains(response, "You have checked out safely")
        self.assertEqual(SafetyEvent.objects.filter(kind="check_out").count(), 1)

    def test_the_twelve_hour_limit_does_not_swallow_a_check_out(self):
        page = self.checked_in_page()
        session = self.client.session
        session[SESSION_STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_TIMEOUT - 60
        session.save()
        response = self.client.post(self.url("check-out"), self.check_out_fields(page))
        self.assertContains(response, "You have checked out safely")
        self.assertEqual(SafetyEvent.objects.filter(kind="check_out").count(), 1)
        self.assert_session_gone()

    def test_a_live_session_decides_as_before(self):
        page = self.checked_in_page()
        self.client.force_login(self.buddy)  # someone else signed in on this phone
        response = self.client.post(self.url("check-out"), self.check_out_fields(page))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SafetyEvent.objects.filter(kind="check_out").exists())


class ExtendAndHelpWithoutSessionTest(SafetyTokenCase):
    def test_extend_then_check_out_from_the_page_it_returns(self):
        page = self.checked_in_page()
        self.client.logout()
        response = self.client.post(
            self.url("extend"),
            {
                "key": field(page, self.url("extend"), "key"),
                "safety_token": field(page, self.url("extend"), "safety_token"),
                "minutes": "30",
            },
        )
        self.assertContains(response, "finish by 11:30")
        self.assertContains(response, "You are still checked in")
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.extended_minutes, 30)
        # The page it returns carries a token for the new watch: extend and check out work.
        html = response.content.decode()
        self.client.post(
            self.url("extend"),
            {
                "key": field(html, self.url("extend"), "key"),
                "safety_token": field(html, self.url("extend"), "safety_token"),
                "minutes": "15",
            },
        )
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.extended_minutes, 45)
        done = self.client.post(self.url("check-out"), self.check_out_fields(html))
        self.assertContains(done, "You have checked out safely")

    def test_an_older_watch_may_check_out_and_ask_for_help_but_not_extend(self):
        page = self.checked_in_page()
        self.client.post(
            self.url("extend"),
            {"key": "extended-while-signed-in", "minutes": "15"},
        )
        self.client.logout()
        stale_extend = self.client.post(
            self.url("extend"),
            {
                "key": field(page, self.url("extend"), "key"),
                "safety_token": field(page, self.url("extend"), "safety_token"),
                "minutes": "60",
            },
        )
        self.assertContains(stale_extend, "already asked for more time", status_code=200)
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.extended_minutes, 15)
        help_link = re.search(r'href="(/meetings/\d+/help/\?t=[^"]+)"', page).group(1)
        confirm = self.client.get(help_link.replace("&amp;", "&"))
        self.assertContains(confirm, "Yes, send for help")
        html = confirm.content.decode()
        key = re.search(r'name="key" value="([^"]+)"', html).group(1)
        token = re.search(r'name="safety_token" value="([^"]+)"', html).group(1)
        sent = self.client.post(self.url("help"), {"key": key, "safety_token": token})
        self.assertEqual(sent.status_code, 200)
        alert = Alert.objects.get(meeting=self.meeting, reason="help")
        self.assertEqual(alert.level, 3)
        done = self.client.post(self.url("check-out"), self.check_out_fields(page))
        self.assertContains(done, "You have checked out safely")


class RefusedTokenTest(SafetyTokenCase):
    def assert_refused(self, response, words):
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, words, status_code=403)
        self.assertContains(response, "call 999", status_code=403)
        self.meeting.refresh_from_db()
        self.assertEqual(self.meeting.state, MeetingState.CHECKED_IN)
        self.assertFalse(SafetyEvent.objects.filter(kind="check_out").exists())

    def test_a_tampered_token(self):
        posted = self.check_out_fields(self.checked_in_page())
        self.client.logout()
        token = posted["safety_token"]
        posted["safety_token"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        self.assert_refused(self.client.post(self.url("check-out"), posted), "did not work")
        posted["safety_token"] = "not a token at all"
        self.assert_refused(self.client.post(self.url("check-out"), posted), "did not work")

    def test_a_token_for_another_meeting(self):
        posted = self.check_out_fields(self.checked_in_page())
        self.client.logout()
        other = book_meeting(self.buddy_member, MONDAY_10AM + timedelta(hours=3))
        response = self.client.post(self.url("check-out", other), posted)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(Meeting.objects.get(pk=other.pk).state, MeetingState.PLANNED)

    def test_a_button_the_token_did_not_carry(self):
        """A planned meeting's token carries help only: it cannot check in or out."""
        self.client.force_login(self.buddy_member.user)
        page = self.client.get("/today/").content.decode()
        self.client.logout()
        token = re.search(r"\?t=([^\"]+)\"", page).group(1)
        response = self.client.post(self.url("check-in"), {"key": "k", "safety_token": token})
        self.assertEqual(response.status_code, 302)  # check-in is not a token button: login
        self.assertIn("/accounts/login/", response["Location"])
        self.assertFalse(SafetyEvent.objects.exists())

    def test_an_expired_token(self):
        posted = self.check_out_fields(self.checked_in_page())
        self.client.logout()
        self.traveller.move_to(safety_token_expires(self.meeting) + timedelta(seconds=1))
        self.assert_refused(self.client.post(self.url("check-out"), posted), "expired")

    def test_the_token_names_ids_only(self):
        token = safety_token(self.meeting)
        payload = signing.loads(token, salt=SAFETY_TOKEN_SALT)
        self.assertEqual(
            payload, [self.buddy_member.pk, self.meeting.pk, self.meeting.cycle, ["help"]]
        )
        self.assertNotIn(self.buddy_member.user.email.split("@")[0], token)


class PostMeetsTheLoginPageTest(SafetyTokenCase):
    """Any other form sent after the session ended: the login, then back where it was, no 405."""

    def test_back_to_the_page_the_form_was_on_with_a_message(self):
        change_page = self.url("change")
        response = self.client.post(
            self.url("cancel"), {"reason": "ill"}, HTTP_REFERER=f"http://testserver{change_page}"
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], f"/accounts/login/?next={change_page}")
        login = self.client.get(response["Location"])
        self.assertContains(login, "You were signed out, so what you sent was not saved")
        signed_in = self.client.post(
            response["Location"],
            {"login": self.buddy_member.user.email, "password": PASSWORD},
            follow=True,
        )
        self.assertEqual(signed_in.status_code, 200)
        self.assertEqual(signed_in.redirect_chain[-1][0], change_page)
        self.assertEqual(Meeting.objects.get(pk=self.meeting.pk).state, MeetingState.PLANNED)

    def test_without_a_page_to_go_back_to_the_home_page(self):
        response = self.client.post(self.url("check-in"), {"key": "k"})
        self.assertEqual(response["Location"], "/accounts/login/?next=/")
        response = self.client.post(
            self.url("check-in"), {"key": "k"}, HTTP_REFERER="https://elsewhere.example/today/"
        )
        self.assertEqual(response["Location"], "/accounts/login/?next=/")


class HelpWithoutSessionTest(SafetyTokenCase):
    def test_help_then_i_am_safe_now_without_a_session(self):
        self.client.force_login(self.buddy_member.user)
        page = self.client.get("/today/").content.decode()  # planned: help is its one button
        self.client.logout()
        help_link = re.search(r'href="(/meetings/\d+/help/\?t=[^"]+)"', page).group(1)
        confirm = self.client.get(help_link).content.decode()
        sent = self.client.post(
            self.url("help"),
            {
                "key": re.search(r'name="key" value="([^"]+)"', confirm).group(1),
                "safety_token": re.search(r'name="safety_token" value="([^"]+)"', confirm).group(1),
            },
        )
        self.assertContains(sent, "You asked for help")
        html = sent.content.decode()
        self.assertNotIn("hx-get", html)  # the banner's reload needs a session
        alert = Alert.objects.get(meeting=self.meeting, reason="help")
        self.assertEqual(SafetyEvent.objects.get(kind="help").by, self.buddy_member.user)
        safe = self.client.post(
            self.url("safe"),
            {
                "key": field(html, self.url("safe"), "key"),
                "safety_token": field(html, self.url("safe"), "safety_token"),
            },
        )
        self.assertContains(safe, "We have told the team you are safe")
        self.assertEqual(SafetyEvent.objects.filter(kind="safe").count(), 1)
        alert.refresh_from_db()
        self.assertIsNone(alert.resolved_at)  # a responder closes it after speaking to them

    def test_a_planned_meetings_token_cannot_check_out(self):
        token = safety_token(self.meeting)
        response = self.client.post(self.url("check-out"), {"key": "k", "safety_token": token})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(SafetyEvent.objects.exists())
