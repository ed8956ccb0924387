"""The pipeline page (issue 15): every applicant by stage, who has waited longest first, more
than 14 days marked, a stage filter, a fixed number of queries; and the recruitment figures
(sources, applications → approvals, median days per stage, referrals by source, declines)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from buddyscheme.interviews import interview_book, interview_outcome_record
from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    ParticipantEnrolment,
    Role,
    TrainingModule,
)
from buddyscheme.pipeline import (
    applications_conversion,
    declines_by_reason,
    median_days_at_stage,
    pipeline,
    recruitment_sources,
    referrals_by_source,
)
from buddyscheme.vetting import buddy_stage_move, dbs_check_record, training_complete

from ..factories import MembershipFactory, SchemeFactory, enrol_totp

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def scheme():
    return SchemeFactory()


def applicant(scheme, name, stage=BuddyStage.APPLIED, days=0, source=""):
    member = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__first_name=name)
    BuddyVetting.objects.create(
        membership=member,
        stage=stage,
        stage_changed_at=NOW - timedelta(days=days),
        recruitment_source=source,
    )
    return member


def names(column):
    return [a.membership.user.first_name for a in column.applicants]


class TestPipeline:
    def test_by_stage_oldest_first_with_days_waited(self, scheme):
        applicant(scheme, "New", days=1)
        applicant(scheme, "Old", days=20)
        applicant(scheme, "Refs", BuddyStage.REFERENCES, days=15)
        applicant(scheme, "Paused", BuddyStage.PAUSED, days=40)
        applicant(scheme, "Gone", BuddyStage.LEFT, days=3)
        applicant(scheme, "Approved long ago", BuddyStage.APPROVED, days=90)
        applicant(scheme, "Just approved", BuddyStage.APPROVED, days=2)
        MembershipFactory(scheme=SchemeFactory(), role=Role.BUDDY)  # another scheme's
        columns = {c.stage: c for c in pipeline(scheme, now=NOW)}
        assert list(columns) == [
            "applied",
            "references",
            "dbs_check",
            "training",
            "approved",
            "paused",
        ]
        assert names(columns["applied"]) == ["Old", "New"]
        assert [a.days for a in columns["applied"].applicants] == [20, 1]
        assert [a.waited_long for a in columns["applied"].applicants] == [True, False]
        assert names(columns["references"]) == ["Refs"]
        assert columns["references"].applicants[0].waited_long  # 15 > 14
        assert names(columns["approved"]) == ["Just approved"]
        assert not columns["approved"].applicants[0].waited_long
        assert names(columns["paused"]) == ["Paused"]

    def test_waiting_grows_as_time_moves_and_resets_when_they_move_on(self, scheme, time_machine):
        time_machine.move_to(NOW, tick=False)
        member = applicant(scheme, "Ann", days=0)
        time_machine.move_to(NOW + timedelta(days=15), tick=False)
        [row] = pipeline(scheme, BuddyStage.APPLIED)[0].applicants
        assert (row.days, row.waited_long) == (15, True)
        buddy_stage_move(
            membership=member, to_stage=BuddyStage.REFERENCES, by=None, evidence="Interviewed"
        )
        assert pipeline(scheme, BuddyStage.APPLIED)[0].applicants == []
        time_machine.move_to(NOW + timedelta(days=18), tick=False)
        [row] = pipeline(scheme, BuddyStage.REFERENCES)[0].applicants
        assert (row.days, row.waited_long) == (3, False)

    def test_the_page_filters_by_stage_and_marks_long_waits(self, scheme, time_machine):
        time_machine.move_to(NOW)
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
        enrol_totp(coordinator.user)
        applicant(scheme, "Olwen", days=20)
        applicant(scheme, "Rhys", BuddyStage.REFERENCES, days=2)
        client = Client()
        client.force_login(coordinator.user)
        page = client.get("/coordinator/pipeline/").content.decode()
        assert "Olwen" in page and "Rhys" in page and "Over 14 days" in page
        assert "Recruitment" in page
        only = client.get("/coordinator/pipeline/?stage=references").content.decode()
        assert "Rhys" in only and "Olwen" not in only
        # An unknown stage shows every stage rather than failing.
        assert client.get("/coordinator/pipeline/?stage=%01nonsense").status_code == 200

    def test_the_page_takes_the_same_queries_for_5_or_50_applicants(self, scheme, time_machine):
        time_machine.move_to(NOW)
        coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
        enrol_totp(coordinator.user)
        client = Client()
        client.force_login(coordinator.user)

        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert client.get("/coordinator/pipeline/").status_code == 200
            return len(captured.captured_queries)

        stages = [BuddyStage.APPLIED, BuddyStage.REFERENCES, BuddyStage.DBS_CHECK]

        def add(first, last, source):
            for i in range(first, last):
                member = applicant(scheme, f"A{i}", stages[i % 3], days=i, source=source)
                if stages[i % 3] != BuddyStage.DBS_CHECK:  # some with an interview booked
                    interview_book(
                        applicant=member,
                        mode="phone",
                        starts_at=NOW + timedelta(days=1, hours=i % 8),
                        ends_at=NOW + timedelta(days=1, hours=i % 8, minutes=45),
                        by=None,
                    )

        add(0, 5, "website")
        few = queries()
        add(5, 50, "event")
        assert queries() == few


class TestRecruitmentReport:
    def test_sources_conversion_and_median_days_from_real_steps(self, scheme, time_machine):
        time_machine.move_to(NOW)
        module = TrainingModule.objects.create(scheme=scheme, name="Induction")
        people = []
        for name, source, days_applied in (
            ("Ann", "website", 4),
            ("Bob", "website", 10),
            ("Cy", "event", 6),
        ):
            member = applicant(scheme, name, source=source)
            member.joined_at = NOW
            member.save(update_fields=["joined_at"])
            people.append((member, days_applied))
        applicant(scheme, "Dee")  # source not known, still at applied
        # Ann and Bob go all the way to approval; Cy stops at references.
        for member, days_applied in people:
            at = NOW + timedelta(days=days_applied)
            buddy_stage_move(
                membership=member,
                to_stage=BuddyStage.REFERENCES,
                by=None,
                evidence="Interview",
                now=at,
            )
            if member.user.first_name == "Cy":
                continue
            for step, to_stage in enumerate([BuddyStage.DBS_CHECK, BuddyStage.TRAINING], start=1):
                buddy_stage_move(
                    membership=member,
                    to_stage=to_stage,
                    by=None,
                    evidence="Checked",
                    now=at + timedelta(days=2 * step),
                )
            time_machine.move_to(at + timedelta(days=10))
            dbs_check_record(
                membership=member,
                by=None,
                level="enhanced",
                certificate_number="001122334455",
                issue_date=(at + timedelta(days=5)).date(),
                renewal_due=(at + timedelta(days=1000)).date(),
            )
            training_complete(
                membership=member,
                module=module,
                completed_on=(at + timedelta(days=6)).date(),
                by=None,
            )
            buddy_stage_move(
                membership=member,
                to_stage=BuddyStage.APPROVED,
                by=None,
                evidence="All done",
                now=at + timedelta(days=10),
            )
        sources = dict(recruitment_sources(scheme))
        assert sources["Website"] == 2 and sources["Event or stall"] == 1
        assert sources["Not known"] == 1 and sources["Word of mouth"] == 0
        conversion = applications_conversion(scheme)
        assert (conversion.applications, conversion.approvals, conversion.rate) == (4, 2, 50)
        medians = dict(median_days_at_stage(scheme))
        assert medians["Applied"] == 6.0  # 4, 10 and 6 days
        assert medians["References"] == 2.0
        assert medians["DBS/CRB check"] == 2.0
        assert medians["Induction and training"] == 6.0

    def test_referrals_by_source_and_declines_after_interview(self, scheme):
        for source in ("clinic", "clinic", "self"):
            ParticipantEnrolment.objects.create(
                membership=MembershipFactory(scheme=scheme, role=Role.PARTICIPANT),
                referral_source=source,
            )
        referrals = dict(referrals_by_source(scheme))
        assert referrals["Clinic or GP"] == 2 and referrals["Self-referral"] == 1
        assert referrals["Other"] == 0
        start = NOW + timedelta(days=1)
        for name, outcome in (("Ann", "not_now"), ("Bob", "not_suitable"), ("Cy", "not_now")):
            interview = interview_book(
                applicant=applicant(scheme, name),
                mode="video",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                by=None,
                now=NOW,
            )
            interview_outcome_record(
                interview=interview,
                outcome=outcome,
                reason="Thank you for your time.",
                by=None,
                now=start + timedelta(hours=2),
            )
        assert declines_by_reason(scheme) == [
            ("Applicant after interview: not now", 2),
            ("Applicant after interview: not suitable", 1),
        ]
