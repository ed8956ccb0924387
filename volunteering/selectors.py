"""Reads for the buddy pack, hours, expenses and the buddy's own page; and what this app adds
to the dashboard and to a buddy's Today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.models import (
    DBSCheck,
    Membership,
    Role,
    Supervision,
    SupervisionState,
    TrainingCompletion,
    TrainingModule,
)
from buddyscheme.selectors import DashboardSection, HomeCard, dashboard_sections, home_cards
from buddyscheme.support import buddies_in_service, own_support_person, time_given_by

from .models import ClaimState, DocumentRead, ExpenseClaim, PackDocument

PENNY = Decimal("0.01")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# --- The buddy pack ---------------------------------------------------------------------------


def pack_documents(scheme) -> QuerySet[PackDocument]:
    """The documents buddies see now (withdrawn ones are not)."""
    return PackDocument.objects.filter(scheme=scheme, withdrawn_at__isnull=True)


def _read_current(buddy: Membership):
    return Exists(
        DocumentRead.objects.filter(
            document=OuterRef("pk"), buddy=buddy, version=OuterRef("version")
        )
    )


def pack_for_buddy(buddy: Membership) -> list[Any]:
    """The pack with `is_read` (this version) on each document, in one query."""
    return list(pack_documents(buddy.scheme_id).annotate(is_read=_read_current(buddy)))


def pack_to_read(buddy: Membership) -> list[PackDocument]:
    """Required documents whose current version the buddy has not read."""
    return [
        document for document in pack_for_buddy(buddy) if document.required and not document.is_read
    ]


@dataclass
class Unread:
    buddy: Membership
    documents: list[PackDocument]


def required_unread(scheme) -> list[Unread]:
    """Buddies in service with a required document (current version) unread: three queries
    however many buddies and documents."""
    required = list(pack_documents(scheme).filter(required=True))
    if not required:
        return []
    buddies = list(
        buddies_in_service(scheme).select_related("user__profile").order_by("user__first_name")
    )
    read = set(
        DocumentRead.objects.filter(
            document__in=required, buddy__in=[buddy.pk for buddy in buddies]
        ).values_list("document_id", "buddy_id", "version")
    )
    unread = []
    for buddy in buddies:
        missing = [
            document
            for document in required
            if (document.pk, buddy.pk, document.version) not in read
        ]
        if missing:
            unread.append(Unread(buddy, missing))
    return unread


DASHBOARD_UNREAD_SHOWN = 5


@receiver(dashboard_sections)
def _volunteering_on_the_dashboard(sender, scheme, now, **kwargs) -> list[DashboardSection]:
    """Who has not read a required document, and claims waiting: two to four queries."""
    unread = required_unread(scheme)
    return [
        DashboardSection(
            template="volunteering/_dashboard.html",
            context={
                "unread": unread[:DASHBOARD_UNREAD_SHOWN],
                "unread_count": len(unread),
                "claims_waiting": claims_waiting(scheme),
            },
        )
    ]


# --- Hours ----------------------------------------------------------------------------------


def _year_bounds(year: int, zone) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(date(year, 1, 1), time.min), zone)
    end = timezone.make_aware(datetime.combine(date(year + 1, 1, 1), time.min), zone)
    return start, end


@dataclass
class Hours:
    """Minutes given in each month of a year (index 0 = January), in the scheme's zone."""

    months: list[int] = field(default_factory=lambda: [0] * 12)
    sessions: int = 0

    @property
    def total(self) -> int:
        return sum(self.months)

    def add(self, started_at: datetime, minutes: int, zone) -> None:
        self.months[timezone.localtime(started_at, zone).month - 1] += minutes
        self.sessions += 1


def hours_for_buddy(buddy: Membership, year: int) -> Hours:
    zone = buddy.scheme.zone
    since, until = _year_bounds(year, zone)
    hours = Hours()
    for item in time_given_by(buddy.scheme, since, until, buddy=buddy):
        hours.add(item.started_at, item.minutes, zone)
    return hours


@dataclass
class BuddyHours:
    buddy: Membership
    hours: Hours


