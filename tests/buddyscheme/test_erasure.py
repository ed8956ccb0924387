"""Erasure, verified: a person seeded with distinctive identifiers across every feature is
erased, then every text column of every table and every stored file is searched for them."""

import os
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection
from django.test import TestCase, override_settings

from buddyscheme.erasure import erasure_plan, person_erase
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    AuditEvent,
    CaseNote,
    Concern,
    ConcernAction,
    ConsentKind,
    ConsentRecord,
    DiaryEntry,
    ErasureStatus,
    Notification,
    ParticipantEnrolment,
    Profile,
    Referral,
    Role,
    User,
)
from buddyscheme.personal_data import HOLD_AGREEMENTS, HOLD_SAFEGUARDING

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, sign_all, venue

FIRST, LAST = "Zebediah", "Quillfeather"
EMAIL = "zq-7731@example.org"
PHONE = "07700 900731"
ADDRESS = "14 Marmalade Row, Thistlebury"
# What the search looks for after erasure: each must be found nowhere.
NEEDLES = [FIRST, LAST, EMAIL, "900731", "Marmalade", "Thistlebury", "Ottoline"]
WHEN = datetime(2026, 10, 5, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def database_hits(needles) -> list[str]:
    """Every (table.column, needle) whose text holds a needle, over every column of every table."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            ]
            for column in columns:
                quoted = f"{connection.ops.quote_name(table)}"
                expression = f"LOWER(CAST({connection.ops.quote_name(column)} AS TEXT))"
                for needle in needles:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {quoted} WHERE {expression} LIKE %s",
                        [f"%{needle.lower()}%"],
                    )
                    if cursor.fetchone()[0]:
                        hits.append(f"{table}.{column}: {needle}")
    return hits


def file_hits(roots, needles) -> list[str]:
    hits = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    content = handle.read().lower()
                for needle in needles:
                    if needle.lower().encode() in content or needle.lower() in path.lower():
                        hits.append(f"{path}: {needle}")
    return hits


def seed_participant_everywhere(scheme):
    """Zebediah Quillfeather, participant: profile, consent, referral, match, agreement,
    meetings at home, debrief, concerns, case notes, messages, outbox, questionnaire,
    groups, next steps. Returns (membership, buddy membership, match)."""
    from evaluation.models import (
        Answer,
        Invitation,
        Question,
        Questionnaire,
        QuestionnaireVersion,
        Response,
    )
    from groups.models import (
        Attendance,
        Exclusion,
        GroupMember,
        GroupSession,
        PeerGroup,
        SessionFeedback,
    )
    from matching.models import (
        BreachRecord,
        Ending,
        FriendshipDisclosure,
        Goal,
        GoalProgress,
        Match,
        MatchEvent,
        MatchProfile,
        MatchReview,
        PairBlock,
        RematchRequest,
        StopRequest,
        SuggestionOffer,
        SuggestionOption,
    )
    from meetings.models import Alert, Debrief, DebriefItem, Meeting, PatternDismissal
    from messaging.models import Conversation, Message
    from signposting.models import NextStepsPlan, PlanAction

    membership = MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email=EMAIL,
        user__first_name=FIRST,
        user__last_name=LAST,
    )
    person = membership.user
    Profile.objects.update_or_create(
        user=person,
        defaults={
            "preferred_name": FIRST,
            "phone": PHONE,
            "contact_notes": f"Ring {PHONE} after 4pm, not at {ADDRESS}",
            "emergency_contact_name": f"Ottoline {LAST}",
            "emergency_contact_phone": "07700 900732",
            "emergency_contact_relationship": "Sister",
        },
    )
    ParticipantEnrolment.objects.create(
        membership=membership,
        eligible=True,
        referral_detail=f"GP surgery of {FIRST} {LAST}",
        eligibility_answers={"where": ADDRESS},
        sensitive_notes=f"{FIRST} was diagnosed in 2019",
    )
    ConsentRecord.objects.create(
        membership=membership, kind=ConsentKind.HOLD_DATA, detail=f"Given by {FIRST} at home"
    )
    Referral.objects.create(
        scheme=scheme,
        membership=membership,
        source="self",
        person_name=f"{FIRST} {LAST}",
        person_email=EMAIL,
        person_phone=PHONE,
        consent_to_contact=True,
        needs=[f"lives at {ADDRESS}"],
        risks=f"{FIRST} has a dog",
    )
    MatchProfile.objects.create(membership=membership, about=f"I'm {FIRST}, from Thistlebury")
    buddy = cleared_buddy(scheme)
    match = Match.objects.create(
        scheme=scheme,
        buddy=buddy,
        participant=membership,
        state="active",
        reasons=[f"Both near {ADDRESS}"],
    )
    MatchEvent.objects.create(match=match, to_state="active", note=f"{FIRST} agreed")
    contract = sign_all(match)
    assert FIRST in contract.text or FIRST in contract.signatures.first().typed_name
    goal = Goal.objects.create(match=match, text=f"{FIRST} to go to the library")
    review = MatchReview.objects.create(
        match=match,
        due_on=date(2026, 11, 1),
        held_on=date(2026, 11, 1),
        held_with="both",
        outcome="continue",
        notes=f"{FIRST} is doing well",
    )
    GoalProgress.objects.create(goal=goal, review=review, score=3, note=f"{FIRST} went twice")
    RematchRequest.objects.create(match=match, requested_by=membership, reason=f"{FIRST} moved")
    StopRequest.objects.create(participant=membership, match=match, reason="moving")
    Ending.objects.create(match=match, ending_type="planned", notes=f"{FIRST} thanked us")
    BreachRecord.objects.create(
        scheme=scheme,
        person=membership,
        match=match,
        what_happened=f"{FIRST} gave his number {PHONE}",
        consequences="Talked it through",
    )
    FriendshipDisclosure.objects.create(match=match, by=buddy, note=f"Met {FIRST}'s family")
    PairBlock.objects.create(
        buddy=cleared_buddy(scheme), participant=membership, kind="conflict", reason=f"{LAST}s"
    )
    offer = SuggestionOffer.objects.create(participant=membership)
    SuggestionOption.objects.create(
        offer=offer, buddy=buddy, position=1, score=5, reasons=[f"near {ADDRESS}"]
    )
    home = venue(scheme, name="Home visit", kind="home_visit", address=ADDRESS)
    meeting = Meeting.objects.create(
        scheme=scheme,
        match=match,
        buddy=buddy,
        venue=home,
        purpose="Coffee",
        planned_start=WHEN,
        planned_end=WHEN + timedelta(hours=1),
        expected_end=WHEN + timedelta(hours=1),
    )
    debrief = Debrief.objects.create(
        meeting=meeting,
        opened_at=WHEN,
        what_happened=f"{FIRST} showed me round Thistlebury",
        concerns=f"{FIRST} seemed low",
    )
    DebriefItem.objects.create(
        debrief=debrief, match=match, kind="action", text=f"Call {FIRST} on {PHONE}"
    )
    Alert.objects.create(
        meeting=meeting, level=1, reason="overdue", due_at=WHEN, notes=f"Rang {PHONE}"
    )
    PatternDismissal.objects.create(
        match=match, kind="no_meeting", evidence_at=WHEN, note=f"{FIRST} was ill"
    )
    # Someone else's words about him, not linked to him: only the sweep finds these.
    DiaryEntry.objects.create(buddy=buddy, text=f"Worried about {FIRST} today: rang 07700900731")
    CaseNote.objects.create(membership=membership, text=f"{FIRST} {LAST} phoned")
    concern = Concern.objects.create(
        scheme=scheme,
        raised_by=buddy,
        about=membership,
        kind="someone",
        text=f"{FIRST} mentioned debts",
        source="today",
    )
    ConcernAction.objects.create(concern=concern, kind="note", text=f"Spoke to {LAST}")
    conversation = Conversation.objects.create(
        scheme=scheme, kind="direct", member=membership, other=buddy
    )
    Message.objects.create(
        conversation=conversation, sender=membership, side="member", text=f"It's {FIRST}"
    )
    Message.objects.create(
        conversation=conversation, sender=buddy, side="other", text=f"Hi {FIRST}!"
    )
    Notification.objects.create(
        scheme=scheme,
        recipient=person,
        channel="email",
        template="reminder",
        dedupe_key="erase-test-1",
        context={"name": FIRST, "phone": PHONE},
    )
    # Sent before he had an account (his referral's acknowledgement): no link but the address.
    Notification.objects.create(
        scheme=scheme,
        channel="email",
        to_email=EMAIL,
        template="referral_received",
        dedupe_key="erase-test-3",
        context={"name": FIRST},
    )
    Notification.objects.create(
        scheme=scheme,
        recipient=buddy.user,
        channel="email",
        template="reminder",
        dedupe_key="erase-test-2",
        context={"participant": f"{FIRST} {LAST}"},
    )
    questionnaire = Questionnaire.objects.create(scheme=scheme, name="Wellbeing")
    version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
    scale = Question.objects.create(version=version, position=1, text="How?", kind="scale")
    free = Question.objects.create(version=version, position=2, text="Anything?", kind="text")
    invitation = Invitation.objects.create(
        person=membership,
        questionnaire=questionnaire,
        version=version,
        occasion="other",
        match=match,
        expires_at=WHEN + timedelta(days=30),
    )
    response = Response.objects.create(invitation=invitation, version=version)
    Answer.objects.create(response=response, question=scale, value=7)
    Answer.objects.create(response=response, question=free, value=f"{FIRST} says thanks")
    group = PeerGroup.objects.create(
        scheme=scheme,
        name="Peer group",
        neutral_name="Tuesday group",
        purpose="Peer support",
        venue=venue(scheme, name="Group room", kind="in_house"),
        signage_text="Private meeting",
        complaints_contact="Office",
    )
    session = GroupSession.objects.create(
        group=group, planned_start=WHEN, planned_end=WHEN + timedelta(hours=2)
    )
    member = GroupMember.objects.create(
        group=group, membership=membership, eligibility={"note": f"{FIRST} is eligible"}
    )
    Attendance.objects.create(session=session, member=member)
    Exclusion.objects.create(member=member, reason=f"{FIRST} shouted", review_on=date(2026, 12, 1))
    SessionFeedback.objects.create(
        session=session,
        felt_welcome=4,
        felt_safe=4,
        would_come_again=True,
        comments=f"Sat next to {FIRST}",
    )
    plan = NextStepsPlan.objects.create(
        scheme=scheme, match=match, participant=membership, starts_on=date(2026, 11, 1)
    )
    PlanAction.objects.create(plan=plan, due_on=date(2026, 12, 1), what=f"{FIRST} to call GP")
    return membership, buddy, match


@override_settings(
    PRIVATE_FILES_ROOT=tempfile.mkdtemp(prefix="erase-private-"),
    MEDIA_ROOT=tempfile.mkdtemp(prefix="erase-media-"),
)
class ParticipantErasureVerifiedTests(TestCase):
    def setUp(self):
        self.scheme = SchemeFactory(name="Erasure scheme", sender_name="Appointments")
        self.coordinator = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        self.membership, self.buddy, self.match = seed_participant_everywhere(self.scheme)
        self.person = self.membership.user

    def test_seeded_identifiers_are_found_before_erasure(self):
        # The search can fail: before erasure it finds each needle.
        hits = database_hits(NEEDLES)
        for needle in NEEDLES:
            self.assertTrue(any(hit.endswith(f": {needle}") for hit in hits), needle)

    def test_erasure_leaves_no_identifier_in_any_column_or_file(self):
        from django.conf import settings

        person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        self.assertEqual(database_hits(NEEDLES), [])
        roots = [settings.PRIVATE_FILES_ROOT, settings.MEDIA_ROOT]
        self.assertEqual(file_hits(roots, NEEDLES), [])

    def test_statistics_survive(self):
        from evaluation.models import Answer
        from groups.models import Attendance
        from matching.models import Match
        from meetings.models import Meeting

        person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        self.assertTrue(Match.objects.filter(pk=self.match.pk, state="active").exists())
        self.assertEqual(Meeting.objects.filter(match=self.match).count(), 1)
        self.assertEqual(Attendance.objects.filter(member__membership=self.membership).count(), 1)
        answers = dict(
            Answer.objects.filter(response__invitation__person=self.membership).values_list(
                "question__kind", "value"
            )
        )
        self.assertEqual(answers["scale"], 7)
        self.assertIn(answers["text"], ("", None, {}))

    def test_account_is_anonymised_and_cannot_log_in(self):
        person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        person = User.objects.get(pk=self.person.pk)
        self.assertFalse(person.is_active)
        self.assertFalse(person.has_usable_password())
        self.assertEqual((person.first_name, person.last_name), ("", ""))
        self.assertFalse(self.client.login(email=EMAIL, password="buddy-demo-2026"))

    def test_erasure_is_logged_without_the_name(self):
        from buddyscheme.audit import RequestMeta, audit_record

        own = audit_record(
            actor=self.person,
            verb="consent_give",
            obj=self.membership,
            scheme=self.scheme,
            request_meta=RequestMeta(ip_address="203.0.113.77", user_agent="Zeb's phone"),
        )
        request = person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        # Their own action stays on the log (an id), without where it came from.
        own = AuditEvent.objects.get(pk=own.pk)
        self.assertEqual(
            (own.actor_id, own.verb, own.ip_address, own.user_agent),
            (self.person.pk, "consent_give", None, ""),
        )

        row = AuditEvent.objects.get(verb="person_erase")
        self.assertEqual((row.actor_id, row.object_id), (self.coordinator.pk, request.pk))
        self.assertEqual(request.status, ErasureStatus.ERASED)
        self.assertGreater(request.removed_counts["messaging.Message"], 1)

    def test_dry_run_changes_nothing_and_lists_what_goes(self):
        plan = erasure_plan(person=self.person, scheme=self.scheme)

        labels = {line.model_label: line.action for line in plan.lines}
        self.assertEqual(labels["buddyscheme.CaseNote"], "deleted")
        self.assertEqual(labels["messaging.Message"], "emptied")
        self.assertEqual(labels["contracts.Contract"], "deleted")
        self.assertTrue(CaseNote.objects.filter(membership=self.membership).exists())
        self.assertEqual(User.objects.get(pk=self.person.pk).first_name, FIRST)

    def test_legal_hold_keeps_agreements_and_concerns_with_the_reason(self):
        from contracts.models import Contract

        plan = erasure_plan(
            person=self.person, scheme=self.scheme, held=[HOLD_AGREEMENTS, HOLD_SAFEGUARDING]
        )
        self.assertEqual(
            {line.model_label for line in plan.kept},
            {
                "contracts.Contract",
                "contracts.Signature",
                "buddyscheme.Concern",
                "buddyscheme.ConcernAction",
                "matching.BreachRecord",
                "groups.Exclusion",
            },
        )
        request = person_erase(
            person=self.person,
            scheme=self.scheme,
            by=self.coordinator,
            held=[HOLD_AGREEMENTS, HOLD_SAFEGUARDING],
            reason=f"Insurer's claim open until 2027 (re {FIRST})",
        )

        self.assertTrue(Contract.objects.filter(match=self.match).exists())
        self.assertIn(FIRST, Concern.objects.get(about=self.membership).text)
        self.assertEqual(request.held, [HOLD_AGREEMENTS, HOLD_SAFEGUARDING])
        request.refresh_from_db()
        # The reason is kept; a name typed into it is not.
        self.assertEqual(
            request.legal_hold_reason, "Insurer's claim open until 2027 (re [removed])"
        )
        hits = database_hits([FIRST])
        self.assertTrue(hits)
        self.assertTrue(all(hit.split(".")[0] in HELD_TABLES for hit in hits), hits)

    def test_a_hold_needs_a_reason(self):
        with self.assertRaisesMessage(DomainError, "Say why"):
            person_erase(
                person=self.person, scheme=self.scheme, by=self.coordinator, held=[HOLD_AGREEMENTS]
            )
        self.assertEqual(User.objects.get(pk=self.person.pk).first_name, FIRST)

    def test_coordinators_are_not_erased_here(self):
        with self.assertRaises(DomainError):
            person_erase(person=self.coordinator, scheme=self.scheme, by=self.coordinator)

    def test_another_schemes_people_are_untouched(self):
        other = SchemeFactory(name="Other erasure scheme", sender_name="Other")
        other_note = CaseNote.objects.create(
            membership=MembershipFactory(scheme=other, role=Role.PARTICIPANT),
            text=f"{FIRST} from another scheme",
        )

        person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        # A first name alone is removed only inside the erasing scheme.
        other_note.refresh_from_db()
        self.assertEqual(other_note.text, f"{FIRST} from another scheme")


HELD_TABLES = {
    "contracts_contract",
    "contracts_signature",
    "buddyscheme_concern",
    "buddyscheme_concernaction",
    "matching_breachrecord",
    "groups_exclusion",
}


@override_settings(PRIVATE_FILES_ROOT=tempfile.mkdtemp(prefix="erase-private-"))
class BuddyErasureVerifiedTests(TestCase):
    def test_buddy_erasure_leaves_no_identifier_in_any_column_or_file(self):
        from django.conf import settings

        from buddyscheme.models import BuddyVetting, Supervision, VettingStep
        from recruitment.models import Application, Reference
        from volunteering.models import ExpenseClaim

        scheme = SchemeFactory(name="Buddy erasure scheme", sender_name="Appointments")
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        buddy = cleared_buddy(scheme, email=EMAIL)
        User.objects.filter(pk=buddy.user_id).update(first_name=FIRST, last_name=LAST)
        Profile.objects.update_or_create(user=buddy.user, defaults={"phone": PHONE})
        application = Application.objects.create(
            scheme=scheme,
            membership=buddy,
            first_name=FIRST,
            last_name=LAST,
            email=EMAIL,
            phone=PHONE,
            motivation=f"I live at {ADDRESS}",
            availability="Evenings",
            consent_to_checks=True,
        )
        Reference.objects.create(
            application=application,
            membership=buddy,
            position=1,
            referee_name=f"Ottoline {LAST}",
            referee_email="ottoline@example.org",
            relationship="Sister",
            known_for="10 years",
            how_known=f"{FIRST} is my brother",
        )
        vetting = BuddyVetting.objects.get(membership=buddy)
        VettingStep.objects.create(
            vetting=vetting, to_stage="approved", evidence=f"Met {FIRST} at Thistlebury"
        )
        Supervision.objects.create(
            scheme=scheme,
            buddy=buddy,
            mode="phone",
            starts_at=WHEN,
            ends_at=WHEN + timedelta(hours=1),
            notes=f"{FIRST} is coping",
        )
        claim = ExpenseClaim(
            scheme=scheme,
            buddy=buddy,
            spent_on=date(2026, 10, 1),
            amount=Decimal("4.50"),
            category="travel",
            description=f"Bus from {ADDRESS}",
        )
        claim.receipt.save("receipt.txt", ContentFile(f"Paid by {FIRST} {LAST}".encode()))
        self.assertTrue(file_hits([settings.PRIVATE_FILES_ROOT], [FIRST]))

        person_erase(person=buddy.user, scheme=scheme, by=coordinator)

        self.assertEqual(database_hits(NEEDLES), [])
        self.assertEqual(file_hits([settings.PRIVATE_FILES_ROOT], NEEDLES), [])
        self.assertEqual(ExpenseClaim.objects.filter(buddy=buddy).count(), 1)


class InventoryModelsTests(TestCase):
    def test_every_model_is_a_django_model(self):
        from buddyscheme.personal_data import INVENTORY

        for label in INVENTORY:
            self.assertIsNotNone(apps.get_model(label), label)
