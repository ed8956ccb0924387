import logging
import smtplib
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from buddyscheme import services
from buddyscheme.errors import DomainError
from buddyscheme.models import Invitation, Membership, Notification, Role, User
from buddyscheme.notifications import notifications_deliver

from ..factories import MembershipFactory, SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(scheme, email="new.person@example.org", role=Role.BUDDY, **kwargs):
    inviter = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
    return services.invitation_create(
        scheme=scheme, email=email, role=role, invited_by=inviter, **kwargs
    )


class TestInvitations:
    def test_create_emails_a_single_use_link_from_the_discreet_sender(
        self, django_capture_on_commit_callbacks
    ):
        scheme = SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite(scheme, email="  New.Person@Example.org ")
        assert invitation.email == "new.person@example.org"
        assert invitation.status == "open"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["new.person@example.org"]
        assert f"/invite/{invitation.token}/" in message.body
        assert message.from_email.startswith("Appointments <")
        # Discretion: neither the scheme's full name nor the condition appears in the email.
        for text in (message.subject, message.body, message.alternatives[0][0]):
            assert "HIV" not in text and "Positive Living" not in text

    def test_the_email_is_sent_only_after_commit(self, django_capture_on_commit_callbacks):
        scheme = SchemeFactory()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            invite(scheme)
        assert mail.outbox == []
        # One delivery waits for the commit (the others forget the new user's cached access).
        assert [c.__name__ for c in callbacks].count("_deliver_soon") == 1
        for callback in callbacks:
            callback()
        assert len(mail.outbox) == 1

    def test_reinviting_withdraws_the_earlier_open_link(self):
        scheme = SchemeFactory()
        first = invite(scheme)
        second = invite(scheme)
        first.refresh_from_db()
        assert first.status == "revoked"
        assert second.status == "open"

    def test_cannot_invite_someone_who_already_has_the_role(self):
        membership = MembershipFactory(role=Role.BUDDY)
        with pytest.raises(DomainError):
            invite(membership.scheme, email=membership.user.email.upper(), role=Role.BUDDY)

    def test_accept_creates_a_verified_account_with_the_role(self):
        scheme = SchemeFactory()
        invitation = invite(scheme, role=Role.BUDDY, is_on_call=True)
        user, membership = services.invitation_accept(
            token=invitation.token, password="a long enough password", preferred_name="Sam"
        )
        assert user.email == "new.person@example.org"
        assert user.check_password("a long enough password")
        assert user.profile.preferred_name == "Sam"
        assert EmailAddress.objects.get(user=user).verified
        assert (membership.scheme, membership.role, membership.is_on_call) == (
            scheme,
            Role.BUDDY,
            True,
        )
        invitation.refresh_from_db()
        assert invitation.accepted_by == user and invitation.status == "accepted"
        assert not user.is_staff

    def test_accepting_as_coordinator_grants_admin_access(self):
        invitation = invite(SchemeFactory(), role=Role.COORDINATOR)
        user, _ = services.invitation_accept(
            token=invitation.token, password="a long enough password"
        )
        assert user.is_staff and not user.is_superuser

    def test_a_link_works_once(self):
        invitation = invite(SchemeFactory())
        services.invitation_accept(token=invitation.token, password="a long enough password")
        with pytest.raises(services.InvitationUnusable) as problem:
            services.invitation_accept(token=invitation.token, password="another long password")
        assert problem.value.reason == "used"
        assert User.objects.filter(email="new.person@example.org").count() == 1

    def test_a_link_expires(self):
        now = timezone.now()
        invitation = invite(SchemeFactory())
        with pytest.raises(services.InvitationUnusable) as problem:
            services.invitation_check(invitation.token, now=now + timedelta(days=7, seconds=1))
        assert problem.value.reason == "expired"
        assert (
            services.invitation_check(invitation.token, now=now + timedelta(days=6, hours=23))
            == invitation
        )

    def test_a_withdrawn_link_is_refused(self):
        invitation = invite(SchemeFactory())
        services.invitation_revoke(invitation=invitation)
        with pytest.raises(services.InvitationUnusable) as problem:
            services.invitation_check(invitation.token)
        assert problem.value.reason == "revoked"
        with pytest.raises(DomainError):
            services.invitation_revoke(invitation=invitation)

    def test_an_existing_user_adds_the_role_to_their_account(self):
        existing = UserFactory(email="new.person@example.org")
        MembershipFactory(user=existing, role=Role.PARTICIPANT)
        other_scheme = SchemeFactory()
        invitation = invite(other_scheme, role=Role.BUDDY)
        with pytest.raises(DomainError):
            services.invitation_accept(token=invitation.token, password="whatever password")
        user, membership = services.invitation_accept(
            token=invitation.token, password=None, user=existing
        )
        assert user == existing
        assert existing.memberships.count() == 2
        assert membership.scheme == other_scheme

    def test_an_invitation_for_someone_else_cannot_be_taken_by_a_logged_in_user(self):
        stranger = UserFactory(email="stranger@example.org")
        invitation = invite(SchemeFactory())
        with pytest.raises(DomainError):
            services.invitation_accept(token=invitation.token, password=None, user=stranger)
        invitation.refresh_from_db()
        assert invitation.status == "open"  # the failed attempt rolled back the claim


