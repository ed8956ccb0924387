"""The append-only access log (issue 21): the database refuses changes to audit rows, staff
views of a participant's record and downloads leave one row each, and coordinators read and
filter their own scheme's log, never another's."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from buddyscheme.audit import audit_record
from buddyscheme.consent import consent_give
from buddyscheme.models import AuditEvent, ConsentKind, Membership, Role

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def raw(sql, params=()):
    """Run one statement in its own savepoint, so a refusal leaves the test's transaction
    usable (PostgreSQL aborts the whole transaction otherwise)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def a_row():
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    row = audit_record(
        actor=coordinator.user, verb="participant_record_view", obj=participant, scheme=scheme
    )
    return row, coordinator, scheme


def refuses_update_and_delete_by_raw_sql():
    row, coordinator, scheme = a_row()
    other = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    refused = [
        (f"UPDATE {TABLE} SET verb = %s WHERE id = %s", ["consent_give", row.pk]),
        (f"UPDATE {TABLE} SET ip_address = %s WHERE id = %s", ["198.51.100.1", row.pk]),
        (f"UPDATE {TABLE} SET user_agent = %s WHERE id = %s", ["Another phone", row.pk]),
        (f"UPDATE {TABLE} SET at = %s WHERE id = %s", [datetime(2020, 1, 1, tzinfo=UTC), row.pk]),
        (f"UPDATE {TABLE} SET object_id = %s WHERE id = %s", [row.object_id + 1, row.pk]),
        # actor and scheme may only go to NULL, never point at someone or somewhere else
        (f"UPDATE {TABLE} SET actor_id = %s WHERE id = %s", [other.user_id, row.pk]),
        (f"UPDATE {TABLE} SET scheme_id = %s WHERE id = %s", [SchemeFactory().pk, row.pk]),
        (f"DELETE FROM {TABLE} WHERE id = %s", [row.pk]),
        (f"DELETE FROM {TABLE}", []),
    ]
    for sql, params in refused:
        with pytest.raises(DatabaseError, match="append-only"):
            raw(sql, params)
    kept = AuditEvent.objects.get(pk=row.pk)
    assert (kept.verb, kept.actor_id, kept.scheme_id, kept.ip_address) == (
        "participant_record_view",
        coordinator.user_id,
        scheme.pk,
        None,
    )
    # Erasure may empty where an action came from (migrations/0019), never change it.
    raw(f"UPDATE {TABLE} SET ip_address = NULL, user_agent = '' WHERE id = %s", [row.pk])
    # The one change the model names: erasure's SET NULL, by raw SQL or by deleting the user.
    raw(f"UPDATE {TABLE} SET scheme_id = NULL WHERE id = %s", [row.pk])
    coordinator.user.delete()
    kept = AuditEvent.objects.get(pk=row.pk)
    assert (kept.actor_id, kept.scheme_id, kept.verb) == (None, None, "participant_record_view")


def test_the_database_refuses_update_and_delete():
    """On whichever database the suite runs (SQLite in the embedded run)."""
    refuses_update_and_delete_by_raw_sql()


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete():
    refuses_update_and_delete_by_raw_sql()


def test_the_triggers_are_installed():
    if connection.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal"
    with connection.cursor() as cursor:
        cursor.execute(sql, [TABLE])
        names = {name for (name,) in cursor.fetchall()}
    expected = (
        {"buddyscheme_auditevent_no_update", "buddyscheme_auditevent_no_delete"}
        if connection.vendor == "sqlite"
        else {"buddyscheme_auditevent_append_only"}
    )
    assert names == expected


