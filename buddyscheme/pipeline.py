"""The application pipeline as the coordinator watches it (issue 15): every applicant by stage,
how long each has waited there, and the recruitment figures the evaluation dashboard reads
(sources, applications to approvals, days at each stage, referrals by source, declines).

Reads only; each in a fixed number of queries however many people there are.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from .models import (
    BUDDY_PIPELINE,
    BuddyStage,
    BuddyVetting,
    Interview,
    InterviewOutcome,
    Membership,
    ParticipantEnrolment,
    RecruitmentSource,
    ReferralSource,
    Role,
    VettingStep,
)

# Someone waiting longer than this at a stage is shown in bold on the pipeline page.
LONG_WAIT_DAYS = 14
# The stages of people still on their way in (approved ones are shown for a month).
WAITING_STAGES = [*BUDDY_PIPELINE[:-1], BuddyStage.PAUSED]
PIPELINE_STAGES = [*BUDDY_PIPELINE, BuddyStage.PAUSED]
APPROVED_SHOWN_FOR = timedelta(days=30)


@dataclass
class Applicant:
    membership: Membership
    stage: str
    since: datetime
    days: int
    next_interview: Interview | None = None

    @property
    def waited_long(self) -> bool:
        return self.stage in WAITING_STAGES and self.days > LONG_WAIT_DAYS


@dataclass
class StageColumn:
    stage: str
    label: str
    applicants: list[Applicant] = field(default_factory=list)


def pipeline(scheme, stage: str | None = None, now=None) -> list[StageColumn]:
    """Applicants by stage, in pipeline order; within a stage, who has waited longest first.
    Approved people are shown for a month after approval. Two queries."""
    now = now or timezone.now()
    stages = [stage] if stage in PIPELINE_STAGES else PIPELINE_STAGES
    vettings = (
        BuddyVetting.objects.filter(
            membership__scheme=scheme,
            membership__role=Role.BUDDY,
            membership__is_active=True,
            stage__in=stages,
        )
        .filter(~Q(stage=BuddyStage.APPROVED) | Q(stage_changed_at__gte=now - APPROVED_SHOWN_FOR))
        .select_related("membership__user__profile")
        .prefetch_related(
            Prefetch(
                "membership__interviews",
                queryset=Interview.objects.filter(outcome="", cancelled_at__isnull=True),
                to_attr="open_interviews",
            )
        )
        .order_by("stage_changed_at", "pk")
    )
    columns = {s: StageColumn(s, BuddyStage(s).label) for s in stages}
    for vetting in vettings:
        member = vetting.membership
        open_interviews = getattr(member, "open_interviews", [])
        columns[vetting.stage].applicants.append(
            Applicant(
                membership=member,
                stage=vetting.stage,
                since=vetting.stage_changed_at,
                days=(now - vetting.stage_changed_at).days,
                next_interview=open_interviews[0] if open_interviews else None,
            )
        )
    return list(columns.values())


# --- Reporting hooks (for the evaluation dashboard) ------------------------------------------


@dataclass
class Conversion:
    applications: int
    approvals: int

    @property
    def rate(self) -> int | None:
        """Approvals as a whole percentage of applications (None when nobody applied)."""
        return round(100 * self.approvals / self.applications) if self.applications else None


@dataclass
class RecruitmentReport:
    sources: list[tuple[str, int]]
    conversion: Conversion
    median_days: list[tuple[str, float | None]]
    referrals: list[tuple[str, int]]
    declines: list[tuple[str, int]]


def recruitment_sources(scheme) -> list[tuple[str, int]]:
    """How buddies heard of the scheme: (label, count) for every source, "Not known" last."""
    counts = dict(
        BuddyVetting.objects.filter(membership__scheme=scheme, membership__role=Role.BUDDY)
        .values_list("recruitment_source")
        .annotate(n=Count("pk"))
        .values_list("recruitment_source", "n")
    )
    rows = [(label, counts.get(value, 0)) for value, label in RecruitmentSource.choices]
    return rows + [("Not known", counts.get("", 0))]


def applications_conversion(scheme) -> Conversion:
    """Everyone who has applied to be a buddy, and how many of them were ever approved
    (approved now, or a step to approved on record). One query."""
    figures = BuddyVetting.objects.filter(
        membership__scheme=scheme, membership__role=Role.BUDDY
    ).aggregate(
        applications=Count("pk", distinct=True),
        approvals=Count(
            "pk",
            filter=Q(stage=BuddyStage.APPROVED) | Q(steps__to_stage=BuddyStage.APPROVED),
            distinct=True,
        ),
    )
    return Conversion(figures["applications"], figures["approvals"])


def median_days_at_stage(scheme) -> list[tuple[str, float | None]]:
    """For each pipeline stage before approval, the median days people spent there before
    moving on, from the steps on record (the first stage counts from joining). One query."""
    steps = VettingStep.objects.filter(vetting__membership__scheme=scheme).values_list(
        "vetting_id", "from_stage", "recorded_at", "vetting__membership__joined_at"
    )
    spent: dict[str, list[float]] = {stage: [] for stage in BUDDY_PIPELINE[:-1]}
    previous: dict[int, datetime] = {}
    for vetting_id, from_stage, recorded_at, joined_at in steps.order_by(
        "vetting_id", "recorded_at", "pk"
    ):
        entered = previous.get(vetting_id, joined_at)
        previous[vetting_id] = recorded_at
        if from_stage in spent:
            spent[from_stage].append(max((recorded_at - entered).total_seconds(), 0) / 86400)
    return [
        (
            BuddyStage(stage).label,
            round(statistics.median(days), 1) if days else None,
        )
        for stage, days in spent.items()
    ]


def referrals_by_source(scheme) -> list[tuple[str, int]]:
    """Participants' enrolments by who referred them. One query."""
    counts = Counter(
        dict(
            ParticipantEnrolment.objects.filter(membership__scheme=scheme)
            .values_list("referral_source")
            .annotate(n=Count("pk"))
            .values_list("referral_source", "n")
        )
    )
    return [(label, counts.get(value, 0)) for value, label in ReferralSource.choices]


def declines_by_reason(scheme) -> list[tuple[str, int]]:
    """The declines on record, counted by kind. Today: applicants not taken on after their
    interview (not now / not suitable). Declined referrals join here once referrals record
    a decline with a reason. One query."""
    counts = dict(
        Interview.objects.filter(
            scheme=scheme,
            outcome__in=[InterviewOutcome.NOT_NOW, InterviewOutcome.NOT_SUITABLE],
        )
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return [
        (
            f"Applicant after interview: {InterviewOutcome(outcome).label.lower()}",
            counts.get(outcome, 0),
        )
        for outcome in (InterviewOutcome.NOT_NOW, InterviewOutcome.NOT_SUITABLE)
    ]


def recruitment_report(scheme) -> RecruitmentReport:
    """Everything above, for the pipeline page and the evaluation dashboard (five queries)."""
    return RecruitmentReport(
        sources=recruitment_sources(scheme),
        conversion=applications_conversion(scheme),
        median_days=median_days_at_stage(scheme),
        referrals=referrals_by_source(scheme),
        declines=declines_by_reason(scheme),
    )
