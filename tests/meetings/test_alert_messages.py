"""What alert messages say: enough to act on at 1 am without logging in first (the buddy's first
name and phone, the venue's name and area, the times, a link to the responder page), and
nothing about the participant, the address or anyone's health."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from buddyscheme.channels import ConsoleSMSBackend
from buddyscheme.models import Notification
from buddyscheme.notifications import notifications_deliver
from matching.models import Match
from meetings import services
from meetings.access import read_responder_link

from ..factories import book_meeting, venue, waiting_participant
from .net import MONDAY_10AM, minutes

pytestmark = pytest.mark.django_db

ADDRESS = "Flat 3, 12 Mare Street"


@pytest.fixture
def meeting(people, scheme):
    """Checked in at 10:00 for an hour, with a participant, at a venue with an area."""
    buddy = people["buddy"]
    buddy.user.first_name = "Samira"
    buddy.user.save()
    buddy.user.profile.phone = "07700 900456"
    buddy.user.profile.save()
    for member in (people["coordinator"], people["on_call"]):
        member.user.profile.phone = "07700 900999"
        member.user.profile.save()
    participant = waiting_participant(scheme)
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    match = Match.objects.create(
        scheme=scheme, buddy=buddy, participant=participant, state="active"
    )
    place = venue(scheme, name="Corner café", area="Hackney", address=ADDRESS)
    booked = book_meeting(buddy, MONDAY_10AM, place=place, match=match)
    return services.meeting_check_in(meeting=booked, key="in", by=buddy.user, now=MONDAY_10AM)


def sent(moment, to_staff=False):
    """Deliver what is due at `moment` (the clock moved there too): the emails and texts sent
    (`to_staff`: leaving out the buddy's own)."""
    mail.outbox.clear()
    ConsoleSMSBackend.sent.clear()
    with time_machine.travel(moment, tick=False):
        notifications_deliver(now=moment)
    buddy_texts = set(
        Notification.objects.filter(recipient__email="buddy@example.org").values_list(
            "pk", flat=True
        )
    )
    emails = [m for m in mail.outbox if not to_staff or m.to != ["buddy@example.org"]]
    texts = [
        text for pk, _, text in ConsoleSMSBackend.sent if not to_staff or pk not in buddy_texts
    ]
    return emails, texts


NEVER = ("Grace", "Obi", "Mare Street", "Coffee", "HIV", "Positive Living", "buddy@example.org")


class TestWhatStaffAreTold:
    def test_every_level_names_who_where_until_when_and_the_phone(self, meeting, people):
        services.sweep(now=MONDAY_10AM + minutes(71))
        sent(MONDAY_10AM + minutes(71))  # level 1: the buddy's own prompt
        for level, at in ((2, 81), (3, 91)):
            services.sweep(now=MONDAY_10AM + minutes(at))
            emails, texts = sent(MONDAY_10AM + minutes(at))
            assert emails and texts, level
            for text in [m.subject + "\n" + m.body for m in emails] + texts:
                assert "Samira" in text and "Corner caf" in text and "Hackney" in text
                assert "11:00" in text, text  # the planned end
                assert "07700" in text and "900456" in text.replace(" ", "")
                assert not any(word in text for word in NEVER), text

    def test_help_and_missed_check_in_too(self, people, scheme):
        buddy = people["buddy"]
        buddy.user.profile.preferred_name = "Sam"
        buddy.user.profile.phone = "+44 7700 900456"
        buddy.user.profile.save()
        people["on_call"].user.profile.phone = "07700 900999"
        people["on_call"].user.profile.save()
        place = venue(scheme, name="Library", area="Walthamstow", address=ADDRESS)
        missed = book_meeting(buddy, MONDAY_10AM, place=place)
        services.sweep(now=MONDAY_10AM + minutes(10))
        emails, texts = sent(MONDAY_10AM + minutes(10))
        assert "Check-in missed: Sam at Library" in [m.subject for m in emails]
        assert any("10:00-11:00" in text and "07700900456" in text for text in texts), texts
        services.meeting_check_in(meeting=missed, key="in", by=None, now=MONDAY_10AM + minutes(12))
        services.meeting_help(meeting=missed, key="h", by=None, now=MONDAY_10AM + minutes(20))
        emails, texts = sent(MONDAY_10AM + minutes(20))
        help_emails = [m for m in emails if m.subject == "URGENT: Sam asked for help"]
        assert help_emails and "Where: Library, Walthamstow" in help_emails[0].body
        assert any(t.startswith("URGENT Appointments: Sam needs help at Library") for t in texts)
        assert all(ADDRESS not in m.body for m in emails)

    def test_the_link_is_signed_for_the_person_it_goes_to(self, meeting, people):
        services.meeting_help(meeting=meeting, key="h", by=None, now=MONDAY_10AM + minutes(20))
        emails, texts = sent(MONDAY_10AM + minutes(20))
        alert = meeting.alerts.get()
        for message in emails:
            token = message.body.split("/r/")[1].split()[0]
            person = Notification.objects.get(
                channel="email", recipient__email=message.to[0], template="alert_help"
            ).recipient
            assert read_responder_link(token) == (alert.pk, person.pk)
        assert all("/r/" in text for text in texts)

    def test_the_outbox_holds_ids_only(self, meeting):
        services.meeting_help(meeting=meeting, key="h", by=None, now=MONDAY_10AM + minutes(20))
        for notification in Notification.objects.filter(template="alert_help"):
            assert set(notification.context) == {"meeting_id", "alert_id", "level", "recipient_id"}

    def test_a_time_on_another_day_carries_its_date(self, meeting):
        services.sweep(now=MONDAY_10AM + minutes(81))
        # The messages wait through an outage and leave the next morning.
        emails, texts = sent(MONDAY_10AM + timedelta(hours=23), to_staff=True)
        assert emails and texts
        for text in [m.body for m in emails] + texts:
            assert "30 Nov 11:00" in text, text
        services.sweep(now=MONDAY_10AM + timedelta(hours=24))  # level 3, sent at once
        emails, texts = sent(MONDAY_10AM + timedelta(hours=24), to_staff=True)
        assert emails and "Tue 1 Dec" not in "".join(m.body for m in emails)
        emails, texts = sent(MONDAY_10AM + minutes(82))
        assert "30 Nov" not in "".join(m.body for m in emails) + "".join(texts)

    def test_the_buddys_own_prompt_stays_as_it_was(self, meeting):
        services.sweep(now=MONDAY_10AM + minutes(71))
        emails, texts = sent(MONDAY_10AM + minutes(71))
        prompt = [m for m in emails if m.subject == "Please check out"]
        assert "Corner" not in prompt[0].body and "/today/" in prompt[0].body

    def test_the_all_clear_says_who_is_safe(self, meeting):
        services.sweep(now=MONDAY_10AM + minutes(81))
        services.meeting_check_out(
            meeting=meeting, key="out", by=None, now=MONDAY_10AM + minutes(85)
        )
        emails, texts = sent(MONDAY_10AM + minutes(85))
        clear = [m for m in emails if m.subject == "All clear: Samira is safe"]
        assert clear and "Corner café, Hackney" in clear[0].body
        assert not any(word in clear[0].body for word in NEVER)


def test_the_board_shows_the_address_and_the_date_when_not_today(client, meeting, people):
    from ..factories import enrol_totp

    enrol_totp(people["coordinator"].user)
    services.sweep(now=MONDAY_10AM + minutes(71))
    with time_machine.travel(MONDAY_10AM + minutes(75), tick=False):
        client.force_login(people["coordinator"].user)
        board = client.get("/coordinator/board/live/").content.decode()
    assert ADDRESS in board and "Hackney" in board
    assert "Mon 30 Nov" not in board
    with time_machine.travel(MONDAY_10AM + timedelta(hours=15), tick=False):
        client.force_login(people["coordinator"].user)
        board = client.get("/coordinator/board/live/").content.decode()
    assert "Mon 30 Nov 11:10" in board  # the alert was due yesterday
