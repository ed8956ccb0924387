"""The audit trail: every write service in the core leaves one row (who, what, which scheme,
from where), rows hold ids only, nothing can change them, and coordinators see their own."""

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from buddyscheme import services, vetting
from buddyscheme.audit import RequestMeta, audit_record
from buddyscheme.consent import consent_give, consent_withdraw
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    AuditEvent,
    AuditEventImmutable,
    ConsentKind,
    ConsentRecord,
    DBSLevel,
    EligibilityQuestion,
    Membership,
    ParticipantEnrolment,
    Role,
    TrainingModule,
)

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_rows(before: set[int]) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))


def row_ids() -> set[int]:
    return set(AuditEvent.objects.values_list("pk", flat=True))


class TestAppendOnly:
    def test_a_row_cannot_be_updated_or_deleted(self):
        scheme = SchemeFactory()
        membership = MembershipFactory(scheme=scheme)
        row = audit_record(actor=None, verb="membership_grant", obj=membership, scheme=scheme)
        row.verb = "membership_deactivate"
        with pytest.raises(AuditEventImmutable):
            row.save()
        with pytest.raises(AuditEventImmutable):
            AuditEvent.objects.filter(pk=row.pk).update(verb="membership_deactivate")
        with pytest.raises(AuditEventImmutable):
            AuditEvent.objects.bulk_update([row], ["verb"])
        with pytest.raises(AuditEventImmutable):
            row.delete()
        with pytest.raises(AuditEventImmutable):
            AuditEvent.objects.filter(pk=row.pk).delete()
        assert AuditEvent.objects.get(pk=row.pk).verb == "membership_grant"

    def test_deleting_a_person_or_a_scheme_keeps_the_row_without_the_link(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        membership = MembershipFactory(scheme=scheme)
        row = audit_record(
            actor=coordinator, verb="membership_grant", obj=membership, scheme=scheme
        )
        coordinator.delete()
        assert AuditEvent.objects.get(pk=row.pk).actor_id is None
        scheme.delete()
        kept = AuditEvent.objects.get(pk=row.pk)
        assert (kept.scheme_id, kept.verb, kept.object_id) == (
            None,
            "membership_grant",
            membership.pk,
        )

    def test_outside_a_request_there_is_no_address_or_browser(self):
        scheme = SchemeFactory()
        membership = MembershipFactory(scheme=scheme)
        row = audit_record(actor=None, verb="membership_grant", obj=membership, scheme=scheme)
        assert (row.ip_address, row.user_agent) == (None, "")
        given = audit_record(
            actor=None,
            verb="membership_grant",
            obj=membership,
            scheme=scheme,
            request_meta=RequestMeta(ip_address="not an address", user_agent="x" * 500),
        )
        assert given.ip_address is None and len(given.user_agent) == 200


class TestInvitationsAndMemberships:
    def test_create_withdraw_and_accept_each_leave_a_row(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        first = services.invitation_create(
            scheme=scheme, email="new@example.org", role=Role.BUDDY, invited_by=coordinator
        )
        assert_audited(verb="invitation_create", obj=first, actor=coordinator, scheme=scheme)
        # Inviting again withdraws the first link: that is recorded too.
        second = services.invitation_create(
            scheme=scheme, email="new@example.org", role=Role.BUDDY, invited_by=coordinator
        )
        assert_audited(verb="invitation_revoke", obj=first, actor=coordinator, scheme=scheme)
        user, membership = services.invitation_accept(
            token=second.token, password="a long enough password"
        )
        assert_audited(verb="invitation_accept", obj=second, actor=user, scheme=scheme)
        assert_audited(verb="membership_grant", obj=membership, actor=user, scheme=scheme)
        third = services.invitation_create(
            scheme=scheme, email="other@example.org", role=Role.BUDDY, invited_by=coordinator
        )
        services.invitation_revoke(invitation=third, by=coordinator)
        assert_audited(verb="invitation_revoke", obj=third, actor=coordinator, scheme=scheme)

    def test_a_refused_change_leaves_no_row(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        invitation = services.invitation_create(
            scheme=scheme, email="new@example.org", role=Role.BUDDY, invited_by=coordinator
        )
        services.invitation_revoke(invitation=invitation, by=coordinator)
        before = row_ids()
        with pytest.raises(DomainError):
            services.invitation_revoke(invitation=invitation, by=coordinator)
        assert new_rows(before) == []

    def test_grant_deactivate_and_role_change(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        user = UserFactory()
        membership = services.membership_grant(
            user=user, scheme=scheme, role=Role.BUDDY, by=coordinator
        )
        assert_audited(verb="membership_grant", obj=membership, actor=coordinator, scheme=scheme)
        membership.role = Role.COORDINATOR
        services.membership_update(membership=membership, changed=["role"], by=coordinator)
        assert_audited(
            verb="membership_role_change", obj=membership, actor=coordinator, scheme=scheme
        )
        user.refresh_from_db()
        assert user.is_staff  # a coordinator now, so the admin admits them
        services.membership_deactivate(membership=membership, by=coordinator)
        assert_audited(
            verb="membership_deactivate", obj=membership, actor=coordinator, scheme=scheme
        )
        user.refresh_from_db()
        assert not user.is_staff


class TestVettingAndEnrolment:
    def test_stage_dbs_and_training_each_leave_a_row(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY)
        vetting.buddy_stage_move(
            membership=buddy, to_stage="references", by=coordinator, evidence="Two back"
        )
        step = buddy.vetting.steps.get()
        assert_audited(verb="buddy_stage_move", obj=step, actor=coordinator, scheme=scheme)
        today = timezone.localdate()
        check = vetting.dbs_check_record(
            membership=buddy,
            by=coordinator,
            level=DBSLevel.ENHANCED,
            certificate_number="001122",
            issue_date=today - timedelta(days=10),
            renewal_due=today + timedelta(days=900),
        )
        assert_audited(verb="dbs_check_record", obj=check, actor=coordinator, scheme=scheme)
        module = TrainingModule.objects.create(scheme=scheme, name="Safeguarding")
        completion = vetting.training_complete(
            membership=buddy, module=module, completed_on=date(2026, 1, 5), by=coordinator
        )
        assert_audited(verb="training_complete", obj=completion, actor=coordinator, scheme=scheme)

    def test_enrolment_and_sensitive_notes_leave_ids_not_what_was_written(self):
        scheme = SchemeFactory()
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
        question = EligibilityQuestion.objects.create(scheme=scheme, text="Over 18?")
        enrolment = vetting.participant_enrol(
            membership=participant,
            by=coordinator,
            referral_source="clinic",
            answers={question.pk: True},
            consent_to_hold_data=True,
        )
        assert_audited(verb="participant_enrol", obj=enrolment, actor=coordinator, scheme=scheme)
        with pytest.raises(DomainError):  # no consent to special-category data yet
            vetting.enrolment_sensitive_notes_save(
                membership=participant, notes="Diagnosed 2019", by=coordinator
            )
        assert not AuditEvent.objects.filter(verb="enrolment_sensitive_notes_save").exists()
        consent_give(membership=participant, kind=ConsentKind.SPECIAL_CATEGORY, by=coordinator)
        vetting.enrolment_sensitive_notes_save(
            membership=participant, notes="Diagnosed 2019", by=coordinator
        )
        row = assert_audited(
            verb="enrolment_sensitive_notes_save",
            obj=enrolment,
            actor=coordinator,
            scheme=scheme,
        )
        stored = AuditEvent.objects.filter(pk=row.pk).values().get()
        assert not any("2019" in str(value) for value in stored.values())
        assert not any(
            participant.user.email in str(value) for value in stored.values()
        )  # ids, never the person's details


class TestConsent:
    def test_give_and_withdraw_record_who_did_it(self):
        scheme = SchemeFactory()
        participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
        record = consent_give(membership=participant, kind=ConsentKind.PHOTOS, by=participant.user)
        assert_audited(verb="consent_give", obj=record, actor=participant.user, scheme=scheme)
        # Giving it again changes nothing, so it records nothing.
        consent_give(membership=participant, kind=ConsentKind.PHOTOS, by=participant.user)
        assert AuditEvent.objects.filter(verb="consent_give").count() == 1
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
        consent_withdraw(membership=participant, kind=ConsentKind.PHOTOS, by=coordinator)
        assert_audited(verb="consent_withdraw", obj=record, actor=coordinator, scheme=scheme)
        assert ConsentRecord.objects.get(pk=record.pk).withdrawn_at is not None


class RequestMetaTest(PersonaTestCase):
    def test_the_address_and_browser_of_the_request_reach_the_row(self):
        self.login_as("coordinator")
        self.client.post(
            f"/coordinator/people/{self.buddy_membership.pk}/stage/",
            {"to_stage": "references", "evidence": "Two references back"},
            HTTP_USER_AGENT="Mozilla/5.0 (test phone)",
            REMOTE_ADDR="203.0.113.7",
        )
        step = self.buddy_membership.vetting.steps.get()
        row = assert_audited(
            verb="buddy_stage_move", obj=step, actor=self.coordinator, scheme=self.scheme
        )
        self.assertEqual(
            (row.ip_address, row.user_agent), ("203.0.113.7", "Mozilla/5.0 (test phone)")
        )
        # The request is over: a write after it does not borrow its address.
        later = audit_record(
            actor=None, verb="membership_grant", obj=self.buddy_membership, scheme=self.scheme
        )
        self.assertIsNone(later.ip_address)


class AuditAdminTest(PersonaTestCase):
    def setUp(self):
        self.ours = audit_record(
            actor=self.coordinator,
            verb="membership_grant",
            obj=self.buddy_membership,
            scheme=self.scheme,
        )
        self.theirs = audit_record(
            actor=self.other_coordinator,
            verb="membership_grant",
            obj=self.other_coordinator_membership,
            scheme=self.other_scheme,
        )
        self.nowhere = audit_record(
            actor=None, verb="membership_grant", obj=self.buddy_membership, scheme=None
        )

    def listed(self):
        response = self.client.get("/admin/buddyscheme/auditevent/")
        self.assertEqual(response.status_code, 200)
        return {row.pk for row in response.context["cl"].result_list}

    def test_a_coordinator_sees_only_their_schemes_rows(self):
        self.login_as("coordinator")
        self.assertEqual(self.listed(), {self.ours.pk})
        self.login_as("other_coordinator")
        self.assertEqual(self.listed(), {self.theirs.pk})
        self.assertEqual(
            self.client.get(f"/admin/buddyscheme/auditevent/{self.ours.pk}/change/").status_code,
            302,  # the admin's "does not exist", never the row
        )

    def test_nobody_can_change_or_delete_a_row_in_the_admin(self):
        self.login_as("coordinator")
        url = f"/admin/buddyscheme/auditevent/{self.ours.pk}/"
        self.assertEqual(self.client.get(url + "change/").status_code, 200)  # read-only view
        self.assertEqual(self.client.post(url + "change/", {"verb": "x"}).status_code, 403)
        self.assertEqual(self.client.post(url + "delete/", {"post": "yes"}).status_code, 403)
        response = self.client.post(
            "/admin/buddyscheme/auditevent/",
            {"action": "delete_selected", "_selected_action": [self.ours.pk]},
        )
        self.assertNotEqual(response.status_code, 500)
        self.assertTrue(
            AuditEvent.objects.filter(pk=self.ours.pk, verb="membership_grant").exists()
        )

    def test_role_changes_in_the_admin_go_through_the_service(self):
        self.reauthenticate("coordinator")  # a role change asks for the password again
        member = self.buddy_membership
        url = f"/admin/buddyscheme/membership/{member.pk}/change/"
        form = self.client.get(url).context["adminform"].form
        data = {
            name: value
            for name, value in form.initial.items()
            if value is not None and not isinstance(value, bool)
        }
        data.update(
            user=member.user_id,
            scheme=member.scheme_id,
            role=Role.COORDINATOR,
            is_active="on",
            joined_at_0=timezone.localtime(member.joined_at).strftime("%Y-%m-%d"),
            joined_at_1=timezone.localtime(member.joined_at).strftime("%H:%M:%S"),
        )
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302, getattr(response, "context", None))
        member = Membership.objects.get(pk=member.pk)
        self.assertEqual(member.role, Role.COORDINATOR)
        assert_audited(
            verb="membership_role_change", obj=member, actor=self.coordinator, scheme=self.scheme
        )
        member.user.refresh_from_db()
        self.assertTrue(member.user.is_staff)


def test_the_object_is_named_by_type_and_id():
    scheme = SchemeFactory()
    membership = MembershipFactory(scheme=scheme)
    row = audit_record(actor=None, verb="membership_grant", obj=membership, scheme=scheme)
    assert row.object_type == ContentType.objects.get_for_model(Membership)
    assert row.object_id == membership.pk
    assert ParticipantEnrolment.objects.count() == 0  # recording writes nothing else