class TestInvitationEmail:
    """The invitation leaves through the outbox, keyed by the invitation."""

    def test_an_invitation_queued_twice_is_emailed_once(self):
        invitation = invite(SchemeFactory())
        services.invitation_email_enqueue(invitation=invitation)
        # ...and the delivery task redelivered as well.
        assert notifications_deliver() == 1
        assert notifications_deliver() == 0
        assert [message.to for message in mail.outbox] == [[invitation.email]]
        row = Notification.objects.get()
        assert (row.recipient, row.to_email, row.status) == (None, invitation.email, "sent")

    def test_the_outbox_retries_a_failing_invitation_email(self, monkeypatch, caplog):
        caplog.set_level(logging.INFO)
        now = timezone.now()
        invitation = invite(SchemeFactory(), now=now)
        send = EmailMultiAlternatives.send
        attempts = []

        def mail_server_drops_the_first(message, *args, **kwargs):
            attempts.append(message.to)
            if len(attempts) == 1:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            return send(message, *args, **kwargs)

        monkeypatch.setattr(EmailMultiAlternatives, "send", mail_server_drops_the_first)
        assert notifications_deliver(now=now) == 0
        row = Notification.objects.get()
        assert (row.status, row.attempts, row.last_error) == (
            "pending",
            1,
            "email: SMTPServerDisconnected",
        )
        assert notifications_deliver(now=now + timedelta(seconds=29)) == 0  # backing off
        assert notifications_deliver(now=now + timedelta(seconds=31)) == 1
        assert len(attempts) == 2
        assert [message.to for message in mail.outbox] == [[invitation.email]]
        assert f"/invite/{invitation.token}/" in mail.outbox[0].body
        # Logs are not private: neither the address nor the link appears in them.
        assert invitation.email not in caplog.text and invitation.token not in caplog.text

    def test_a_withdrawn_invitation_is_not_emailed_late(self):
        scheme = SchemeFactory()
        mistyped = invite(scheme, email="sam@exmaple.org")
        services.invitation_revoke(invitation=mistyped)
        corrected = invite(scheme, email="sam@example.org")
        assert notifications_deliver() == 1
        assert [message.to for message in mail.outbox] == [["sam@example.org"]]
        assert Notification.objects.get(to_email=mistyped.email).status == "skipped"
        assert corrected.status == "open"


class TestMemberships:
    def test_a_user_can_hold_roles_in_several_schemes(self):
        user = UserFactory()
        first, second = SchemeFactory(), SchemeFactory()
        services.membership_grant(user=user, scheme=first, role=Role.BUDDY)
        services.membership_grant(user=user, scheme=second, role=Role.COORDINATOR)
        services.membership_grant(user=user, scheme=first, role=Role.BUDDY, is_facilitator=True)
        assert Membership.objects.filter(user=user).count() == 2
        assert Membership.objects.get(user=user, scheme=first).is_facilitator

    def test_deactivating_the_last_coordinator_role_removes_admin_access(self):
        user = UserFactory()
        first, second = SchemeFactory(), SchemeFactory()
        one = services.membership_grant(user=user, scheme=first, role=Role.COORDINATOR)
        two = services.membership_grant(user=user, scheme=second, role=Role.COORDINATOR)
        services.membership_deactivate(membership=one)
        user.refresh_from_db()
        assert user.is_staff
        services.membership_deactivate(membership=two)
        user.refresh_from_db()
        assert not user.is_staff

    def test_the_database_refuses_a_duplicate_role(self):
        from django.db import IntegrityError, transaction

        membership = MembershipFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(
                user=membership.user, scheme=membership.scheme, role=membership.role
            )


class TestScheme:
    def test_working_hours_follow_the_scheme_time_zone(self):
        from datetime import datetime, time
        from zoneinfo import ZoneInfo

        scheme = SchemeFactory(
            time_zone="Europe/London", working_hours_start=time(9), working_hours_end=time(17)
        )
        utc = ZoneInfo("UTC")
        # 08:30 UTC in July is 09:30 in London (BST): inside hours on a Monday.
        assert scheme.is_within_working_hours(datetime(2026, 7, 6, 8, 30, tzinfo=utc))
        # 08:30 UTC in January is 08:30 in London (GMT): before hours.
        assert not scheme.is_within_working_hours(datetime(2026, 1, 5, 8, 30, tzinfo=utc))
        # Saturday is not a working day by default.
        assert not scheme.is_within_working_hours(datetime(2026, 7, 4, 12, 0, tzinfo=utc))

    def test_validation_explains_bad_settings(self):
        from datetime import time

        from django.core.exceptions import ValidationError

        scheme = SchemeFactory.build(
            time_zone="Mars/Olympus",
            working_hours_start=time(17),
            working_hours_end=time(9),
            working_days="1,9",
        )
        with pytest.raises(ValidationError) as error:
            scheme.full_clean()
        assert set(error.value.message_dict) >= {"time_zone", "working_hours_end", "working_days"}


def test_heartbeat_record_keeps_one_row_per_name():
    services.heartbeat_record("celery")
    services.heartbeat_record("celery")
    from buddyscheme.models import Heartbeat

    assert Heartbeat.objects.filter(name="celery").count() == 1


def test_open_invitations_queryset_excludes_used_revoked_and_expired():
    scheme = SchemeFactory()
    open_one = invite(scheme, email="a@example.org")
    used = invite(scheme, email="b@example.org")
    services.invitation_accept(token=used.token, password="a long enough password")
    revoked = invite(scheme, email="c@example.org")
    services.invitation_revoke(invitation=revoked)
    expired = invite(scheme, email="d@example.org")
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert list(Invitation.objects.open()) == [open_one]
