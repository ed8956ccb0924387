"""Every text message fits one SMS: at most 160 characters, all in the GSM-7 basic set, however
long the names, places and addresses it is built from."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError

from buddyscheme.emails import sms_build
from buddyscheme.models import Notification, Profile, Role, Scheme
from buddyscheme.sms import GSM7_BASIC, SMS_LENGTH, fit_sms, gsm7, shortenable
from meetings.models import Alert, Meeting, Venue

from ..factories import MembershipFactory, SchemeFactory, UserFactory, venue

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(
    path.parent.name
    for path in (Path(settings.BASE_DIR) / "templates" / "notifications").glob("*/sms.txt")
)
SITE_URL = "https://buddies.example-charity.org.uk/a"  # 40 characters, as if under a path
BIG_ID = 9_999_999  # ids after many years of use: long tokens and references


def test_gsm7_keeps_what_the_set_has_and_makes_the_rest_plain():
    assert gsm7("Café Zoë’s “room” – ½ [A] ç") == 'Café Zoe\'s "room" - ? (A) c'
    assert gsm7("Grüße 🙂") == "Grüße ?"
    assert all(character in GSM7_BASIC for character in gsm7("Łódź € ~ ^ {x} | \\"))


def test_fit_shortens_the_marked_parts_longest_first():
    text = f"Hi {shortenable('Alexandrina')} at {shortenable('The Community Centre')}: 10:00"
    assert fit_sms(text) == "Hi Alexandrina at The Community Centre: 10:00"
    assert fit_sms(text, limit=40) == "Hi Alexandrina at The Community: 10:00"
    assert len(fit_sms(text, limit=30)) <= 30


def test_the_sender_name_is_short_and_plain():
    limit = Scheme._meta.get_field("sender_name").max_length
    assert limit <= 15
    scheme = Scheme(name="Scheme", sender_name="Rendez-vous’s")
    with pytest.raises(ValidationError) as refused:
        scheme.full_clean()
    assert "text message" in str(refused.value)
    Scheme(name="Scheme", sender_name="Rendez-vous's").full_clean()
    with pytest.raises(ValidationError, match="at most 15"):
        Scheme(name="Scheme", sender_name="Rendez-vous café").full_clean()


def longest(model, field, words):
    """`words`, repeated and cut to exactly the longest the field allows."""
    length = model._meta.get_field(field).max_length
    return ((words + " ") * length)[: length - 1] + "x"


@pytest.fixture
def worst_case():
    """The longest of everything the messages are made of, with characters outside GSM-7."""
    limit = Scheme._meta.get_field("sender_name").max_length
    scheme = SchemeFactory(sender_name="W" * (limit - 3) + " Ap")
    buddy = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, user=UserFactory(id=BIG_ID, first_name="Wolfeschlegel")
    )
    profile = buddy.user.profile
    profile.preferred_name = longest(
        Profile, "preferred_name", "Zoë-Ångström Maximiliana-Josephine"
    )
    profile.phone = "+44 7700 900123"  # texted as 07700900123
    profile.save()
    responder = MembershipFactory(scheme=scheme, role=Role.BUDDY, user=UserFactory(id=BIG_ID + 1))
    start = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    meeting = Meeting.objects.create(
        id=BIG_ID,
        scheme=scheme,
        buddy=buddy,
        venue=venue(
            scheme,
            name=longest(Venue, "name", "The Community Centre’s “Upstairs” Room at St Bartholomew"),
            area=longest(Venue, "area", "Hackney Wick and Queen Elizabeth Olympic Park"),
        ),
        purpose="Coffee",
        planned_start=start,
        planned_end=start + timedelta(minutes=119),
        expected_end=start + timedelta(minutes=119),
    )
    alert = Alert.objects.create(
        id=BIG_ID, meeting=meeting, level=3, reason="help", due_at=start, raised_at=start
    )
    return {
        "scheme": scheme,
        "responder": responder.user,
        "context": {
            "meeting_id": meeting.pk,
            "alert_id": alert.pk,
            "level": 3,
            "recipient_id": responder.user_id,
            "membership_id": buddy.pk,
            "when": "23:59",
            "contract_id": BIG_ID,
        },
    }


def text_of(notification):
    return sms_build(
        template=notification.template, context=notification.context, scheme=notification.scheme
    )


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_text_fits_one_sms_at_its_longest(template, worst_case, settings):
    assert len(SITE_URL) == 40
    settings.SITE_URL = SITE_URL
    notification = Notification(
        scheme=worst_case["scheme"],
        recipient=worst_case["responder"],
        channel="sms",
        template=template,
        context=worst_case["context"],
    )
    # Sent the next day, so every time carries its date.
    with time_machine.travel(datetime(2027, 1, 1, 9, 0, tzinfo=UTC), tick=False):
        text = text_of(notification)
    assert len(text) <= SMS_LENGTH, f"{len(text)}: {text}"
    assert set(text) <= GSM7_BASIC, sorted(set(text) - GSM7_BASIC)
    assert "'" in text or '"' in text or "’" not in text
    if template == "alert_sms_help":  # a HELP text with no appointment: whom to phone
        assert "07700900123" in text and "Zoe" in text, text
    elif template in ("alert_duress", "alert_wrong_pins"):
        # These spend their room on "do not phone first"; times and phone are on the page.
        assert "/r/" in text and "Zoe" in text and "The" in text, text
        assert ("NOT call" in text) or ("with care" in text), text
    elif template.startswith("alert_") and template != "alert_check_out_prompt":
        assert "/r/" in text and "23:59" in text and "31 Dec" in text, text
        assert "07700900123" in text and "Zoe" in text and "The" in text and "Hac" in text


def test_a_message_with_short_details_is_not_shortened(settings):
    settings.SITE_URL = SITE_URL
    scheme = SchemeFactory(sender_name="Appointments")
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__first_name="Sam")
    buddy.user.profile.phone = "07700 900123"
    buddy.user.profile.save()
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    meeting = Meeting.objects.create(
        scheme=scheme,
        buddy=buddy,
        venue=venue(scheme, name="Corner café", area="Walthamstow"),
        purpose="Coffee",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        expected_end=start + timedelta(hours=1),
    )
    alert = Alert.objects.create(meeting=meeting, level=3, reason="help", due_at=start)
    notification = Notification(
        scheme=scheme,
        recipient=buddy.user,
        channel="sms",
        template="alert_help",
        context={"meeting_id": meeting.pk, "alert_id": alert.pk, "recipient_id": buddy.user_id},
    )
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        text = text_of(notification)
    assert text.startswith(
        "URGENT Appointments: Sam needs help at Corner café, Walthamstow, until 11:00. "
        "Call 07700900123 https://buddies.example-charity.org.uk/a/r/"
    ), text
