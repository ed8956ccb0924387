"""After pressing help the buddy sees what is happening, and can say "I'm safe now"."""

import re

import pytest
import time_machine

from buddyscheme.models import Notification, Role
from buddyscheme.notifications import notifications_deliver
from meetings import services
from meetings.models import SafetyEvent

from ..factories import MembershipFactory
from .net import MONDAY_10AM, checked_in, minutes, open_alerts, rendered, told

pytestmark = pytest.mark.django_db

# The GSM 03.38 basic character set: anything else makes a text message Unicode (70 characters).
GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture
def help_pressed(people):
    """Checked in at 10:00; help pressed at 10:20, reaching the on-call coordinator."""
    people["on_call"].user.first_name = "Ruth"
    people["on_call"].user.last_name = "Okafor"
    people["on_call"].user.save()
    meeting = checked_in(people)
    alert = services.meeting_help(
        meeting=meeting, key="help", by=people["buddy"].user, now=MONDAY_10AM + minutes(20)
    )
    return meeting, alert


def page(client, people, url, moment):
    with time_machine.travel(moment, tick=False):
        client.force_login(people["buddy"].user)
        return client.get(url).content.decode()


def text(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def safe_now(meeting, people, key="safe", at=25):
    """The buddy taps "I'm safe now" `at` minutes past ten."""
    return services.meeting_safe_now(
        meeting=meeting, key=key, by=people["buddy"].user, now=MONDAY_10AM + minutes(at)
    )


class TestBanner:
    def test_today_says_when_help_was_asked_for_and_who_has_seen_it(
        self, client, people, help_pressed
    ):
        meeting, alert = help_pressed
        # Pressed through the service alone, nothing has left yet: the banner says so.
        before = text(page(client, people, "/today/", MONDAY_10AM + minutes(21)))
        assert "Help asked for at 10:20 · Not sent yet: call 999" in before
        assert "someone will call you" not in before
        notifications_deliver(now=MONDAY_10AM + minutes(21))
        sent = text(page(client, people, "/today/", MONDAY_10AM + minutes(21)))
        assert "Help asked for at 10:20 · Sent to Ruth at 10:21 · someone will call you" in sent
        services.alert_acknowledge(
            alert=alert, by=people["on_call"].user, now=MONDAY_10AM + minutes(22)
        )
        after = text(page(client, people, "/today/", MONDAY_10AM + minutes(23)))
        assert "Help asked for at 10:20 · Ruth has seen it 10:22 · someone will call you" in after
        assert "Okafor" not in after  # first names only

    def test_the_banner_fragment_polls_while_open_and_stops_once_closed(
        self, client, people, help_pressed
    ):
        meeting, alert = help_pressed
        today = page(client, people, "/today/", MONDAY_10AM + minutes(21))
        assert 'hx-get="/today/help-status/"' in today
        fragment = page(client, people, "/today/help-status/", MONDAY_10AM + minutes(21))
        assert "<html" not in fragment  # only the banner
        assert 'hx-trigger="every 5s"' in fragment and "I'm safe now" in fragment
        services.alert_resolve(
            alert=alert, by=people["on_call"].user, outcome="safe", now=MONDAY_10AM + minutes(30)
        )
        closed = page(client, people, "/today/help-status/", MONDAY_10AM + minutes(31))
        assert "hx-trigger" not in closed
        assert "Ruth closed it 10:30" in text(closed)
        assert "I'm safe now" not in closed
        # An hour later the banner has gone, and nothing polls.
        later = page(client, people, "/today/", MONDAY_10AM + minutes(91))
        assert "help-banner" not in later and "hx-trigger" not in later

    def test_no_banner_and_no_polling_without_a_help_request(self, client, people):
        checked_in(people)
        html = page(client, people, "/today/", MONDAY_10AM + minutes(5))
        assert "Help asked for" not in html and "hx-get" not in html

    def test_the_page_after_pressing_help_shows_the_banner(self, client, people):
        meeting = checked_in(people)
        with time_machine.travel(MONDAY_10AM + minutes(20), tick=False):
            client.force_login(people["buddy"].user)
            response = client.post(f"/meetings/{meeting.pk}/help/", {"key": "k1"})
        html = text(response.content.decode())
        # The request itself sent the messages, so the page can say who has them.
        assert "We have told the on-call team" in html
        assert "Help asked for at 10:20 · Sent to" in html
        assert Notification.objects.filter(template="alert_help", status="pending").count() == 0
        assert "I'm safe now" in html


class TestSafeNow:
    def test_everyone_the_help_request_reached_is_told_once(self, people, help_pressed):
        meeting, alert = help_pressed
        safe_now(meeting, people)
        safe_now(meeting, people)  # the same post again (poor signal)
        safe_now(meeting, people, key="another-tap", at=26)  # pressed again
        assert SafetyEvent.objects.filter(kind="safe").count() == 1
        assert told("buddy_safe") == told("alert_help") == ["oncall@example.org"]

    def test_it_does_not_close_the_help_request(self, people, help_pressed):
        meeting, alert = help_pressed
        safe_now(meeting, people)
        assert open_alerts(meeting) == [alert]
        assert told("all_clear") == []

    def test_the_banner_says_so_and_the_button_goes(self, client, people, help_pressed):
        meeting, _ = help_pressed
        with time_machine.travel(MONDAY_10AM + minutes(25), tick=False):
            client.force_login(people["buddy"].user)
            today = client.get("/today/").content.decode()
            key = re.search(r'name="key" value="([0-9a-f]+)"', today[today.index("help-status") :])
            response = client.post(
                f"/meetings/{meeting.pk}/safe/", {"key": key.group(1)}, follow=True
            )
        html = text(response.content.decode())
        assert "We have told the team you are safe" in html
        assert "You told us you are safe at 10:25." in html
        assert "I'm safe now" not in html
        assert "You asked for help" in html  # still open until a responder closes it

    def test_a_later_help_request_needs_its_own(self, people, help_pressed):
        meeting, alert = help_pressed
        safe_now(meeting, people)
        services.alert_resolve(
            alert=alert, by=people["on_call"].user, outcome="safe", now=MONDAY_10AM + minutes(30)
        )
        services.meeting_help(
            meeting=meeting, key="help-2", by=people["buddy"].user, now=MONDAY_10AM + minutes(40)
        )
        safe_now(meeting, people, key="safe-2", at=45)
        assert SafetyEvent.objects.filter(kind="safe").count() == 2
        assert len(told("buddy_safe")) == 2

    def test_once_the_team_has_closed_it_there_is_nothing_to_say(self, people, help_pressed):
        from buddyscheme.errors import DomainError

        meeting, alert = help_pressed
        services.alert_resolve(
            alert=alert, by=people["on_call"].user, outcome="safe", now=MONDAY_10AM + minutes(30)
        )
        with pytest.raises(DomainError, match="already closed your request"):
            safe_now(meeting, people, at=31)
        assert not SafetyEvent.objects.filter(kind="safe").exists()

    def test_only_the_buddy_whose_meeting_it_is(self, client, people, help_pressed, scheme):
        meeting, _ = help_pressed
        other = MembershipFactory(scheme=scheme, role=Role.BUDDY)
        client.force_login(other.user)
        assert client.post(f"/meetings/{meeting.pk}/safe/", {"key": "x"}).status_code == 403
        assert not SafetyEvent.objects.filter(kind="safe").exists()


def test_the_message_is_neutral_and_fits_one_text(people, help_pressed, scheme, settings):
    meeting, _ = help_pressed
    people["on_call"].user.profile.phone = "07700 900123"
    people["on_call"].user.profile.save()
    scheme.sender_name = "Appointments"
    scheme.save()
    settings.SITE_URL = "https://buddies.example.org.uk"
    safe_now(meeting, people)
    messages = Notification.objects.filter(template="buddy_safe")
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    for message in messages:
        subject, body, sms = rendered(message)
        assert subject == f"Update: the buddy says they are safe (ref {meeting.pk})"
        assert 'tapped "I\'m safe now" at 10:25' in body
        for secret in ("HIV", "Positive", "Coffee", meeting.venue.name):
            assert secret not in subject + body + sms
        assert len(sms) <= 160 and set(sms) <= GSM_7, sms
