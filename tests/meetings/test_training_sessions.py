"""Induction and training sessions (issue 15): a dated session of a module at a venue, invitations
by email, attending / apologies from the invitee's phone, attendance afterwards completing the
module on the session's day (with its renewal), and what is due on the buddy's Today."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from buddyscheme.errors import DomainError
from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    Notification,
    Role,
    TrainingCompletion,
    TrainingModule,
)
from meetings import services
from meetings.models import TrainingInvitation

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, enrol_totp, venue

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=5)
AFTER = START + timedelta(hours=4)


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def cora(scheme):
    cora = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    enrol_totp(cora.user)
    return cora


@pytest.fixture
def module(scheme):
    return TrainingModule.objects.create(
        scheme=scheme, name="Safeguarding", mandatory=True, valid_for_months=12
    )


def applicant(scheme, name):
    member = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__first_name=name)
    BuddyVetting.objects.create(membership=member, stage=BuddyStage.TRAINING)
    return member


@pytest.fixture
def session(scheme, module, cora):
    return services.training_session_create(
        scheme=scheme,
        module=module,
        venue=venue(scheme, name="Our training room"),
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        capacity=2,
        by=cora.user,
        now=BEFORE,
    )


class TestSessions:
    def test_invitations_are_emailed_once(self, scheme, session, cora):
        ann, bob = applicant(scheme, "Ann"), applicant(scheme, "Bob")
        sent = services.training_invite(
            session=session, invitees=[ann, bob], by=cora.user, now=BEFORE
        )
        assert len(sent) == 2
        again = services.training_invite(session=session, invitees=[ann], by=cora.user, now=BEFORE)
        assert again == []
        messages = Notification.objects.filter(template="training_invitation")
        assert sorted(m.recipient_id for m in messages) == sorted([ann.user_id, bob.user_id])
        assert {m.channel for m in messages} == {"email"}
        assert services.invitable_people(session).count() == 0

    def test_answers_fill_the_places_and_apologies_free_one(self, scheme, session, cora):
        people = [applicant(scheme, name) for name in ("Ann", "Bob", "Cy")]
        ann, bob, cy = services.training_invite(
            session=session, invitees=people, by=cora.user, now=BEFORE
        )
        services.training_answer(invitation=ann, answer="attending", now=BEFORE)
        services.training_answer(invitation=bob, answer="attending", now=BEFORE)
        with pytest.raises(DomainError, match="full"):
            services.training_answer(invitation=cy, answer="attending", now=BEFORE)
        services.training_answer(invitation=bob, answer="apologies", now=BEFORE)
        services.training_answer(invitation=cy, answer="attending", now=BEFORE)
        answers = dict(TrainingInvitation.objects.values_list("pk", "answer"))
        assert answers == {ann.pk: "attending", bob.pk: "apologies", cy.pk: "attending"}
        with pytest.raises(DomainError, match="started"):
            services.training_answer(invitation=bob, answer="attending", now=START)

    def test_attendance_completes_the_module_on_the_session_day_with_its_renewal(
        self, scheme, session, cora
    ):
        ann, bob = applicant(scheme, "Ann"), applicant(scheme, "Bob")
        ann_invite, bob_invite = services.training_invite(
            session=session, invitees=[ann, bob], by=cora.user, now=BEFORE
        )
        with pytest.raises(DomainError, match="once the session has started"):
            services.training_attendance_record(
                session=session, attended={ann_invite.pk}, by=cora.user, now=BEFORE
            )
        came = services.training_attendance_record(
            session=session, attended={ann_invite.pk}, by=cora.user, now=AFTER
        )
        assert came == 1
        completion = TrainingCompletion.objects.get(membership=ann)
        assert (completion.completed_on, completion.expires_on) == (
            date(2026, 12, 9),
            date(2027, 12, 9),
        )
        assert not TrainingCompletion.objects.filter(membership=bob).exists()
        bob_invite.refresh_from_db()
        assert bob_invite.attended is False
        # Recording again (a correction) does not complete anyone twice.
        services.training_attendance_record(
            session=session, attended={ann_invite.pk, bob_invite.pk}, by=cora.user, now=AFTER
        )
        assert TrainingCompletion.objects.filter(membership=ann).count() == 1
        assert TrainingCompletion.objects.filter(membership=bob).count() == 1

    def test_a_session_needs_a_future_time_and_the_scheme_s_own_venue(self, scheme, module, cora):
        other = SchemeFactory()
        kwargs = {
            "scheme": scheme,
            "module": module,
            "starts_at": START,
            "ends_at": START + timedelta(hours=2),
            "capacity": 10,
            "by": None,
        }
        with pytest.raises(DomainError, match="of this scheme"):
            services.training_session_create(**kwargs, venue=venue(other), now=BEFORE)
        with pytest.raises(DomainError, match="start time has passed"):
            services.training_session_create(**kwargs, venue=venue(scheme), now=AFTER)


class TestWhatIsDue:
    def test_missing_and_expiring_modules_are_due_and_shown_on_today(
        self, scheme, module, session, cora
    ):
        buddy = cleared_buddy(scheme)
        refresher = TrainingModule.objects.create(
            scheme=scheme, name="Lone working", mandatory=True, valid_for_months=12
        )
        TrainingCompletion.objects.create(
            membership=buddy,
            module=refresher,
            completed_on=date(2025, 12, 20),
            expires_on=date(2026, 12, 20),
        )
        due = services.training_due(buddy, today=date(2026, 12, 1))
        assert [(d.module.name, d.expires_on) for d in due] == [
            ("Lone working", date(2026, 12, 20)),  # the scheme's order, then by name
            ("Safeguarding", None),
        ]
        services.training_invite(session=session, invitees=[buddy], by=cora.user, now=BEFORE)
        client = Client()
        client.force_login(buddy.user)
        today = client.get("/today/").content.decode()
        assert "Training" in today and "/training/" in today


class TestPages:
    def test_the_buddy_answers_on_their_training_page(self, scheme, session, cora):
        ann = applicant(scheme, "Ann")
        [invitation] = services.training_invite(
            session=session, invitees=[ann], by=cora.user, now=BEFORE
        )
        client = Client()
        client.force_login(ann.user)
        page = client.get("/training/").content.decode()
        assert "Safeguarding" in page and "I'm coming" in page
        response = client.post(
            f"/training/invitations/{invitation.pk}/answer/", {"answer": "apologies"}
        )
        assert response.status_code == 302
        invitation.refresh_from_db()
        assert invitation.answer == "apologies"
        # Someone else's invitation is not theirs to answer.
        bob = applicant(scheme, "Bob")
        client.force_login(bob.user)
        refused = client.post(
            f"/training/invitations/{invitation.pk}/answer/", {"answer": "attending"}
        )
        assert refused.status_code in (403, 404)
        invitation.refresh_from_db()
        assert invitation.answer == "apologies"

    def test_the_coordinator_puts_on_a_session_invites_and_records_attendance(
        self, scheme, module, cora, time_machine
    ):
        time_machine.move_to(BEFORE)
        place = venue(scheme, name="Hall")
        ann = applicant(scheme, "Ann")
        client = Client()
        client.force_login(cora.user)
        assert "Training sessions" in client.get("/coordinator/settings/").content.decode()
        response = client.post(
            "/coordinator/settings/training-sessions/",
            {
                "module": module.pk,
                "venue": place.pk,
                "day": "2026-12-09",
                "start": "10:00",
                "end": "13:00",
                "capacity": "8",
            },
        )
        session = module.sessions.get()
        assert response["Location"] == f"/coordinator/settings/training-sessions/{session.pk}/"
        client.post(
            f"/coordinator/settings/training-sessions/{session.pk}/invite/", {"invitees": [ann.pk]}
        )
        invitation = TrainingInvitation.objects.get(session=session, invitee=ann)
        time_machine.move_to(AFTER)
        client.force_login(cora.user)
        client.post(
            f"/coordinator/settings/training-sessions/{session.pk}/attendance/",
            {"attended": [str(invitation.pk), "not-a-number"]},
        )
        assert TrainingCompletion.objects.filter(membership=ann, module=module).exists()
        listing = client.get("/coordinator/settings/training-sessions/").content.decode()
        assert "1 came" in listing
