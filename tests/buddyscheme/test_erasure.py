"""Erasure, verified: a person seeded with distinctive identifiers across every feature is
erased, then every text column of every table and every stored file is searched for them."""

import os
import tempfile

from django.apps import apps
from django.db import connection
from django.test import TestCase, override_settings

from buddyscheme.erasure import erasure_plan, person_erase
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    AuditEvent,
    CaseNote,
    Concern,
    ErasureStatus,
    Notification,
    Role,
    User,
)
from buddyscheme.personal_data import HOLD_AGREEMENTS, HOLD_SAFEGUARDING

from ..factories import (
    ZEBEDIAH,
    MembershipFactory,
    SchemeFactory,
    seed_buddy_everywhere,
    seed_participant_everywhere,
)

FIRST, LAST, EMAIL = ZEBEDIAH.first, ZEBEDIAH.last, ZEBEDIAH.email
# What the search looks for after erasure: each must be found nowhere.
NEEDLES = [FIRST, LAST, EMAIL, "900731", "Marmalade", "Thistlebury", "Ottoline"]


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

        # A first name alone is removed only in records around the person.
        other_note.refresh_from_db()
        self.assertEqual(other_note.text, f"{FIRST} from another scheme")

    def test_distinctive_identifiers_go_from_every_scheme_a_first_name_only_around_them(self):
        other = SchemeFactory(name="Other erasure scheme", sender_name="Other")
        stranger = MembershipFactory(scheme=other, role=Role.PARTICIPANT)
        # Another scheme wrote him down by full name, email and phone (he was referred there).
        CaseNote.objects.create(
            membership=stranger,
            text=f"Came with {FIRST} {LAST} ({EMAIL}, {ZEBEDIAH.phone}); {FIRST} waited outside",
        )
        Notification.objects.create(
            scheme=other,
            channel="email",
            to_email=EMAIL,
            template="referral_received",
            dedupe_key="erase-other-scheme",
            context={"name": f"{FIRST} {LAST}"},
        )
        # Another Zebediah in his own scheme, never matched with him, keeps his name in his notes.
        namesake = MembershipFactory(
            scheme=self.scheme, role=Role.PARTICIPANT, user__first_name=FIRST
        )
        namesake_note = CaseNote.objects.create(membership=namesake, text=f"{FIRST} moved house")
        distinctive = [f"{FIRST} {LAST}", EMAIL, "900731", "Ottoline"]
        control = database_hits(distinctive)
        self.assertTrue(any(hit.startswith("buddyscheme_casenote.text") for hit in control))

        person_erase(person=self.person, scheme=self.scheme, by=self.coordinator)

        self.assertEqual(database_hits(distinctive), [])
        # A record that holds his email is about him: his first name goes from it too.
        note = CaseNote.objects.get(membership=stranger)
        self.assertEqual(
            note.text, "Came with [removed] ([removed], [removed]); [removed] waited outside"
        )
        namesake_note.refresh_from_db()
        self.assertEqual(namesake_note.text, f"{FIRST} moved house")


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

        from volunteering.models import ExpenseClaim

        scheme = SchemeFactory(name="Buddy erasure scheme", sender_name="Appointments")
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        buddy = seed_buddy_everywhere(scheme)
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
