"""Checking out, or asking for help, by replying to a text; the provider's webhook end to end."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import settings as django_settings
from django.http import QueryDict
from django.test import Client

from buddyscheme.channels import phone_e164, twilio_signature_valid
from buddyscheme.emails import sms_build, sms_reply_build
from buddyscheme.models import Notification
from buddyscheme.notifications import notifications_deliver
from meetings import services
from meetings.models import Alert, LoneWorkingSettings, MeetingState, SafetyEvent

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy
from .net import MONDAY_10AM, minutes, told

pytestmark = pytest.mark.django_db

TOKEN = "test-auth-token"
BUDDY_PHONE = "+447700900456"
WEBHOOK = "/sms/replies/"


@pytest.fixture
def twilio(settings):
    settings.SMS_AUTH_TOKEN = TOKEN
    settings.SMS_ACCOUNT_ID = "AC0123456789abcdef0123456789abcdef"
    settings.SMS_FROM = "+447700900000"
    return settings


@pytest.fixture
def buddy(people):
    member = people["buddy"]
    member.user.profile.phone = "07700 900456"
    member.user.profile.save()
    return member


def signed(params, url=None, token=TOKEN):
    """What Twilio sends: the signature over our public address and the sorted fields, computed
    here independently of the code under test."""
    import base64
    import hashlib
    import hmac

    url = url or django_settings.SITE_URL.rstrip("/") + WEBHOOK
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest())


def reply(body, sid="SM0123456789abcdef0123456789abcdef", number=BUDDY_PHONE, client=None):
    params = {
        "MessageSid": sid,
        "AccountSid": django_settings.SMS_ACCOUNT_ID,
        "From": number,
        "To": django_settings.SMS_FROM,
        "Body": body,
        "NumMedia": "0",
    }
    response = (client or Client()).post(
        WEBHOOK, params, headers={"X-Twilio-Signature": signed(params).decode()}
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    text = re.fullmatch(
        r'<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>(.*)</Message></Response>',
        response.content.decode(),
    )
    assert text, response.content
    return text.group(1)


def in_progress(buddy, start=MONDAY_10AM, key="in"):
    meeting = book_meeting(buddy, start)
    return services.meeting_check_in(meeting=meeting, key=key, by=None, now=start)


class TestSignature:
    """Twilio's own published examples, so this matches their scheme and not just itself."""

    URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    PARAMS = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }

    def test_twilios_example(self):
        assert twilio_signature_valid(
            self.URL, self.PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"
        )

    def test_twilios_example_with_a_repeated_field(self):
        params = QueryDict(mutable=True)
        for name, value in [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]:
            params.appendlist(name, value)
        assert twilio_signature_valid(self.URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", "12345")

    @pytest.mark.parametrize(
        ("url", "params", "signature", "token"),
        [
            (URL + "&extra=1", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"),
            (URL, {**PARAMS, "Digits": "9999"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345"),
            (URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321"),
            (URL, PARAMS, "", "12345"),
            (URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", ""),  # no token set: trust nothing
        ],
    )
    def test_anything_changed_fails(self, url, params, signature, token):
        assert not twilio_signature_valid(url, params, signature, token)


@pytest.mark.parametrize(
    "typed",
    ["07700 900456", "07700900456", "+44 7700 900456", "+44 (0)7700 900456", "0044 7700 900456"],
)
def test_numbers_are_written_as_the_provider_writes_them(typed):
    assert phone_e164(typed) == BUDDY_PHONE


class TestWebhookRefusesTheUnsigned:
    def test_unsigned_or_mis_signed_is_refused_and_changes_nothing(self, twilio, buddy):
        meeting = in_progress(buddy)
        params = {"MessageSid": "SM1", "From": BUDDY_PHONE, "Body": "OUT"}
        assert Client().post(WEBHOOK, params).status_code == 403
        forged = signed(params, token="guessed").decode()
        response = Client().post(WEBHOOK, params, headers={"X-Twilio-Signature": forged})
        assert response.status_code == 403
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_refused_when_no_auth_token_is_set(self, twilio, buddy):
        params = {"MessageSid": "SM1", "From": BUDDY_PHONE, "Body": "OUT"}
        signature = signed(params, token="").decode()
        twilio.SMS_AUTH_TOKEN = ""
        response = Client().post(WEBHOOK, params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403


class TestOut:
    @pytest.mark.parametrize("body", ["OUT", "out", "Out thanks", "  out.  ", "I'm out now x"])
    def test_out_checks_out_the_one_meeting_in_progress(self, twilio, buddy, body):
        meeting = in_progress(buddy)
        assert reply(body) == "Appointments: Thank you, you have checked out safely."
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
        event = meeting.safety_events.get(kind="check_out")
        assert (event.idempotency_key, event.by) == (
            "sms:SM0123456789abcdef0123456789abcdef",
            buddy.user,
        )

    def test_a_provider_retry_records_once_and_answers_the_same(self, twilio, buddy):
        in_progress(buddy)
        first, again = reply("OUT"), reply("OUT")
        assert first == again
        assert SafetyEvent.objects.filter(kind="check_out").count() == 1
        assert Notification.objects.count() == 0  # no "not checked in" notice on the retry

    def test_a_late_out_answers_the_alerts_and_sends_the_all_clear(self, twilio, buddy):
        meeting = in_progress(buddy)
        services.sweep(now=MONDAY_10AM + minutes(82))  # levels 1 and 2
        services.sms_reply_receive(
            from_number=BUDDY_PHONE, body="OUT", message_id="SMlate", now=MONDAY_10AM + minutes(85)
        )
        assert not meeting.alerts.filter(resolved_at__isnull=True).exists()
        assert told("all_clear") == ["coord@example.org", "oncall@example.org"]

    def test_no_meeting_in_progress_gets_a_clear_text_and_a_coordinator_notice(self, twilio, buddy):
        book_meeting(buddy, MONDAY_10AM)  # planned, never checked in
        assert reply("OUT") == (
            "Appointments: You are not checked in to an appointment, so nothing changed. "
            "Your coordinator will call you. If you are in danger, call 999."
        )
        reply("OUT")  # the provider retries
        assert told("sms_reply_unmatched") == ["coord@example.org", "oncall@example.org"]
        notice = Notification.objects.filter(template="sms_reply_unmatched").first()
        assert notice.context == {"membership_id": buddy.pk, "several": False}
        assert not Notification.objects.filter(recipient=buddy.user).exists()

    def test_two_meetings_in_progress_change_nothing(self, twilio, buddy):
        first = in_progress(buddy)
        second = in_progress(buddy, start=MONDAY_10AM + minutes(30), key="in-2")
        assert "more than one appointment, so nothing changed" in reply("out")
        for meeting in (first, second):
            meeting.refresh_from_db()
            assert meeting.state == MeetingState.CHECKED_IN
        assert Notification.objects.get(
            template="sms_reply_unmatched", recipient__email="coord@example.org", channel="email"
        ).context == {"membership_id": buddy.pk, "several": True}


class TestHelp:
    @pytest.mark.parametrize("body", ["HELP", "help", "Help please", "help cant get out"])
    def test_help_raises_the_top_level_alert(self, twilio, buddy, body):
        meeting = in_progress(buddy)
        assert reply(body) == (
            "Appointments: We have told the on-call team. Someone will phone you. "
            "If you are in danger, call 999."
        )
        alert = meeting.alerts.get()
        assert (alert.level, alert.reason) == (3, "help")
        assert told("alert_help") == ["oncall@example.org"]
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_help_with_no_meeting_in_progress_reaches_coordinators_and_on_call(self, twilio, buddy):
        assert "We have told the on-call team" in reply("HELP")
        assert told("alert_sms_help") == ["coord@example.org", "oncall@example.org"]
        assert not Alert.objects.exists()

    def test_help_with_two_meetings_in_progress_raises_help_on_both(self, twilio, buddy):
        in_progress(buddy)
        in_progress(buddy, start=MONDAY_10AM + minutes(30), key="in-2")
        reply("HELP")
        reply("HELP")  # retried
        assert Alert.objects.filter(reason="help").count() == 2


class TestOtherReplies:
    def test_an_unknown_number_gets_a_neutral_text_and_nothing_else(self, twilio, buddy):
        in_progress(buddy)
        for body in ("OUT", "HELP", "hello"):
            text = reply(body, number="+447700900999", sid=f"SM{body}")
            assert text == "Sorry, we could not match this message. If you are in danger, call 999."
        assert Notification.objects.count() == 0
        assert SafetyEvent.objects.exclude(kind="check_in").count() == 0

    def test_something_else_gets_the_instructions(self, twilio, buddy):
        meeting = in_progress(buddy)
        assert reply("thanks!") == (
            "Appointments: Reply OUT when you have left safely, HELP if you need help."
        )
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_another_role_with_the_number_is_not_a_buddy(self, twilio, people):
        people["coordinator"].user.profile.phone = BUDDY_PHONE
        people["coordinator"].user.profile.save()
        assert reply("OUT").startswith("Sorry, we could not match")


class TestPinsByText:
    @pytest.fixture
    def pins(self, buddy):
        scheme = buddy.scheme
        services.lone_working(scheme)
        LoneWorkingSettings.objects.filter(scheme=scheme).update(check_out_pin_required=True)
        services.buddy_pins_set(membership=buddy, check_out_pin="2468", duress_pin="1357")

    def test_out_needs_the_pin_when_the_scheme_asks_for_it(self, twilio, buddy, pins):
        meeting = in_progress(buddy)
        assert "Reply OUT and then your PIN" in reply("OUT", sid="SM1")
        assert "That PIN is not right" in reply("OUT 9999", sid="SM2")
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN
        assert reply("out 2468", sid="SM3").endswith("you have checked out safely.")

    def test_a_buddy_with_pins_must_text_one_even_when_the_scheme_does_not_ask(self, twilio, buddy):
        """A forged sender number must not be able to check out a buddy who uses PINs."""
        services.buddy_pins_set(membership=buddy, check_out_pin="2468", duress_pin="1357")
        meeting = in_progress(buddy)
        assert "Reply OUT and then your PIN" in reply("OUT", sid="SM1")
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN
        assert reply("OUT 2468", sid="SM2").endswith("you have checked out safely.")

    def test_the_duress_pin_by_text_answers_like_the_check_out_pin(self, twilio, buddy, pins):
        meeting = in_progress(buddy)
        ordinary_text = sms_reply_build(template="checked_out", scheme=buddy.scheme)
        assert reply("OUT 1357") == ordinary_text
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
        assert meeting.alerts.get().reason == "duress"
        assert told("alert_duress") == ["oncall@example.org"]


GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
MY_SMS_TEMPLATES = [
    "reminder_before",
    "reminder_check_out",
    "alert_duress",
    "alert_wrong_pins",
    "alert_sms_help",
    "sms_reply_unmatched",
]
REPLIES = sorted(
    path.stem for path in (Path(django_settings.BASE_DIR) / "templates/sms_replies").iterdir()
)


@pytest.mark.parametrize("template", MY_SMS_TEMPLATES + [f"reply:{name}" for name in REPLIES])
def test_each_text_fits_one_sms_with_a_30_character_sender_name(template, settings):
    settings.SITE_URL = "https://buddies.example.org.uk"
    scheme = SchemeFactory.build(sender_name="X" * 30)
    if template.startswith("reply:"):
        text = sms_reply_build(template=template.removeprefix("reply:"), scheme=scheme)
    else:
        context = {"meeting_id": 12345, "membership_id": 12345, "when": "10:00", "several": True}
        text = sms_build(template=template, context=context, scheme=scheme)
    assert len(text) <= 160, f"{len(text)}: {text}"
    assert set(text) <= GSM_7, set(text) - GSM_7


@pytest.fixture
def provider():
    """A stand-in for Twilio's Messages API on this machine's loopback."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(parse_qs(body.decode()))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"status": "queued"}).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_end_to_end_the_reminder_goes_out_and_a_reply_checks_out(
    twilio, buddy, provider, monkeypatch
):
    """The reminder leaves through the real Twilio adapter to a stand-in provider; the buddy's
    reply comes back to the webhook signed as Twilio signs it; the meeting is checked out."""
    base, received = provider
    twilio.SMS_BACKEND = "buddyscheme.channels.TwilioSMSBackend"
    twilio.SMS_API_URL = base
    meeting = in_progress(buddy)
    end = meeting.expected_end
    services.sweep(now=end)  # the check-out reminder falls due at the planned end
    notifications_deliver(now=end)
    texts = [form for form in received if form["To"] == [BUDDY_PHONE]]
    assert len(texts) == 1
    assert "Reply OUT when you have left safely, HELP if you need help" in texts[0]["Body"][0]
    assert texts[0]["From"] == ["+447700900000"]

    answer = reply("Out, thanks!", sid="SMfeedfacefeedfacefeedfacefeedface")
    assert answer == "Appointments: Thank you, you have checked out safely."
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_OUT
    assert meeting.safety_events.get(kind="check_out").idempotency_key == (
        "sms:SMfeedfacefeedfacefeedfacefeedface"
    )


def test_the_scheme_of_the_other_buddy_is_never_named(twilio, buddy):
    """The same number on buddies of two schemes: the answer carries no sender name."""
    other = cleared_buddy(SchemeFactory(name="Other", sender_name="Other Appts"))
    other.user.profile.phone = "07700900456"
    other.user.profile.save()
    MembershipFactory(scheme=other.scheme, role="coordinator")
    text = reply("hello")
    assert text == "Reply OUT when you have left safely, HELP if you need help."
