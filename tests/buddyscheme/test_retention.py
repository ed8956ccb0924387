"""Retention: a daily dry-run report of closed matches past the retention period, confirmed by
a coordinator before anything is anonymised (names → initials, text removed, counts kept)."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import TestCase

from buddyscheme import tasks
from buddyscheme.consent import consent_give, consent_withdraw
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    CaseNote,
    ConsentKind,
    ErasureRequest,
    ErasureSource,
    ErasureStatus,
    ParticipantEnrolment,
    RetentionReview,
    RetentionStatus,
    Role,
    User,
)
from buddyscheme.retention import (
    months_before,
    retention_review_confirm,
    retention_review_prepare,
)
from matching.models import Match, MatchReview
from messaging.models import Conversation, Message

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy

CLOSED = datetime(2020, 3, 10, 12, 0, tzinfo=UTC)


class RetentionTests(TestCase):
    def setUp(self):
        self.scheme = SchemeFactory(
            name="Retention scheme", sender_name="Appts", retention_months=72
        )
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        self.participant = MembershipFactory(
            scheme=self.scheme,
            role=Role.PARTICIPANT,
            user__first_name="Peregrina",
            user__last_name="Thimbleton",
            user__email="pt-4410@example.org",
        )
        self.buddy = cleared_buddy(self.scheme)
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy,
            participant=self.participant,
            state="ended",
            ended_at=CLOSED,
        )
        self.review_note = MatchReview.objects.create(
            match=self.match,
            due_on=CLOSED.date(),
            held_on=CLOSED.date(),
            held_with="both",
            outcome="continue",
            notes="Peregrina Thimbleton is settling in",
        )
        conversation = Conversation.objects.create(
            scheme=self.scheme, kind="direct", member=self.participant, other=self.buddy
        )
        Message.objects.create(
            conversation=conversation, sender=self.buddy, side="other", text="Hi Peregrina"
        )
        CaseNote.objects.create(membership=self.participant, text="Peregrina phoned")

    def test_nothing_is_due_before_the_retention_period_ends(self):
        with time_machine.travel(CLOSED + timedelta(days=72 * 30), tick=False):
            self.assertIsNone(retention_review_prepare(scheme=self.scheme))

    def test_the_daily_task_makes_a_dry_run_report_that_changes_nothing(self):
        with time_machine.travel(CLOSED + timedelta(days=6 * 365 + 10), tick=False):
            tasks.prepare_retention_reviews.apply()

        review = RetentionReview.objects.get(scheme=self.scheme)
        self.assertEqual(review.status, RetentionStatus.PROPOSED)
        self.assertEqual(review.match_ids, [self.match.pk])
        self.assertEqual(review.counts["Reviews"], 1)
        self.assertEqual(review.counts["People whose names become initials"], 1)
        self.review_note.refresh_from_db()
        self.assertIn("Peregrina", self.review_note.notes)

    def test_confirming_anonymises_names_to_initials_and_keeps_counts(self):
        with time_machine.travel(CLOSED + timedelta(days=6 * 365 + 10), tick=False):
            review = retention_review_prepare(scheme=self.scheme)
            retention_review_confirm(review=review, by=self.coordinator)

        person = User.objects.get(pk=self.participant.user_id)
        self.assertEqual((person.first_name, person.last_name), ("P.", "T."))
        self.assertNotIn("pt-4410", person.email)
        self.review_note.refresh_from_db()
        self.assertEqual(self.review_note.notes, "")
        self.assertEqual(Message.objects.get().text, "")
        self.assertFalse(CaseNote.objects.filter(membership=self.participant).exists())
        self.assertTrue(Match.objects.filter(pk=self.match.pk, state="ended").exists())
        # The buddy still volunteers: their name stays.
        self.assertNotEqual(User.objects.get(pk=self.buddy.user_id).last_name[-1:], ".")
        review.refresh_from_db()
        self.assertEqual(review.status, RetentionStatus.DONE)

    def test_an_anonymised_match_is_not_reported_again(self):
        with time_machine.travel(CLOSED + timedelta(days=6 * 365 + 10), tick=False):
            retention_review_confirm(
                review=retention_review_prepare(scheme=self.scheme), by=self.coordinator
            )
            self.assertIsNone(retention_review_prepare(scheme=self.scheme))

    def test_a_report_is_confirmed_once(self):
        with time_machine.travel(CLOSED + timedelta(days=6 * 365 + 10), tick=False):
            review = retention_review_prepare(scheme=self.scheme)
            retention_review_confirm(review=review, by=self.coordinator)
            with self.assertRaises(DomainError):
                retention_review_confirm(review=review, by=self.coordinator)

    def test_a_shorter_retention_period_is_read_from_the_scheme(self):
        self.scheme.retention_months = 12
        self.scheme.save()
        with time_machine.travel(CLOSED + timedelta(days=400), tick=False):
            self.assertIsNotNone(retention_review_prepare(scheme=self.scheme))

    def test_months_before_keeps_the_day_or_the_months_last(self):
        self.assertEqual(
            months_before(datetime(2026, 3, 31, tzinfo=UTC), 1), datetime(2026, 2, 28, tzinfo=UTC)
        )
        self.assertEqual(
            months_before(datetime(2026, 11, 28, tzinfo=UTC), 72),
            datetime(2020, 11, 28, tzinfo=UTC),
        )

    def test_flagged_sensitive_notes_are_deleted_by_the_daily_task(self):
        ParticipantEnrolment.objects.create(
            membership=self.participant, sensitive_notes="Private words"
        )
        consent_give(
            membership=self.participant, kind=ConsentKind.SPECIAL_CATEGORY, by=self.coordinator
        )
        consent_withdraw(
            membership=self.participant, kind=ConsentKind.SPECIAL_CATEGORY, by=self.coordinator
        )
        self.assertEqual(ParticipantEnrolment.objects.get().sensitive_notes, "Private words")

        tasks.prepare_retention_reviews.apply()

        self.assertEqual(ParticipantEnrolment.objects.get().sensitive_notes, "")


class ConsentWithdrawalTests(TestCase):
    def setUp(self):
        self.scheme = SchemeFactory(name="Consent scheme", sender_name="Appts")
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        self.participant = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
        consent_give(membership=self.participant, kind=ConsentKind.HOLD_DATA, by=None)

    def test_withdrawing_consent_to_hold_data_opens_an_erasure_request(self):
        consent_withdraw(
            membership=self.participant, kind=ConsentKind.HOLD_DATA, by=self.participant.user
        )

        request = ErasureRequest.objects.get()
        self.assertEqual(
            (request.person_id, request.source, request.status),
            (self.participant.user_id, ErasureSource.CONSENT_WITHDRAWN, ErasureStatus.OPEN),
        )
        # Opening the request changes nothing yet: a coordinator reviews it.
        self.assertTrue(User.objects.get(pk=self.participant.user_id).is_active)

    def test_other_consents_open_no_request(self):
        consent_give(membership=self.participant, kind=ConsentKind.PHOTOS, by=None)
        consent_withdraw(membership=self.participant, kind=ConsentKind.PHOTOS, by=None)
        self.assertFalse(ErasureRequest.objects.exists())

    def test_keeping_needs_a_reason_and_records_it(self):
        from buddyscheme.erasure import erasure_request_keep

        consent_withdraw(membership=self.participant, kind=ConsentKind.HOLD_DATA, by=None)
        request = ErasureRequest.objects.get()
        with self.assertRaises(DomainError):
            erasure_request_keep(request=request, by=self.coordinator, reason="  ")

        erasure_request_keep(
            request=request, by=self.coordinator, reason="Safeguarding case open until 2027"
        )

        request.refresh_from_db()
        self.assertEqual(request.status, ErasureStatus.KEPT)
        self.assertEqual(request.legal_hold_reason, "Safeguarding case open until 2027")
