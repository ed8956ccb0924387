"""In-house rooms need a key holder on the premises; meetings never checked in become missed."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from meetings import services
from meetings.models import Meeting, MeetingState

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    book_meeting,
    cleared_buddy,
    enrol_totp,
    venue,
)
from .net import MONDAY_10AM, S, minutes, open_alerts, told

pytestmark = pytest.mark.django_db


@pytest.fixture
def ruth(scheme):
    """Staff: a coordinator of the scheme, on the premises with the keys."""
    member = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__first_name="Ruth", user__email="ruth@x.org"
    )
    member.user.profile.phone = "07700 900456"
    member.user.profile.save()
    return member


@pytest.fixture
def room(scheme, ruth):
    return venue(scheme, name="Room 2", kind="in_house", key_holder=ruth.user)


class TestKeyHolder:
    def test_an_in_house_meeting_takes_the_rooms_usual_key_holder(self, people, room, ruth):
        assert book_meeting(people["buddy"], MONDAY_10AM, place=room).key_holder == ruth

    def test_someone_else_on_the_premises_can_be_chosen(self, people, room, scheme):
        colleague = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
        meeting = book_meeting(people["buddy"], MONDAY_10AM, place=room, key_holder=colleague)
        assert meeting.key_holder == colleague

    def test_without_a_key_holder_an_in_house_meeting_is_refused(self, people, scheme):
        bare_room = venue(scheme, name="Room 3", kind="in_house")
        with pytest.raises(DomainError, match="needs a key holder on the premises"):
            book_meeting(people["buddy"], MONDAY_10AM, place=bare_room)
        assert not Meeting.objects.exists()

    @pytest.mark.parametrize("who", ["buddy", "other_scheme", "inactive"])
    def test_the_key_holder_must_be_active_staff_of_the_scheme(self, people, room, scheme, who):
        key_holder = {
            "buddy": lambda: MembershipFactory(scheme=scheme, role=Role.BUDDY),
            "other_scheme": lambda: MembershipFactory(
                scheme=SchemeFactory(), role=Role.COORDINATOR
            ),
            "inactive": lambda: MembershipFactory(
                scheme=scheme, role=Role.COORDINATOR, is_active=False
            ),
        }[who]()
        with pytest.raises(DomainError, match="key holder must be a member of staff"):
            book_meeting(people["buddy"], MONDAY_10AM, place=room, key_holder=key_holder)

    def test_a_room_whose_key_holder_has_left_needs_another(self, people, room, ruth):
        ruth.is_active = False
        ruth.save()
        with pytest.raises(DomainError, match="needs a key holder"):
            book_meeting(people["buddy"], MONDAY_10AM, place=room)

    def test_only_in_house_rooms_have_one(self, people, ruth):
        meeting = book_meeting(people["buddy"], MONDAY_10AM, key_holder=ruth)
        assert meeting.key_holder is None

    def test_a_change_keeps_the_key_holder_unless_the_room_changes(
        self, people, room, scheme, ruth
    ):
        colleague = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
        meeting = book_meeting(people["buddy"], MONDAY_10AM, place=room, key_holder=colleague)

        def move(place, **kwargs):
            return services.meeting_reschedule(
                meeting=meeting,
                venue=place,
                planned_start=MONDAY_10AM + minutes(30),
                planned_end=MONDAY_10AM + minutes(90),
                purpose="Coffee",
                by=people["buddy"].user,
                now=MONDAY_10AM - minutes(120),
                **kwargs,
            )

        assert move(room).key_holder == colleague
        assert move(venue(scheme, name="Café")).key_holder is None
        assert move(room).key_holder == ruth
        with pytest.raises(DomainError, match="This change cannot be made: a room in our"):
            move(venue(scheme, name="Room 3", kind="in_house"))

    def test_today_and_the_board_show_who_has_the_keys(self, client, people, room):
        book_meeting(people["buddy"], MONDAY_10AM, place=room)
        with time_machine.travel(MONDAY_10AM - minutes(20), tick=False):
            client.force_login(people["buddy"].user)
            today = client.get("/today/").content.decode()
            enrol_totp(people["coordinator"].user)
            client.force_login(people["coordinator"].user)
            board = client.get("/coordinator/board/live/").content.decode()
        assert "Keys: Ruth" in today and 'href="tel:07700 900456"' in today
        # The board's "Where" cell: the venue, its address for staff, then who has the keys.
        assert "Room 2" in board and "Keys: Ruth" in board

    def test_a_buddy_chooses_the_key_holder_when_booking(self, client, people, scheme, ruth):
        bare_room = venue(scheme, name="Room 3", kind="in_house")
        data = {
            "venue": bare_room.pk,
            "day": "2026-11-30",
            "start": "10:00",
            "end": "11:00",
            "purpose": "Coffee",
        }
        with time_machine.travel(MONDAY_10AM - timedelta(days=1), tick=False):
            client.force_login(people["buddy"].user)
            refused = client.post("/meetings/new/", data)
            assert "needs a key holder on the premises" in refused.content.decode()
            assert ">Ruth</option>" in refused.content.decode()
            client.post("/meetings/new/", {**data, "key_holder": ruth.pk})
        assert Meeting.objects.get().key_holder == ruth


def test_the_key_question_is_asked_only_when_the_scheme_has_rooms_of_its_own(
    client, people, scheme
):
    venue(scheme, name="Café")
    client.force_login(people["buddy"].user)
    assert "Who has the keys" not in client.get("/meetings/new/").content.decode()
    venue(scheme, name="Room 2", kind="in_house")
    assert "Who has the keys" in client.get("/meetings/new/").content.decode()


class TestMissed:
    def test_never_checked_in_becomes_missed_after_the_end_and_grace(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(10))  # the missed check-in alert
        services.sweep(now=MONDAY_10AM + minutes(70) - S)
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.PLANNED
        services.sweep(now=MONDAY_10AM + minutes(70))
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.MISSED
        # The alert stays as it was: open until someone resolves it, told once.
        assert [a.reason for a in open_alerts(meeting)] == ["missed_check_in"]
        assert told("alert_missed_check_in") == ["coord@example.org", "oncall@example.org"]

    def test_a_high_risk_venue_has_the_shorter_grace(self, people, scheme):
        risky = venue(scheme, name="Flat", kind="home_visit", risk_rating="high")
        meeting = book_meeting(people["buddy"], MONDAY_10AM, place=risky)
        services.sweep(now=MONDAY_10AM + minutes(65))
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.MISSED

    def test_after_an_outage_the_alert_is_raised_before_the_meeting_is_marked(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + timedelta(hours=6))  # first sweep since before 10:00
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.MISSED
        assert told("alert_missed_check_in") == ["coord@example.org", "oncall@example.org"]

    def test_marking_is_idempotent_and_touches_only_meetings_never_checked_in(self, people):
        missed = book_meeting(people["buddy"], MONDAY_10AM)
        finished = book_meeting(people["buddy"], MONDAY_10AM + minutes(60))
        services.meeting_check_in(
            meeting=finished, key="in", by=None, now=MONDAY_10AM + minutes(60)
        )
        services.meeting_check_out(
            meeting=finished, key="out", by=None, now=MONDAY_10AM + minutes(100)
        )
        cancelled = book_meeting(people["buddy"], MONDAY_10AM + minutes(120))
        services.meeting_cancel(meeting=cancelled, by=None, now=MONDAY_10AM)
        later = MONDAY_10AM + timedelta(hours=5)
        services.sweep(now=later)
        assert services.mark_missed(later) == 0  # a second sweeper finds nothing to do
        states = dict(Meeting.objects.values_list("pk", "state"))
        assert states == {
            missed.pk: "missed",
            finished.pk: "checked_out",
            cancelled.pk: "cancelled",
        }

    def test_a_missed_meeting_cannot_be_checked_in(self, people):
        meeting = book_meeting(people["buddy"], MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + minutes(75))
        with pytest.raises(DomainError, match="not open for check-in"):
            services.meeting_check_in(
                meeting=meeting, key="in", by=None, now=MONDAY_10AM + minutes(76)
            )


class TestMissedOnTheDashboard:
    def test_missed_this_month_counts_this_scheme_and_month_only(self, client, people, scheme):
        november = [book_meeting(people["buddy"], MONDAY_10AM - timedelta(days=d)) for d in (0, 7)]
        book_meeting(people["buddy"], MONDAY_10AM - timedelta(days=14))  # checked in below
        december = book_meeting(people["buddy"], MONDAY_10AM + timedelta(days=2))
        checked = Meeting.objects.exclude(pk__in=[m.pk for m in [*november, december]]).get()
        services.meeting_check_in(meeting=checked, key="in", by=None, now=checked.planned_start)
        other_scheme = SchemeFactory()
        book_meeting(cleared_buddy(other_scheme), MONDAY_10AM)
        services.sweep(now=MONDAY_10AM + timedelta(days=3))
        assert Meeting.objects.filter(state="missed").count() == 4
        enrol_totp(people["coordinator"].user)
        with time_machine.travel(MONDAY_10AM + minutes(120), tick=False):
            client.force_login(people["coordinator"].user)
            page = client.get("/coordinator/").content.decode()
        assert "Missed this month: 2" in page


@pytest.mark.postgres
def test_the_sweep_finds_meetings_to_mark_through_the_partial_index(people):
    book_meeting(people["buddy"], MONDAY_10AM)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        query = (
            Meeting.objects.filter(
                state=MeetingState.PLANNED,
                planned_end__lte=MONDAY_10AM,
                next_alert_at__isnull=True,
            )
            .order_by("planned_end")
            .explain()
        )
    assert "meeting_planned_end" in query
