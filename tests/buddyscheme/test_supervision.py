"""Supervision and support (issue 16): a one-to-one every N months (a scheme setting, 2 by
default) booked, held, noted and shared with the buddy, who can comment; face to face it is a
meeting with lone-working check-in; the monthly contact logged in a few taps; the dashboard
lists who is overdue for either."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from buddyscheme.concerns import concern_raise
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    AuditEvent,
    BuddyStage,
    BuddyVetting,
    ConcernActionKind,
    Notification,
    Role,
    SupervisionState,
    SupportContact,
    SupportSettings,
)
from buddyscheme.support import (
    contact_log,
    contact_overdue,
    supervision_book,
    supervision_cancel,
    supervision_comment,
    supervision_hold,
    supervision_notes_save,
    supervision_notes_share,
    supervision_overdue,
)
from buddyscheme.vetting import buddy_support_person_set
from evaluation.dashboard import forget_figures
from matching.models import Match
from meetings import services as meeting_services
from meetings.models import Meeting, MeetingState

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    cleared_buddy,
    enrol_totp,
    venue,
    waiting_participant,
)


def emailed(message):
    """(subject, text) of an outbox row sent by email only."""
    from buddyscheme.emails import email_build

    email = email_build(
        template=message.template, context=message.context, scheme=message.scheme, to="r@x.org"
    )
    return email.subject, email.body


pytestmark = pytest.mark.django_db

APPROVED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


def approved_buddy(scheme, email, first_name, approved=APPROVED):
    buddy = cleared_buddy(scheme, email=email)
    buddy.user.first_name = first_name
    buddy.user.save(update_fields=["first_name"])
    BuddyVetting.objects.filter(membership=buddy).update(stage_changed_at=approved)
    return buddy


@pytest.fixture
def people(scheme):
    cora = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        user__email="cora@example.org",
        user__first_name="Cora",
    )
    enrol_totp(cora.user)
    buddy = approved_buddy(scheme, "sam@example.org", "Sam")
    buddy_support_person_set(buddy=buddy, support_person=cora, by=None)
    participant = waiting_participant(scheme)
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    Match.objects.create(scheme=scheme, buddy=buddy, participant=participant, state="active")
    return {"cora": cora, "buddy": buddy, "participant": participant}


def one_to_one(people, starts_at, mode="phone", now=None, **kwargs):
    return supervision_book(
        buddy=people["buddy"],
        mode=mode,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        by=people["cora"].user,
        now=now or starts_at - timedelta(days=3),
        **kwargs,
    )


def held(people, starts_at):
    supervision = one_to_one(people, starts_at)
    return supervision_hold(supervision=supervision, by=people["cora"].user, now=starts_at)


def overdue_names(rows):
    return [row.buddy.user.first_name for row in rows]


class TestOneToOneOverdue:
    def test_due_two_months_after_approval_then_two_months_after_each_one_held(
        self, people, scheme
    ):
        with time_machine.travel(at("2026-10-31"), tick=False):
            assert supervision_overdue(scheme) == []
        with time_machine.travel(at("2026-11-02"), tick=False):
            [row] = supervision_overdue(scheme)
            assert (row.buddy, row.last, str(row.due)) == (people["buddy"], None, "2026-11-01")
        held(people, at("2026-11-05", 10))
        with time_machine.travel(at("2027-01-05"), tick=False):
            assert supervision_overdue(scheme) == []
        with time_machine.travel(at("2027-01-06"), tick=False):
            [row] = supervision_overdue(scheme)
            assert (row.last, str(row.due)) == (at("2026-11-05", 10), "2027-01-05")

    def test_one_booked_shows_but_only_one_held_counts(self, people, scheme):
        booked = one_to_one(people, at("2026-11-20", 14), now=at("2026-11-01"))
        with time_machine.travel(at("2026-11-10"), tick=False):
            [row] = supervision_overdue(scheme)
            assert row.next_booked == booked.starts_at
        supervision_cancel(supervision=booked, by=None, now=at("2026-11-11"))
        with time_machine.travel(at("2026-11-12"), tick=False):
            assert supervision_overdue(scheme)[0].next_booked is None

    def test_the_scheme_sets_how_often(self, people, scheme):
        SupportSettings.objects.create(scheme=scheme, supervision_every_months=3)
        with time_machine.travel(at("2026-11-30"), tick=False):
            assert supervision_overdue(scheme) == []
        with time_machine.travel(at("2026-12-02"), tick=False):
            assert overdue_names(supervision_overdue(scheme)) == ["Sam"]

    def test_only_approved_active_buddies_of_the_scheme_longest_waiting_first(self, people, scheme):
        earlier = approved_buddy(scheme, "amara@example.org", "Amara", approved=at("2026-06-01"))
        paused = approved_buddy(scheme, "pat@example.org", "Pat")
        BuddyVetting.objects.filter(membership=paused).update(stage=BuddyStage.PAUSED)
        gone = approved_buddy(scheme, "gone@example.org", "Gone")
        gone.is_active = False
        gone.save()
        approved_buddy(SchemeFactory(), "else@example.org", "Elsewhere")
        with time_machine.travel(at("2026-12-15"), tick=False):
            assert overdue_names(supervision_overdue(scheme)) == ["Amara", "Sam"]
        assert earlier  # listed first: waiting since June


class TestContactOverdue:
    def test_monthly_and_any_contact_or_one_to_one_counts(self, people, scheme):
        with time_machine.travel(at("2026-10-01"), tick=False):
            assert contact_overdue(scheme) == []
        with time_machine.travel(at("2026-10-02"), tick=False):
            assert overdue_names(contact_overdue(scheme)) == ["Sam"]
        contact_log(buddy=people["buddy"], mode="phone", by=None, now=at("2026-10-02", 15))
        with time_machine.travel(at("2026-11-02"), tick=False):
            assert contact_overdue(scheme) == []
        with time_machine.travel(at("2026-11-03"), tick=False):
            [row] = contact_overdue(scheme)
            assert (row.last, str(row.due)) == (at("2026-10-02", 15), "2026-11-02")
        # A one-to-one is contact too.
        held(people, at("2026-11-10", 10))
        with time_machine.travel(at("2026-12-10"), tick=False):
            assert contact_overdue(scheme) == []
        with time_machine.travel(at("2026-12-11"), tick=False):
            assert contact_overdue(scheme)[0].last == at("2026-11-10", 10)

    def test_logged_in_a_few_taps_with_a_line_of_notes(self, people):
        cora = Client()
        cora.force_login(people["cora"].user)
        buddy = people["buddy"]
        response = cora.post(
            f"/coordinator/people/{buddy.pk}/contact/",
            {"mode": "phone", "notes": "All well, busy month.", "back": "dashboard"},
        )
        assert response["Location"] == "/coordinator/"
        contact = SupportContact.objects.get()
        assert (contact.mode, contact.notes, contact.by) == (
            "phone",
            "All well, busy month.",
            people["cora"].user,
        )
        assert AuditEvent.objects.filter(verb="contact_log", object_id=contact.pk).exists()
        # A participant's name in the line: asked to change it first, nothing saved.
        page = cora.post(
            f"/coordinator/people/{buddy.pk}/contact/",
            {"mode": "email", "notes": "Worried about Grace"},
        )
        assert page.status_code == 200 and "“Grace” (a name" in page.content.decode()
        assert SupportContact.objects.count() == 1


class TestDashboard:
    def test_lists_who_is_overdue_in_a_constant_number_of_queries(
        self, people, scheme, django_assert_num_queries
    ):
        cora = Client()
        cora.force_login(people["cora"].user)
        long_ago = datetime.now(UTC) - timedelta(days=400)
        BuddyVetting.objects.filter(membership=people["buddy"]).update(stage_changed_at=long_ago)
        cora.get("/coordinator/")  # the session and the MFA check warm up

        def queries():
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            forget_figures(scheme)  # the cached figures worked out afresh each time
            with CaptureQueriesContext(connection) as captured:
                page = cora.get("/coordinator/")
            return len(captured), page

        few, page = queries()
        assert "One-to-ones overdue" in page.content.decode()
        assert page.content.decode().count("/support/") >= 2  # Sam in both lists
        for n in range(5):
            buddy = approved_buddy(scheme, f"b{n}@example.org", f"Buddy{n}", approved=long_ago)
            buddy_support_person_set(buddy=buddy, support_person=people["cora"], by=None)
            concern_raise(buddy=buddy, kind="myself", text="Tired", by=buddy.user)
        many, page = queries()
        assert "Buddy4" in page.content.decode()
        assert many == few


class TestBookingAndNotes:
    def test_by_phone_the_buddy_is_told_and_no_meeting_is_logged(self, people):
        supervision = one_to_one(people, at("2026-12-07", 14))
        assert (supervision.support_person, supervision.state) == (
            people["cora"],
            SupervisionState.BOOKED,
        )
        assert not Meeting.objects.exists()
        [message] = Notification.objects.filter(template="supervision_booked")
        assert (message.recipient, message.channel) == (people["buddy"].user, "email")
        subject, body = emailed(message)
        assert subject == "Your one-to-one at 14:00 on Monday 7 December"
        assert "HIV" not in body + subject

    def test_face_to_face_is_a_meeting_the_buddy_checks_in_and_out_of(self, people, scheme):
        place = venue(scheme, name="Our office", kind="community")
        start = at("2026-12-07", 11)
        supervision = meeting_services.supervision_arrange(
            buddy=people["buddy"],
            mode="in_person",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            venue=place,
            by=people["cora"].user,
            now=start - timedelta(days=2),
        )
        meeting = Meeting.objects.get(supervision=supervision)
        assert (meeting.buddy, meeting.venue, meeting.purpose, meeting.support_person) == (
            people["buddy"],
            place,
            "One-to-one",
            people["cora"],
        )
        assert meeting.next_alert_at is not None  # watched by the net like any meeting
        meeting_services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_face_to_face_needs_a_place_and_a_refused_meeting_books_nothing(self, people, scheme):
        start = at("2026-12-07", 11)
        kwargs = {
            "buddy": people["buddy"],
            "mode": "in_person",
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
            "by": None,
            "now": start - timedelta(days=2),
        }
        with pytest.raises(DomainError, match="Choose where"):
            meeting_services.supervision_arrange(**kwargs)
        stale = venue(scheme, risk_review_due=at("2026-11-01").date())
        with pytest.raises(DomainError, match="risk assessment"):
            meeting_services.supervision_arrange(**kwargs, venue=stale)
        assert not people["buddy"].supervisions.exists()

    def test_a_buddy_whose_dbs_lapsed_still_gets_a_one_to_one_face_to_face(self, people, scheme):
        people["buddy"].dbs_checks.update(renewal_due=at("2026-11-01").date())
        start = at("2026-12-07", 11)
        supervision = meeting_services.supervision_arrange(
            buddy=people["buddy"],
            mode="in_person",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            venue=venue(scheme),
            by=None,
            now=start - timedelta(days=2),
        )
        assert Meeting.objects.filter(supervision=supervision).exists()
        with pytest.raises(DomainError, match="DBS"):  # a meeting with a participant: refused
            meeting_services.meeting_book(
                buddy=people["buddy"],
                venue=venue(scheme),
                planned_start=start,
                planned_end=start + timedelta(hours=1),
                purpose="Coffee",
                by=None,
                now=start - timedelta(days=2),
            )

    def test_cancelling_either_cancels_both_and_it_cannot_drift_from_its_meeting(
        self, people, scheme
    ):
        start = at("2026-12-07", 11)

        def arranged():
            return meeting_services.supervision_arrange(
                buddy=people["buddy"],
                mode="in_person",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                venue=venue(scheme),
                by=None,
                now=start - timedelta(days=2),
            )

        first = arranged()
        supervision_cancel(supervision=first, by=people["cora"].user, now=start - timedelta(days=1))
        assert Meeting.objects.get(supervision=first).state == MeetingState.CANCELLED
        second = arranged()
        meeting = Meeting.objects.get(supervision=second)
        with pytest.raises(DomainError, match="cancel it and book another time"):
            meeting_services.meeting_reschedule(
                meeting=meeting,
                venue=meeting.venue,
                planned_start=start + timedelta(hours=2),
                planned_end=start + timedelta(hours=3),
                purpose="One-to-one",
                by=None,
                now=start - timedelta(days=1),
            )
        meeting_services.meeting_cancel(
            meeting=meeting, by=people["buddy"].user, now=start - timedelta(days=1)
        )
        second.refresh_from_db()
        assert second.state == SupervisionState.CANCELLED

    def test_held_noted_shared_and_commented(self, people):
        start = at("2026-12-07", 14)
        supervision = one_to_one(people, start)
        cora = people["cora"].user
        with pytest.raises(DomainError, match="not started yet"):
            supervision_hold(supervision=supervision, by=cora, now=start - timedelta(minutes=1))
        with pytest.raises(DomainError, match="once they are shared"):
            supervision_comment(supervision=supervision, buddy=people["buddy"], text="Hi")
        supervision_hold(supervision=supervision, by=cora, now=start + timedelta(hours=1))
        with pytest.raises(DomainError, match="Write the notes"):
            supervision_notes_share(supervision=supervision, by=cora)
        supervision_notes_save(
            supervision=supervision, notes="S. is settling in well with G.", by=cora
        )
        supervision_notes_share(supervision=supervision, by=cora, now=start + timedelta(days=1))
        supervision_notes_share(supervision=supervision, by=cora)  # twice: told once
        [message] = Notification.objects.filter(template="supervision_notes_shared")
        subject, body = emailed(message)
        assert subject == "Notes from your one-to-one" and "settling" not in body
        supervision = supervision_comment(
            supervision=supervision, buddy=people["buddy"], text="Thanks, agreed."
        )
        assert supervision.buddy_comment == "Thanks, agreed."
        assert {
            "supervision_book",
            "supervision_hold",
            "supervision_notes_save",
            "supervision_notes_share",
            "supervision_comment",
        } <= set(AuditEvent.objects.values_list("verb", flat=True))

    def test_booked_to_talk_a_concern_through(self, people):
        concern = concern_raise(
            buddy=people["buddy"],
            kind="myself",
            text="Hard week",
            one_to_one_wanted=True,
            by=people["buddy"].user,
        )
        one_to_one(people, datetime.now(UTC) + timedelta(days=2), now=None, concern=concern)
        action = concern.actions.get()
        assert action.kind == ConcernActionKind.ONE_TO_ONE
        assert action.text.startswith("One-to-one booked for ")


class TestPages:
    def test_the_buddy_reads_the_notes_only_once_shared(self, people, scheme):
        start = at("2026-11-02", 10)
        supervision = one_to_one(people, start, now=start - timedelta(days=1))
        supervision_hold(
            supervision=supervision,
            notes="Talked about boundaries with G.",
            by=people["cora"].user,
            now=start,
        )
        buddy = Client()
        buddy.force_login(people["buddy"].user)
        url = f"/support/one-to-ones/{supervision.pk}/"
        assert b"boundaries" not in buddy.get(url).content
        assert b"writing the notes" in buddy.get(url).content
        supervision_notes_share(supervision=supervision, by=people["cora"].user)
        assert b"boundaries" in buddy.get(url).content
        page = buddy.post(url + "comment/", {"text": "Grace was fine after all."})
        assert "“Grace” (a name" in page.content.decode()
        buddy.post(url + "comment/", {"text": "G. was fine after all."})
        supervision.refresh_from_db()
        assert supervision.buddy_comment == "G. was fine after all."
        another = Client()
        another.force_login(cleared_buddy(scheme).user)
        assert another.get(url).status_code == 404

    def test_the_coordinator_books_records_and_shares_from_the_pages(self, people, scheme):
        cora = Client()
        cora.force_login(people["cora"].user)
        buddy = people["buddy"]
        page = cora.get(f"/coordinator/people/{buddy.pk}/one-to-ones/new/")
        assert page.status_code == 200 and b"Book a one-to-one with Sam" in page.content
        day = (datetime.now(UTC) + timedelta(days=3)).date()
        typed = {
            "mode": "in_person",
            "support_person": people["cora"].pk,
            "day": day.isoformat(),
            "start": "10:00",
            "end": "11:00",
        }
        page = cora.post(f"/coordinator/people/{buddy.pk}/one-to-ones/new/", typed)
        assert b"Choose where you will meet." in page.content
        response = cora.post(
            f"/coordinator/people/{buddy.pk}/one-to-ones/new/",
            {**typed, "venue": venue(scheme).pk},
        )
        assert response["Location"] == f"/coordinator/people/{buddy.pk}/support/"
        supervision = buddy.supervisions.get()
        assert Meeting.objects.get(supervision=supervision).state == MeetingState.PLANNED
        page = cora.get(f"/coordinator/one-to-ones/{supervision.pk}/")
        assert b"the buddy checks in and out" in page.content
