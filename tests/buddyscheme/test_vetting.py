from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from buddyscheme import vetting
from buddyscheme.consent import has_consent
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    BuddyStage,
    ConsentKind,
    DBSLevel,
    EligibilityQuestion,
    Role,
    TrainingModule,
    VettingStep,
)

from ..factories import MembershipFactory, SchemeFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def buddy_with_dbs(scheme, renewal_due=TODAY + timedelta(days=400)):
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY)
    vetting.dbs_check_record(
        membership=buddy,
        by=None,
        level=DBSLevel.ENHANCED_BARRED,
        certificate_number=" 0012ab3456 ",
        issue_date=TODAY - timedelta(days=30),
        renewal_due=renewal_due,
        update_service=True,
    )
    return buddy


def walk_to_training(buddy, by):
    for stage in (BuddyStage.REFERENCES, BuddyStage.DBS_CHECK, BuddyStage.TRAINING):
        vetting.buddy_stage_move(
            membership=buddy, to_stage=stage, by=by, evidence=f"checked for {stage}"
        )


def test_the_pipeline_goes_in_order_and_records_who_when_and_evidence():
    scheme = SchemeFactory()
    coordinator = UserFactory()
    buddy = buddy_with_dbs(scheme)
    with pytest.raises(DomainError, match="Steps go in order"):
        vetting.buddy_stage_move(
            membership=buddy, to_stage=BuddyStage.TRAINING, by=coordinator, evidence="x"
        )
    with pytest.raises(DomainError, match="evidence"):
        vetting.buddy_stage_move(
            membership=buddy, to_stage=BuddyStage.REFERENCES, by=coordinator, evidence="  "
        )
    walk_to_training(buddy, coordinator)
    vetting.buddy_stage_move(
        membership=buddy, to_stage=BuddyStage.APPROVED, by=coordinator, evidence="induction done"
    )
    steps = list(
        VettingStep.objects.filter(vetting__membership=buddy).values_list("from_stage", "to_stage")
    )
    assert steps == [
        ("applied", "references"),
        ("references", "dbs_check"),
        ("dbs_check", "training"),
        ("training", "approved"),
    ]
    assert all(
        step.recorded_by == coordinator and step.evidence for step in VettingStep.objects.all()
    )


def test_approval_needs_dbs_and_mandatory_training():
    scheme = SchemeFactory()
    module = TrainingModule.objects.create(
        scheme=scheme, name="Safeguarding", mandatory=True, valid_for_months=12
    )
    TrainingModule.objects.create(scheme=scheme, name="Sign language", mandatory=False)
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY)
    walk_to_training(buddy, None)
    with pytest.raises(DomainError) as refusal:
        vetting.buddy_stage_move(
            membership=buddy, to_stage=BuddyStage.APPROVED, by=None, evidence="ok"
        )
    assert "no DBS check" in str(refusal.value) and "Safeguarding" in str(refusal.value)
    vetting.dbs_check_record(
        membership=buddy,
        by=None,
        level=DBSLevel.ENHANCED,
        certificate_number="1",
        issue_date=TODAY - timedelta(days=1),
        renewal_due=timezone.localdate() + timedelta(days=300),
    )
    vetting.training_complete(
        membership=buddy, module=module, completed_on=timezone.localdate(), by=None
    )
    vetting.buddy_stage_move(membership=buddy, to_stage=BuddyStage.APPROVED, by=None, evidence="ok")
    assert list(vetting.cleared_buddies(scheme)) == [buddy]


def test_lapsed_dbs_or_expired_training_is_not_cleared():
    scheme = SchemeFactory()
    module = TrainingModule.objects.create(
        scheme=scheme, name="Lone working", mandatory=True, valid_for_months=12
    )
    buddy = buddy_with_dbs(scheme, renewal_due=TODAY + timedelta(days=10))
    vetting.training_complete(
        membership=buddy, module=module, completed_on=TODAY - timedelta(days=200), by=None
    )
    buddy.vetting = vetting.vetting_for(buddy)
    type(buddy.vetting).objects.filter(pk=buddy.vetting.pk).update(stage=BuddyStage.APPROVED)
    buddy.refresh_from_db()
    assert list(vetting.cleared_buddies(scheme, TODAY)) == [buddy]
    assert vetting.vetting_blockers(buddy, TODAY) == []
    # Eleven days on the DBS has lapsed.
    later = TODAY + timedelta(days=11)
    assert list(vetting.cleared_buddies(scheme, later)) == []
    assert vetting.vetting_blockers(buddy, later) == [
        f"DBS renewal was due on {TODAY + timedelta(days=10):%d %B %Y}"
    ]
    # A renewed certificate clears them again, but the training runs out after 12 months.
    vetting.dbs_check_record(
        membership=buddy,
        by=None,
        level=DBSLevel.ENHANCED,
        certificate_number="2",
        issue_date=later,
        renewal_due=later + timedelta(days=1000),
    )
    assert list(vetting.cleared_buddies(scheme, later)) == [buddy]
    a_year_on = TODAY + timedelta(days=170)
    assert list(vetting.cleared_buddies(scheme, a_year_on)) == []
    assert "Lone working" in vetting.vetting_blockers(buddy, a_year_on)[0]


