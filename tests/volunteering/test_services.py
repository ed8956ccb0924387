"""The pack, hours and expenses through their services, with real rows and moved time."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from buddyscheme.errors import DomainError
from buddyscheme.models import Role, Supervision, SupervisionMode, SupervisionState
from buddyscheme.support import supervision_hold
from meetings.models import Meeting, MeetingState
from meetings.services import meeting_check_in, meeting_check_out
from volunteering import selectors, services
from volunteering.models import ClaimState, DocumentCategory, DocumentRead, ExpenseCategory

from ..factories import MembershipFactory, SchemeFactory, book_meeting, cleared_buddy, venue
from .helpers import PrivateFilesMixin, pdf, renamed_exe, text


class PackTest(PrivateFilesMixin, TestCase):
    def setUp(self):
        super().setUp()
        self.scheme = SchemeFactory()
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR)
        self.buddy = cleared_buddy(self.scheme)
        self.other_buddy = cleared_buddy(self.scheme)

    def add(self, title="Confidentiality", required=True, upload=None):
        return services.pack_document_add(
            scheme=self.scheme,
            title=title,
            category=DocumentCategory.CONFIDENTIALITY,
            required=required,
            upload=upload or pdf(),
            by=self.coordinator.user,
        )

    def test_a_document_is_stored_privately_under_a_random_name(self):
        document = self.add()
        self.assertTrue(document.file.name.startswith(f"pack/{self.scheme.pk}/"))
        self.assertNotIn("policy", document.file.name)
        self.assertTrue(document.file.path.startswith(self.private_root))
        self.assertEqual(document.content_type, "application/pdf")
        with document.file.open("rb") as stored:
            self.assertTrue(stored.read().startswith(b"%PDF-"))

    def test_a_renamed_executable_is_refused_and_nothing_is_saved(self):
        with self.assertRaises(ValidationError):
            self.add(upload=renamed_exe())
        self.assertEqual(selectors.pack_documents(self.scheme).count(), 0)

    def test_marking_read_is_per_version(self):
        document = self.add()
        self.assertEqual(selectors.pack_to_read(self.buddy), [document])
        services.pack_document_mark_read(document=document, buddy=self.buddy, version=1)
        services.pack_document_mark_read(document=document, buddy=self.buddy, version=1)
        self.assertEqual(DocumentRead.objects.filter(buddy=self.buddy).count(), 1)
        self.assertEqual(selectors.pack_to_read(self.buddy), [])

        old_name = document.file.name
        with self.captureOnCommitCallbacks(execute=True):
            document = services.pack_document_replace(
                document=document, upload=text(), by=self.coordinator.user
            )
        self.assertEqual(document.version, 2)
        self.assertEqual(document.content_type, "text/plain; charset=utf-8")
        self.assertFalse(document.file.storage.exists(old_name), "the old version's file goes")
        # The new version asks for reading again; the old one cannot be marked any more.
        self.assertEqual(selectors.pack_to_read(self.buddy), [document])
        with self.assertRaises(DomainError):
            services.pack_document_mark_read(document=document, buddy=self.buddy, version=1)
        services.pack_document_mark_read(document=document, buddy=self.buddy, version=2)
        self.assertEqual(selectors.pack_to_read(self.buddy), [])

    def test_required_unread_lists_each_buddy_with_their_documents(self):
        required = self.add("Safeguarding")
        self.add("Nice to know", required=False)
        services.pack_document_mark_read(document=required, buddy=self.buddy, version=1)
        unread = selectors.required_unread(self.scheme)
        self.assertEqual([line.buddy for line in unread], [self.other_buddy])
        self.assertEqual(unread[0].documents, [required])

    def test_required_unread_takes_the_same_queries_however_many(self):
        self.add("One")

        def count():
            with CaptureQueriesContext(connection) as queries:
                selectors.required_unread(self.scheme)
            return len(queries)

        few = count()
        for _ in range(3):
            cleared_buddy(self.scheme)
        self.add("Two")
        self.assertEqual(count(), few)

    def test_a_withdrawn_document_leaves_the_pack(self):
        document = self.add()
        services.pack_document_withdraw(document=document, by=self.coordinator.user)
        self.assertEqual(selectors.pack_to_read(self.buddy), [])
        self.assertEqual(selectors.required_unread(self.scheme), [])
        with self.assertRaises(DomainError):
            services.pack_document_mark_read(document=document, buddy=self.buddy, version=1)

    def test_only_the_schemes_buddies_mark_read(self):
        document = self.add()
        stranger = MembershipFactory(role=Role.BUDDY)
        with self.assertRaises(DomainError):
            services.pack_document_mark_read(document=document, buddy=stranger, version=1)
        with self.assertRaises(DomainError):
            services.pack_document_mark_read(document=document, buddy=self.coordinator, version=1)


class HoursTest(TestCase):
    def setUp(self):
        self.scheme = SchemeFactory()
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR)
        self.buddy = cleared_buddy(self.scheme)

    def meet(self, start, minutes_in, key):
        meeting = book_meeting(self.buddy, start, minutes=60)
        meeting_check_in(meeting=meeting, key=f"{key}-in", by=None, now=start)
        meeting_check_out(
            meeting=meeting, key=f"{key}-out", by=None, now=start + timedelta(minutes=minutes_in)
        )
        return meeting

    def test_hours_come_from_check_in_to_check_out_by_month(self):
        with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
            self.meet(datetime(2026, 3, 3, 10, 0, tzinfo=UTC), 90, "a")
            self.meet(datetime(2026, 3, 10, 10, 0, tzinfo=UTC), 45, "b")
        with time_machine.travel(datetime(2026, 6, 1, 9, 0, tzinfo=UTC), tick=False):
            self.meet(datetime(2026, 6, 2, 9, 0, tzinfo=UTC), 60, "c")
            # Booked but never checked in: no time given.
            book_meeting(self.buddy, datetime(2026, 6, 16, 9, 0, tzinfo=UTC))
        with time_machine.travel(datetime(2025, 12, 1, 9, 0, tzinfo=UTC), tick=False):
            self.meet(datetime(2025, 12, 2, 10, 0, tzinfo=UTC), 120, "last-year")

        hours = selectors.hours_for_buddy(self.buddy, 2026)
        self.assertEqual(hours.months[2], 135)
        self.assertEqual(hours.months[5], 60)
        self.assertEqual(hours.total, 195)
        self.assertEqual(hours.sessions, 3)
        self.assertEqual(selectors.hours_for_buddy(self.buddy, 2025).total, 120)

    def test_a_meeting_just_after_midnight_counts_in_the_schemes_month(self):
        # 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time). Out of office hours
        # nothing can be booked, so the row is written as check-in and check-out leave it.
        start = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
        Meeting.objects.create(
            scheme=self.scheme,
            buddy=self.buddy,
            venue=venue(self.scheme),
            purpose="Coffee",
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            expected_end=start + timedelta(hours=1),
            state=MeetingState.CHECKED_OUT,
            checked_in_at=start,
            checked_out_at=start + timedelta(minutes=30),
        )
        hours = selectors.hours_for_buddy(self.buddy, 2026)
        self.assertEqual((hours.months[4], hours.months[5]), (0, 30))

    def test_a_one_to_one_by_phone_counts_its_booked_length(self):
        start = datetime(2026, 4, 7, 10, 0, tzinfo=UTC)
        supervision = Supervision.objects.create(
            scheme=self.scheme,
            buddy=self.buddy,
            support_person=self.coordinator,
            mode=SupervisionMode.PHONE,
            starts_at=start,
            ends_at=start + timedelta(minutes=50),
        )
        self.assertEqual(selectors.hours_for_buddy(self.buddy, 2026).total, 0)
        supervision_hold(supervision=supervision, by=self.coordinator.user, now=start)
        self.assertEqual(supervision.__class__.objects.get().state, SupervisionState.HELD)
        self.assertEqual(selectors.hours_for_buddy(self.buddy, 2026).months[3], 50)

    def test_the_coordinator_sees_every_buddy_in_service(self):
        idle = cleared_buddy(self.scheme)
        with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
            self.meet(datetime(2026, 3, 3, 10, 0, tzinfo=UTC), 90, "a")
        rows = {row.buddy: row.hours.total for row in selectors.hours_for_scheme(self.scheme, 2026)}
        self.assertEqual(rows, {self.buddy: 90, idle: 0})


class ExpensesTest(PrivateFilesMixin, TestCase):
    def setUp(self):
        super().setUp()
        self.scheme = SchemeFactory()
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR)
        self.buddy = cleared_buddy(self.scheme)

    def claim(self, **kwargs):
        details = {
            "buddy": self.buddy,
            "spent_on": date(2026, 11, 3),
            "amount": Decimal("4.50"),
            "category": ExpenseCategory.TRAVEL,
            "description": "Bus fares, return",
            "now": datetime(2026, 11, 4, 12, 0, tzinfo=UTC),
        }
        return services.expense_claim_submit(**{**details, **kwargs})

    def test_approve_then_paid(self):
        claim = self.claim()
        self.assertEqual(claim.state, ClaimState.SUBMITTED)
        claim = services.expense_claim_approve(claim=claim, by=self.coordinator.user)
        self.assertEqual(claim.state, ClaimState.APPROVED)
        self.assertEqual(claim.decided_by, self.coordinator.user)
        with self.assertRaises(DomainError):
            services.expense_claim_refuse(claim=claim, reason="No", by=self.coordinator.user)
        claim = services.expense_claim_paid(
            claim=claim, paid_on=date(2026, 11, 20), by=self.coordinator.user
        )
        self.assertEqual((claim.state, claim.paid_on), (ClaimState.PAID, date(2026, 11, 20)))

    def test_refuse_needs_a_reason_the_buddy_sees(self):
        claim = self.claim()
        with self.assertRaises(DomainError):
            services.expense_claim_refuse(claim=claim, reason="  ", by=self.coordinator.user)
        claim = services.expense_claim_refuse(
            claim=claim, reason="Taxis need agreeing first.", by=self.coordinator.user
        )
        self.assertEqual(claim.state, ClaimState.REFUSED)
        self.assertEqual(
            selectors.claims_for_buddy(self.buddy).get().refusal_reason,
            "Taxis need agreeing first.",
        )
        with self.assertRaises(DomainError):
            services.expense_claim_approve(claim=claim, by=self.coordinator.user)

    def test_deciding_twice_is_refused(self):
        claim = self.claim()
        services.expense_claim_approve(claim=claim, by=self.coordinator.user)
        with self.assertRaises(DomainError):
            services.expense_claim_approve(claim=claim, by=self.coordinator.user)

    def test_a_refused_claim_cannot_be_paid(self):
        claim = self.claim()
        services.expense_claim_refuse(claim=claim, reason="Duplicate", by=self.coordinator.user)
        with self.assertRaises(DomainError):
            services.expense_claim_paid(claim=claim, paid_on=date(2026, 11, 20), by=None)

    def test_a_future_date_and_a_renamed_program_are_refused(self):
        with self.assertRaises(DomainError):
            self.claim(spent_on=date(2026, 12, 25))
        with self.assertRaises(ValidationError):
            self.claim(receipt=renamed_exe("receipt.jpg"))
        self.assertFalse(selectors.claims_for_buddy(self.buddy).exists())

    def test_only_buddies_claim(self):
        with self.assertRaises(DomainError):
            self.claim(buddy=self.coordinator)
