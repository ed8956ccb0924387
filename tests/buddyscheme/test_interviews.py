"""Interviews (issue 15): booked with an applicant (face to face, a meeting with lone-working
check-in), the scheme's questions noted, an outcome the applicant is told kindly by email, and
proceed moving the pipeline on; how they heard of us, set on the person page."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from buddyscheme.emails import email_build
from buddyscheme.errors import DomainError
from buddyscheme.interviews import (
    interview_book,
    interview_cancel,
    interview_notes_save,
    interview_outcome_record,
    interview_question_create,
    interview_questions_add_defaults,
)
from buddyscheme.models import (
    DEFAULT_INTERVIEW_QUESTIONS,
    BuddyStage,
    BuddyVetting,
    Interview,
    Notification,
    Role,
    VettingStep,
)
from meetings import services as meeting_services
from meetings.models import Meeting, MeetingState

from ..factories import MembershipFactory, SchemeFactory, enrol_totp, venue

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # a Monday, in office hours
BEFORE = START - timedelta(days=3)
AFTER = START + timedelta(hours=2)


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def cora(scheme):
    cora = MembershipFactory(scheme=scheme, role=Role.COORDINATOR, user__first_name="Cora")
    enrol_totp(cora.user)
    return cora


@pytest.fixture
def applicant(scheme):
    member = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, user__email="ann@example.org", user__first_name="Ann"
    )
    BuddyVetting.objects.create(membership=member, stage=BuddyStage.APPLIED)
    return member


def book(applicant, cora, **kwargs):
    return interview_book(
        applicant=applicant,
        mode=kwargs.pop("mode", "phone"),
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        by=cora.user,
        interviewer=cora,
        now=BEFORE,
        **kwargs,
    )


def emailed(message):
    email = email_build(
        template=message.template, context=message.context, scheme=message.scheme, to="r@x.org"
    )
    return email.subject, email.body


class TestBooking:
    def test_booked_with_the_scheme_questions_and_the_applicant_told_discreetly(
        self, scheme, cora, applicant
    ):
        interview_question_create(scheme=scheme, text="Why now?", by=None)
        interview_question_create(scheme=scheme, text="What do you enjoy?", by=None)
        interview = book(applicant, cora)
        assert [a.question for a in interview.answers.all()] == ["Why now?", "What do you enjoy?"]
        [message] = Notification.objects.filter(template="interview_booked")
        assert message.recipient == applicant.user and message.channel == "email"
        subject, body = emailed(message)
        assert "interview" in body and "Monday 7 December" in body
        assert "HIV" not in subject + body  # discreet: never the scheme's subject

    def test_without_questions_of_its_own_the_suggested_ones_are_asked(
        self, scheme, cora, applicant
    ):
        interview = book(applicant, cora)
        assert [a.question for a in interview.answers.all()] == DEFAULT_INTERVIEW_QUESTIONS
        assert interview_questions_add_defaults(scheme=scheme, by=None) == len(
            DEFAULT_INTERVIEW_QUESTIONS
        )
        assert interview_questions_add_defaults(scheme=scheme, by=None) == 0

    def test_a_second_booking_while_one_is_open_books_nothing(self, cora, applicant):
        book(applicant, cora)
        with pytest.raises(DomainError, match="already has an interview"):
            book(applicant, cora)
        assert Interview.objects.count() == 1
        assert Notification.objects.filter(template="interview_booked").count() == 1

    def test_only_applicants_and_only_in_the_future(self, scheme, cora, applicant):
        approved = MembershipFactory(scheme=scheme, role=Role.BUDDY)
        BuddyVetting.objects.create(membership=approved, stage=BuddyStage.APPROVED)
        with pytest.raises(DomainError, match="Only applicants"):
            book(approved, cora)
        with pytest.raises(DomainError, match="start time has passed"):
            interview_book(
                applicant=applicant,
                mode="phone",
                starts_at=START,
                ends_at=START + timedelta(hours=1),
                by=None,
                now=AFTER,
            )

    def test_face_to_face_is_a_meeting_the_applicant_checks_in_and_out_of(
        self, scheme, cora, applicant
    ):
        place = venue(scheme, name="Our office")
        interview = meeting_services.interview_arrange(
            applicant=applicant,
            mode="in_person",
            starts_at=START,
            ends_at=START + timedelta(hours=1),
            interviewer=cora,
            venue=place,
            by=cora.user,
            now=BEFORE,
        )
        meeting = Meeting.objects.get(interview=interview)
        assert (meeting.buddy, meeting.venue, meeting.purpose, meeting.support_person) == (
            applicant,
            place,
            "Interview",
            cora,
        )
        assert meeting.next_alert_at is not None  # watched by the net like any meeting
        meeting_services.meeting_check_in(meeting=meeting, key="in", by=None, now=START)
        meeting.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_IN

    def test_face_to_face_needs_a_place_and_a_refused_meeting_books_no_interview(
        self, scheme, cora, applicant
    ):
        kwargs = {
            "applicant": applicant,
            "mode": "in_person",
            "starts_at": START,
            "ends_at": START + timedelta(hours=1),
            "by": None,
            "now": BEFORE,
        }
        with pytest.raises(DomainError, match="Choose where"):
            meeting_services.interview_arrange(**kwargs)
        stale = venue(scheme, risk_review_due=date(2026, 11, 1))
        with pytest.raises(DomainError, match="risk assessment"):
            meeting_services.interview_arrange(**kwargs, venue=stale)
        assert not Interview.objects.exists()

    def test_cancelling_the_interview_cancels_its_meeting_and_the_reverse(
        self, scheme, cora, applicant
    ):
        def arranged():
            return meeting_services.interview_arrange(
                applicant=applicant,
                mode="in_person",
                starts_at=START,
                ends_at=START + timedelta(hours=1),
                venue=venue(scheme),
                by=None,
                now=BEFORE,
            )

        first = arranged()
        interview_cancel(interview=first, by=cora.user, now=BEFORE)
        assert Meeting.objects.get(interview=first).state == MeetingState.CANCELLED
        second = arranged()
        meeting = Meeting.objects.get(interview=second)
        meeting_services.meeting_cancel(meeting=meeting, by=cora.user, now=BEFORE)
        second.refresh_from_db()
        assert second.cancelled_at is not None
        with pytest.raises(DomainError, match="This is an interview"):
            meeting_services.meeting_reschedule(
                meeting=Meeting.objects.get(interview=arranged()),
                venue=meeting.venue,
                planned_start=START + timedelta(days=1),
                planned_end=START + timedelta(days=1, hours=1),
                purpose="Interview",
                by=None,
                now=BEFORE,
            )


class TestOutcome:
    def test_proceed_moves_the_applicant_to_references_and_tells_them(self, cora, applicant):
        interview = book(applicant, cora)
        notes = {answer.pk: f"Note {answer.order}" for answer in interview.answers.all()}
        interview_notes_save(interview=interview, notes=notes, by=cora.user)
        assert interview.answers.first().notes == "Note 1"
        interview_outcome_record(interview=interview, outcome="proceed", by=cora.user, now=AFTER)
        applicant.vetting.refresh_from_db()
        assert applicant.vetting.stage == BuddyStage.REFERENCES
        assert applicant.vetting.stage_changed_at == AFTER
        step = VettingStep.objects.get(vetting__membership=applicant)
        assert (step.from_stage, step.to_stage) == (BuddyStage.APPLIED, BuddyStage.REFERENCES)
        assert "Interview on 7 December 2026: proceed" in step.evidence
        [message] = Notification.objects.filter(template="interview_outcome")
        subject, body = emailed(message)
        assert "go ahead with your application" in body

    def test_proceed_from_references_moves_on_to_the_dbs_check(self, cora, applicant):
        BuddyVetting.objects.filter(membership=applicant).update(stage=BuddyStage.REFERENCES)
        interview = book(applicant, cora)
        interview_outcome_record(interview=interview, outcome="proceed", by=None, now=AFTER)
        assert BuddyVetting.objects.get(membership=applicant).stage == BuddyStage.DBS_CHECK

    def test_not_suitable_needs_a_reason_closes_the_application_and_says_it_kindly(
        self, cora, applicant
    ):
        interview = book(applicant, cora)
        with pytest.raises(DomainError, match="reason"):
            interview_outcome_record(
                interview=interview, outcome="not_suitable", by=None, now=AFTER
            )
        interview_outcome_record(
            interview=interview,
            outcome="not_suitable",
            reason="We need buddies who can give a few hours every week, and you can't just now.",
            by=cora.user,
            now=AFTER,
        )
        assert BuddyVetting.objects.get(membership=applicant).stage == BuddyStage.LEFT
        [message] = Notification.objects.filter(template="interview_outcome")
        assert message.channel == "email"  # free text never goes by text message
        subject, body = emailed(message)
        assert "you can't just now" in body  # the reason, as written (not HTML-escaped)
        assert "sorry" in body and "HIV" not in subject + body

    def test_not_now_pauses_and_an_outcome_is_recorded_once(self, cora, applicant):
        interview = book(applicant, cora)
        interview_outcome_record(
            interview=interview,
            outcome="not_now",
            reason="Apply again in spring.",
            by=None,
            now=AFTER,
        )
        assert BuddyVetting.objects.get(membership=applicant).stage == BuddyStage.PAUSED
        with pytest.raises(DomainError, match="already recorded"):
            interview_outcome_record(interview=interview, outcome="proceed", by=None, now=AFTER)
        assert Notification.objects.filter(template="interview_outcome").count() == 1

    def test_no_outcome_before_the_interview(self, cora, applicant):
        interview = book(applicant, cora)
        with pytest.raises(DomainError, match="not happened yet"):
            interview_outcome_record(interview=interview, outcome="proceed", by=None, now=BEFORE)


class TestPages:
    @pytest.fixture
    def client(self, cora):
        client = Client()
        client.force_login(cora.user)
        return client

    def test_book_from_the_person_page_then_record_the_outcome(
        self, client, scheme, cora, applicant, time_machine
    ):
        time_machine.move_to(BEFORE)
        client.force_login(cora.user)  # sessions expire: sign in at the moved time
        page = client.get(f"/coordinator/people/{applicant.pk}/")
        assert "Recruitment" in page.content.decode()
        assert f"/coordinator/people/{applicant.pk}/interview/new/" in page.content.decode()
        response = client.post(
            f"/coordinator/people/{applicant.pk}/interview/new/",
            {
                "mode": "phone",
                "interviewer": cora.pk,
                "day": "2026-12-07",
                "start": "11:00",
                "end": "12:00",
            },
        )
        interview = Interview.objects.get(applicant=applicant)
        assert (
            response.status_code == 302
            and response["Location"] == f"/coordinator/interviews/{interview.pk}/"
        )
        time_machine.move_to(AFTER)
        client.force_login(cora.user)
        answer = interview.answers.first()
        client.post(
            f"/coordinator/interviews/{interview.pk}/notes/", {f"answer_{answer.pk}": "Kind, calm."}
        )
        answer.refresh_from_db()
        assert answer.notes == "Kind, calm."
        missing = client.post(
            f"/coordinator/interviews/{interview.pk}/outcome/", {"outcome": "not_now"}
        )
        assert missing.status_code == 200 and "the applicant is told it" in missing.content.decode()
        client.post(f"/coordinator/interviews/{interview.pk}/outcome/", {"outcome": "proceed"})
        assert BuddyVetting.objects.get(membership=applicant).stage == BuddyStage.REFERENCES

    def test_face_to_face_without_a_place_keeps_what_was_typed(self, client, applicant):
        response = client.post(
            f"/coordinator/people/{applicant.pk}/interview/new/",
            {"mode": "in_person", "day": "2026-12-07", "start": "11:00", "end": "12:00"},
        )
        assert response.status_code == 200
        assert "Choose where you will meet." in response.content.decode()
        assert 'value="2026-12-07"' in response.content.decode()

    def test_recruitment_source_is_set_on_the_person_page(self, client, applicant):
        client.post(
            f"/coordinator/people/{applicant.pk}/recruitment-source/",
            {"recruitment_source": "social_media"},
        )
        assert BuddyVetting.objects.get(membership=applicant).recruitment_source == "social_media"
        client.post(
            f"/coordinator/people/{applicant.pk}/recruitment-source/",
            {"recruitment_source": "carrier pigeon"},
        )
        assert BuddyVetting.objects.get(membership=applicant).recruitment_source == "social_media"

    def test_questions_are_edited_in_settings(self, client, scheme):
        assert "Interview questions" in client.get("/coordinator/settings/").content.decode()
        client.post("/coordinator/settings/interview-questions/suggested/")
        client.post("/coordinator/settings/interview-questions/", {"text": "Why us?"})
        texts = list(scheme.interview_questions.values_list("text", flat=True))
        assert texts == [*DEFAULT_INTERVIEW_QUESTIONS, "Why us?"]
        empty = client.post("/coordinator/settings/interview-questions/", {"text": ""})
        assert empty.status_code == 200

    def test_a_question_edited_with_its_position_left_empty_is_asked_last(self, client, scheme):
        """Found by the bad-input fuzz test: an empty position on the edit page was a 500."""
        client.post("/coordinator/settings/interview-questions/suggested/")
        first = scheme.interview_questions.first()
        response = client.post(
            f"/coordinator/settings/interview-questions/{first.pk}/",
            {"text": "Why us, really?", "order": ""},
        )
        assert response.status_code == 302
        texts = list(scheme.interview_questions.values_list("text", flat=True))
        assert texts[-1] == "Why us, really?"
        assert len(texts) == len(DEFAULT_INTERVIEW_QUESTIONS)