def test_lapses_in_the_next_thirty_days():
    scheme = SchemeFactory()
    module = TrainingModule.objects.create(
        scheme=scheme, name="Boundaries", mandatory=True, valid_for_months=12
    )
    soon = buddy_with_dbs(scheme, renewal_due=TODAY + timedelta(days=20))
    later = buddy_with_dbs(scheme, renewal_due=TODAY + timedelta(days=40))
    renewed = buddy_with_dbs(scheme, renewal_due=TODAY + timedelta(days=5))
    vetting.dbs_check_record(
        membership=renewed,
        by=None,
        level=DBSLevel.ENHANCED,
        certificate_number="9",
        issue_date=TODAY - timedelta(days=1),
        renewal_due=TODAY + timedelta(days=1000),
    )
    vetting.training_complete(
        membership=later, module=module, completed_on=date(2025, 12, 10), by=None
    )
    for buddy in (soon, later, renewed):
        vetting.vetting_for(buddy)
        type(buddy.vetting).objects.filter(membership=buddy).update(stage=BuddyStage.APPROVED)
    lapses = vetting.vetting_lapses(scheme, TODAY)
    assert [(lapse.membership, lapse.what, lapse.due) for lapse in lapses] == [
        (later, "Boundaries", date(2026, 12, 10)),
        (soon, "DBS renewal", TODAY + timedelta(days=20)),
    ]


def test_dbs_validation_is_clear():
    from django.core.exceptions import ValidationError

    buddy = MembershipFactory(role=Role.BUDDY)
    with pytest.raises(ValidationError) as error:
        vetting.dbs_check_record(
            membership=buddy,
            by=None,
            level=DBSLevel.BASIC,
            certificate_number="12-34",
            issue_date=TODAY,
            renewal_due=TODAY - timedelta(days=1),
        )
    assert set(error.value.message_dict) == {"renewal_due", "certificate_number"}


def test_enrolment_records_eligibility_and_requires_consent():
    scheme = SchemeFactory()
    lives_here = EligibilityQuestion.objects.create(
        scheme=scheme, text="Lives in the borough?", eligible_answer=True
    )
    under_18 = EligibilityQuestion.objects.create(
        scheme=scheme, text="Under 18?", eligible_answer=False
    )
    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    with pytest.raises(DomainError, match="agrees"):
        vetting.participant_enrol(
            membership=participant,
            by=None,
            referral_source="clinic",
            answers={},
            consent_to_hold_data=False,
        )
    with pytest.raises(DomainError, match="every"):
        vetting.participant_enrol(
            membership=participant,
            by=None,
            referral_source="clinic",
            answers={lives_here.pk: True},
            consent_to_hold_data=True,
        )
    enrolment = vetting.participant_enrol(
        membership=participant,
        by=None,
        referral_source="clinic",
        referral_detail="Sexual health clinic",
        answers={lives_here.pk: True, under_18.pk: False},
        consent_to_hold_data=True,
    )
    assert enrolment.eligible
    assert has_consent(participant, ConsentKind.HOLD_DATA)
    enrolment = vetting.participant_enrol(
        membership=participant,
        by=None,
        referral_source="clinic",
        answers={lives_here.pk: False, under_18.pk: False},
        consent_to_hold_data=True,
    )
    assert not enrolment.eligible


def approved_buddy_lapsing_soon(scheme):
    buddy = buddy_with_dbs(scheme, renewal_due=timezone.localdate() + timedelta(days=9))
    vetting.vetting_for(buddy)
    type(buddy.vetting).objects.filter(membership=buddy).update(stage=BuddyStage.APPROVED)
    return buddy


def test_weekly_reminder_tells_coordinators_how_many_without_names(
    django_capture_on_commit_callbacks,
):
    from django.core import mail

    from buddyscheme.tasks import remind_vetting_lapses

    scheme = SchemeFactory(sender_name="Appointments")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    quiet_scheme = SchemeFactory()
    MembershipFactory(scheme=quiet_scheme, role=Role.COORDINATOR)
    buddy = approved_buddy_lapsing_soon(scheme)
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        remind_vetting_lapses()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [coordinator.user.email]
    assert message.subject == "1 renewal due in the next 30 days"
    assert buddy.user.email not in message.body and buddy.user.first_name not in message.body


def test_a_redelivered_weekly_reminder_emails_each_coordinator_once():
    from django.core import mail

    from buddyscheme.notifications import notifications_deliver
    from buddyscheme.tasks import remind_vetting_lapses

    scheme = SchemeFactory()
    coordinators = [MembershipFactory(scheme=scheme, role=Role.COORDINATOR) for _ in range(2)]
    approved_buddy_lapsing_soon(scheme)
    # Celery delivers a task at least once: a worker lost mid-run means the task runs again.
    for _ in range(2):
        remind_vetting_lapses()
        notifications_deliver()
    emails = sorted(coordinator.user.email for coordinator in coordinators)
    assert sorted(message.to[0] for message in mail.outbox) == emails
    # The key is the week: next Monday's reminder goes out again.
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        remind_vetting_lapses()
        notifications_deliver()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(emails * 2)


def test_the_reminder_is_on_the_weekly_schedule():
    from buddyscheme.celery import app

    entry = app.conf.beat_schedule["remind-vetting-lapses"]
    assert entry["task"] == "buddyscheme.tasks.remind_vetting_lapses"
    assert entry["schedule"].day_of_week == {1}