def hours_for_scheme(scheme, year: int) -> list[BuddyHours]:
    """Every buddy who gave time in `year` (and every buddy in service), by month."""
    zone = scheme.zone
    since, until = _year_bounds(year, zone)
    by_buddy: dict[int, Hours] = {}
    for item in time_given_by(scheme, since, until):
        by_buddy.setdefault(item.buddy_id, Hours()).add(item.started_at, item.minutes, zone)
    buddies = Membership.objects.filter(scheme=scheme, role=Role.BUDDY).select_related(
        "user__profile"
    )
    in_service = set(buddies_in_service(scheme).values_list("pk", flat=True))
    return [
        BuddyHours(buddy, by_buddy.get(buddy.pk, Hours()))
        for buddy in buddies.order_by("user__first_name", "user__last_name", "pk")
        if buddy.pk in by_buddy or buddy.pk in in_service
    ]


def recent_meetings_for_claims(buddy: Membership, now=None, days: int = 90):
    """The buddy's meetings of the last `days` days a claim may be linked to, newest first."""
    now = now or timezone.now()
    given = time_given_by(buddy.scheme, now - timedelta(days=days), now, buddy=buddy)
    return [item for item in reversed(given) if item.meeting_id]


# --- Expenses -------------------------------------------------------------------------------


def claims_for_buddy(buddy: Membership) -> QuerySet[ExpenseClaim]:
    return ExpenseClaim.objects.filter(buddy=buddy).select_related("meeting")


def claims_for_scheme(
    scheme, *, month: date | None = None, state: str = ""
) -> QuerySet[ExpenseClaim]:
    claims = ExpenseClaim.objects.filter(scheme=scheme).select_related(
        "buddy__user__profile", "decided_by"
    )
    if month is not None:
        claims = claims.filter(spent_on__year=month.year, spent_on__month=month.month)
    if state:
        claims = claims.filter(state=state)
    return claims.order_by("spent_on", "pk")


def claims_waiting(scheme) -> int:
    return ExpenseClaim.objects.filter(scheme=scheme, state=ClaimState.SUBMITTED).count()


def claims_total(claims) -> Decimal:
    """In pounds and pence (SQLite sums decimals as floats)."""
    total = claims.aggregate(total=Sum("amount"))["total"] or 0
    return Decimal(str(total)).quantize(PENNY)


# --- The buddy's own page -------------------------------------------------------------------

TRAINING_DUE_WITHIN_DAYS = 60


@dataclass
class TrainingDue:
    module: TrainingModule
    expires_on: date | None  # None: never done


def training_due(buddy: Membership, today: date) -> list[TrainingDue]:
    """Mandatory modules never done, out of date, or running out within 60 days (2 queries)."""
    modules = list(TrainingModule.objects.filter(scheme=buddy.scheme_id, mandatory=True))
    latest: dict[int, TrainingCompletion] = {}
    for done in TrainingCompletion.objects.filter(membership=buddy).order_by("completed_on"):
        latest[done.module_id] = done
    horizon = today + timedelta(days=TRAINING_DUE_WITHIN_DAYS)
    due = []
    for module in modules:
        completion = latest.get(module.pk)
        if completion is None:
            due.append(TrainingDue(module, None))
        elif completion.expires_on is not None and completion.expires_on <= horizon:
            due.append(TrainingDue(module, completion.expires_on))
    return due


@dataclass
class BuddyPage:
    dbs: DBSCheck | None
    training: list[TrainingDue]
    support_person: Membership | None
    next_supervision: Supervision | None
    hours: Hours
    year: int
    to_read: list[PackDocument]
    claims: list[ExpenseClaim]


def buddy_page(buddy: Membership, now=None) -> BuddyPage:
    now = now or timezone.now()
    today = timezone.localdate(now, buddy.scheme.zone)
    return BuddyPage(
        dbs=buddy.dbs_checks.order_by("-renewal_due").first(),
        training=training_due(buddy, today),
        support_person=own_support_person(buddy),
        next_supervision=Supervision.objects.filter(
            buddy=buddy, state=SupervisionState.BOOKED, ends_at__gte=now
        )
        .select_related("support_person__user__profile")
        .order_by("starts_at")
        .first(),
        hours=hours_for_buddy(buddy, today.year),
        year=today.year,
        to_read=pack_to_read(buddy),
        claims=list(claims_for_buddy(buddy)[:5]),
    )


@receiver(home_cards)
def _pack_to_read_on_today(sender, membership, now, **kwargs) -> list[HomeCard]:
    """One card on a buddy's Today while required documents wait to be read."""
    if membership.role != Role.BUDDY:
        return []
    to_read = pack_to_read(membership)
    if not to_read:
        return []
    return [HomeCard("volunteering/_read_card.html", {"to_read": to_read})]