class ViewsAreLoggedTest(PersonaTestCase):
    def rows(self, verb):
        return AuditEvent.objects.filter(verb=verb)

    def test_viewing_a_participants_record_writes_one_row_with_who_and_where(self):
        self.login_as("coordinator")
        response = self.client.get(
            f"/coordinator/people/{self.participant_membership.pk}/",
            REMOTE_ADDR="203.0.113.9",
            HTTP_USER_AGENT="Test tablet",
        )
        self.assertEqual(response.status_code, 200)
        row = assert_audited(
            verb="participant_record_view",
            obj=self.participant_membership,
            actor=self.coordinator,
            scheme=self.scheme,
        )
        self.assertEqual((row.ip_address, row.user_agent), ("203.0.113.9", "Test tablet"))
        self.assertEqual(AuditEvent.objects.count(), 1)

    def test_a_buddys_record_and_a_refused_look_write_nothing(self):
        self.login_as("coordinator")
        self.client.get(f"/coordinator/people/{self.buddy_membership.pk}/")
        self.login_as("other_coordinator")
        response = self.client.get(f"/coordinator/people/{self.participant_membership.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(AuditEvent.objects.exists())

    def test_the_matching_and_consents_pages_are_views_of_the_record_too(self):
        self.login_as("coordinator")
        pk = self.participant_membership.pk
        self.assertEqual(
            self.client.get(f"/coordinator/matching/participants/{pk}/").status_code, 200
        )
        self.assertEqual(self.client.get(f"/coordinator/people/{pk}/consents/").status_code, 200)
        for verb in ("participant_matching_view", "participant_consents_view"):
            assert_audited(
                verb=verb,
                obj=self.participant_membership,
                actor=self.coordinator,
                scheme=self.scheme,
            )

    def test_the_enrolment_in_the_admin_is_a_view_of_the_record(self):
        from buddyscheme.models import ParticipantEnrolment

        enrolment = ParticipantEnrolment.objects.create(membership=self.participant_membership)
        self.login_as("coordinator")
        url = f"/admin/buddyscheme/participantenrolment/{enrolment.pk}/change/"
        self.assertEqual(self.client.get(url).status_code, 200)
        assert_audited(
            verb="participant_admin_view",
            obj=self.participant_membership,
            actor=self.coordinator,
            scheme=self.scheme,
        )

    def test_the_expenses_download_is_logged(self):
        self.reauthenticate("coordinator")
        response = self.client.get("/coordinator/expenses/export.csv")
        self.assertEqual(response.status_code, 200)
        assert_audited(
            verb="expenses_csv_download",
            obj=self.scheme,
            actor=self.coordinator,
            scheme=self.scheme,
        )

    def test_role_and_consent_changes_are_on_the_log_page(self):
        consent_give(
            membership=self.participant_membership,
            kind=ConsentKind.HOLD_DATA,
            how="paper",
            by=self.coordinator,
        )
        self.login_as("coordinator")
        response = self.client.get("/coordinator/access-log/")
        self.assertContains(response, "Recorded consent")
        self.assertContains(response, f"Consent record of {self.participant.display_name}")


class AccessLogPageTest(PersonaTestCase):
    """Scheme B is a look-alike: same verbs, same-looking people, same days."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lookalike = MembershipFactory(
            scheme=cls.other_scheme,
            role=Role.PARTICIPANT,
            user__first_name="Lookalike",
            user__email="participant@b.example",
        )

    def record(self, when, *, actor, verb, obj, scheme):
        with time_machine.travel(when, tick=False):
            return audit_record(actor=actor, verb=verb, obj=obj, scheme=scheme)

    def seed(self):
        mine, theirs = [], []
        for day in (1, 2, 3):
            when = datetime(2026, 10, day, 12, tzinfo=UTC)
            mine.append(
                self.record(
                    when,
                    actor=self.coordinator,
                    verb="participant_record_view",
                    obj=self.participant_membership,
                    scheme=self.scheme,
                )
            )
            theirs.append(
                self.record(
                    when,
                    actor=self.other_coordinator,
                    verb="participant_record_view",
                    obj=self.lookalike,
                    scheme=self.other_scheme,
                )
            )
        mine.append(
            self.record(
                datetime(2026, 10, 2, 15, tzinfo=UTC),
                actor=self.coordinator,
                verb="membership_role_change",
                obj=self.buddy_membership,
                scheme=self.scheme,
            )
        )
        return mine, theirs

    def shown(self, query=""):
        response = self.client.get("/coordinator/access-log/" + query)
        self.assertEqual(response.status_code, 200)
        return response, [line.event.pk for line in response.context["lines"]]

    def test_only_the_coordinators_scheme_is_shown(self):
        mine, theirs = self.seed()
        self.login_as("coordinator")
        response, shown = self.shown()
        self.assertEqual(set(shown), {row.pk for row in mine})
        self.assertNotContains(response, "Lookalike")
        self.assertNotContains(response, self.other_coordinator.display_name)
        self.login_as("other_coordinator")
        _, shown = self.shown()
        self.assertEqual(set(shown), {row.pk for row in theirs})

    def test_rows_are_described_in_words_without_special_category_data(self):
        self.seed()
        self.login_as("coordinator")
        response, _ = self.shown()
        self.assertContains(response, "Viewed a participant&#x27;s record")
        self.assertContains(response, f"Participant {self.participant.display_name}")
        self.assertContains(response, f"Buddy {self.buddy.display_name}")
        self.assertContains(response, "Changed a role")

    def test_filter_by_person_verb_and_dates(self):
        mine, _ = self.seed()
        self.login_as("coordinator")
        _, shown = self.shown("?verb=membership_role_change")
        self.assertEqual(shown, [mine[3].pk])
        _, shown = self.shown(f"?person={self.buddy.pk}")
        self.assertEqual(shown, [mine[3].pk])  # the one acted on
        _, shown = self.shown(f"?person={self.coordinator.pk}")
        self.assertEqual(len(shown), 4)  # the one who acted
        _, shown = self.shown("?starts_on=2026-10-02&ends_on=2026-10-02")
        self.assertEqual(set(shown), {mine[1].pk, mine[3].pk})
        _, shown = self.shown("?starts_on=2026-10-03&verb=participant_record_view")
        self.assertEqual(shown, [mine[2].pk])

    def test_another_schemes_person_or_a_bad_filter_is_explained_not_used(self):
        mine, _ = self.seed()
        self.login_as("coordinator")
        for query in (
            f"?person={self.lookalike.user_id}",
            "?person=abc",
            "?verb=not_a_verb",
            "?starts_on=2026-13-45",
            "?starts_on=2026-10-03&ends_on=2026-10-01",
            "?starts_on=0001-01-01",
            "?page=abc",
            "?person=%01",
        ):
            response, shown = self.shown(query)
            self.assertEqual(len(shown), len(mine) if "starts_on=2026-10-03" not in query else 1)
            self.assertTrue(response.context["form"].errors, query)

    def test_paged(self):
        self.login_as("coordinator")
        for _ in range(55):
            audit_record(
                actor=self.coordinator,
                verb="participant_record_view",
                obj=self.participant_membership,
                scheme=self.scheme,
            )
        response, shown = self.shown()
        self.assertEqual(len(shown), 50)
        self.assertContains(response, "page 1 of 2")
        _, shown = self.shown("?page=2")
        self.assertEqual(len(shown), 5)

    def test_query_count_is_flat_as_rows_grow(self):
        self.login_as("coordinator")
        extra = [MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT) for _ in range(30)]

        def add(members):
            for member in members:
                audit_record(
                    actor=self.coordinator,
                    verb="participant_record_view",
                    obj=member,
                    scheme=self.scheme,
                )
                audit_record(actor=member.user, verb="consent_give", obj=member, scheme=self.scheme)
            audit_record(
                actor=self.coordinator,
                verb="expenses_csv_download",
                obj=self.scheme,
                scheme=self.scheme,
            )

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.shown()
            return len(queries)

        add(extra[:2])
        few = count()
        add(extra[2:])
        self.assertEqual(AuditEvent.objects.filter(scheme=self.scheme).count(), 62)
        self.assertEqual(count(), few)

    def test_only_coordinators_see_it(self):
        for persona, status in (("buddy", 403), ("participant", 403)):
            self.login_as(persona)
            self.assertEqual(self.client.get("/coordinator/access-log/").status_code, status)


class AdminCannotEditTest(PersonaTestCase):
    def test_add_change_and_delete_are_refused_even_to_a_superuser(self):
        row = audit_record(
            actor=self.coordinator,
            verb="participant_record_view",
            obj=self.participant_membership,
            scheme=self.scheme,
        )
        self.coordinator.is_superuser = True
        self.coordinator.save(update_fields=["is_superuser"])
        self.login_as("coordinator")
        base = "/admin/buddyscheme/auditevent/"
        self.assertEqual(self.client.get(base + "add/").status_code, 403)
        self.assertEqual(self.client.post(base + "add/", {"verb": "x"}).status_code, 403)
        self.assertEqual(
            self.client.post(f"{base}{row.pk}/change/", {"verb": "x"}).status_code, 403
        )
        self.assertEqual(
            self.client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code, 403
        )
        self.assertEqual(AuditEvent.objects.get(pk=row.pk).verb, "participant_record_view")
        self.assertEqual(row.object_type, ContentType.objects.get_for_model(Membership))


def test_a_date_far_in_the_past_is_refused_by_the_form():
    from buddyscheme.access_log_views import AccessLogFilterForm

    scheme = SchemeFactory()
    form = AccessLogFilterForm({"starts_on": "1900-01-01"}, scheme=scheme)
    assert not form.is_valid()
    assert form.filters()["starts_on"] is None
    assert form.errors["starts_on"] == ["Give a date between 2000 and 2999."]
