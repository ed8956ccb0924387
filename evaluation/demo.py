"""Demo data for lone working, agreements and speed-buddying, made through the services so it is
what real use would leave behind: venues with risk assessments, an on-call rota, meetings past,
upcoming, in progress and overdue (so the live board has an alert), an agreement waiting to be
signed. Each piece is made only when it is missing, so `seed_demo` can run on every `make run`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from buddyscheme import interviews
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    BuddyStage,
    Interview,
    InterviewMode,
    Membership,
    RecruitmentSource,
    Scheme,
    TrainingModule,
)
from buddyscheme.vetting import buddy_stage_move
from contracts import services as contract_services
from evaluation import questionnaires as questionnaire_services
from evaluation.models import Invitation, Occasion
from evaluation.report import funder_report_create, funder_report_text_save
from evaluation.report_models import FunderReport
from matching import endings as matching_endings
from matching import goals as matching_goals
from matching import services as matching_services
from matching.models import OPEN_STATES, EndingType, Match, MatchState, SpeedEvent
from meetings import services as meeting_services
from meetings.models import (
    Meeting,
    MeetingState,
    OnCallShift,
    TrainingSession,
    Venue,
    VenueKind,
)
from messaging import services as messaging_services
from messaging.models import Conversation
from recruitment import services as recruitment_services
from recruitment.models import Application, FrontDoor
from volunteering import services as volunteering_services
from volunteering.models import DocumentCategory, ExpenseCategory, ExpenseClaim, PackDocument

VENUES = [
    {
        "name": "Meeting room, first floor",
        "kind": VenueKind.IN_HOUSE,
        "area": "Camberwell",
        "address": "Unit 4, 10 Example Road, London SE5 0XX",
        "room": "Room 2",
        "risk_rating": "low",
        "risk_notes": "Staff on the premises in office hours; panic alarm by the door.",
        "review_in_days": 200,
    },
    {
        "name": "Café on the high street",
        "kind": VenueKind.COMMUNITY,
        "area": "Peckham",
        "address": "Rye Lane, London SE15",
        "risk_rating": "low",
        "risk_notes": "Busy public place; sit near the counter.",
        "review_in_days": 120,
    },
    {
        "name": "Home visit",
        "kind": VenueKind.HOME_VISIT,
        "area": "Brixton",
        "risk_rating": "high",
        "risk_notes": "Two-person visit the first time; check in on arrival, phone charged.",
        "review_in_days": 60,
    },
    {
        "name": "Phone or video call",
        "kind": VenueKind.REMOTE,
        "risk_rating": "low",
        "risk_notes": "No travel; use the scheme's phone, never a personal number.",
        "review_in_days": 300,
    },
    {
        # Overdue on purpose: the settings hub and the venues page show it, and it cannot be
        # booked until someone reviews it.
        "name": "Library study room",
        "kind": VenueKind.COMMUNITY,
        "area": "Walworth",
        "risk_rating": "medium",
        "risk_notes": "Quiet room; staff leave at 6pm.",
        "review_in_days": -12,
    },
]


def demo_venues(*, scheme: Scheme, key_holder, by) -> dict[str, Venue]:
    """One venue of each kind, and one whose risk assessment is past its review date."""
    today = timezone.localdate(timezone=scheme.zone)
    venues = {}
    for spec in VENUES:
        spec = dict(spec)
        review_in_days = spec.pop("review_in_days")
        venue = Venue.objects.filter(scheme=scheme, name=spec["name"]).first()
        if venue is None:
            venue = meeting_services.venue_create(
                scheme=scheme,
                by=by,
                risk_review_due=today + timedelta(days=review_in_days),
                key_holder=key_holder if spec["kind"] == VenueKind.IN_HOUSE else None,
                **spec,
            )
        elif review_in_days > 0 and venue.risk_review_due < today + timedelta(days=14):
            # Months after the first run: the demo's coordinator reviews its venues in time, so
            # only the one meant to be overdue is.
            venue = meeting_services.venue_update(
                venue=venue, by=by, risk_review_due=today + timedelta(days=review_in_days)
            )
        venues[spec["name"]] = venue
    return venues


def _local(day: date, at: time, scheme: Scheme) -> datetime:
    return timezone.make_aware(datetime.combine(day, at), scheme.zone)


def demo_rota(*, scheme: Scheme, responders: list[Membership], by, weeks: int = 3) -> None:
    """Evenings (from 2pm, so an afternoon meeting that runs late is covered by one shift) and
    weekends, from this week's Monday for `weeks` weeks, shared out between `responders`."""
    today = timezone.localdate(timezone=scheme.zone)
    monday = meeting_services.week_start(today)
    for offset in range(7 * weeks):
        day = monday + timedelta(days=offset)
        weekend = day.weekday() >= 5
        starts_at = _local(day, time(8, 0) if weekend else time(14, 0), scheme)
        ends_at = _local(day, time(23, 30), scheme)
        responder = responders[offset % len(responders)]
        if not OnCallShift.objects.filter(
            scheme=scheme, starts_at=starts_at, ends_at=ends_at
        ).exists():
            meeting_services.on_call_shift_create(
                scheme=scheme, responder=responder, starts_at=starts_at, ends_at=ends_at, by=by
            )


def _ensure_cover_now(scheme: Scheme, responder: Membership, by, now) -> None:
    """The meetings made for "now" may fall at night, outside the demo rota: one shift, on the
    hour, puts someone on call for both, as a coordinator would for a late meeting."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    end = start + timedelta(hours=7)
    if meeting_services.cover_ends_before(scheme, start, end):
        meeting_services.on_call_shift_create(
            scheme=scheme, responder=responder, starts_at=start, ends_at=end, by=by
        )


def _key() -> str:
    return uuid.uuid4().hex


def _book(*, buddy, venue, start, minutes, by, match=None, booked_at=None):
    return meeting_services.meeting_book(
        buddy=buddy,
        venue=venue,
        match=match,
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        purpose="Catch-up",
        by=by,
        now=booked_at or start - timedelta(days=2),
    )


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _weekday_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def demo_meetings(
    *,
    scheme: Scheme,
    match: Match,
    other_buddy: Membership,
    venues: dict[str, Venue],
    on_call: Membership,
    by,
    now=None,
) -> list[str]:
    """Past meetings that ended safely, upcoming ones (one in the evening, on the rota), one in
    progress and one overdue, so the live board shows an alert.

    Returns what could not be made, in words: a demo run long after the first may meet a
    buddy whose DBS has lapsed since, and `make run` must still start.
    """
    skipped: list[str] = []
    for label, make in (
        ("past meetings", _past_meetings),
        ("upcoming meetings", _upcoming_meetings),
        ("meetings under way", _meetings_now),
    ):
        try:
            make(scheme, match, other_buddy, venues, on_call, by, now or timezone.now())
        except DomainError as error:
            skipped.append(f"{label}: {error}")
    meeting_services.sweep(now=now or timezone.now())
    return skipped


def _past_meetings(scheme, match, other_buddy, venues, on_call, by, now) -> None:
    today = timezone.localdate(now, scheme.zone)
    buddy, buddy_user = match.buddy, match.buddy.user
    cafe = venues["Café on the high street"]
    if not Meeting.objects.filter(match=match, state=MeetingState.CHECKED_OUT).exists():
        for weeks_ago in (3, 2, 1):
            start = _local(
                _weekday_before(today - timedelta(weeks=weeks_ago)), time(10, 30), scheme
            )
            meeting = _book(buddy=buddy, venue=cafe, start=start, minutes=60, by=by, match=match)
            meeting_services.meeting_check_in(
                meeting=meeting, key=_key(), by=buddy_user, now=start + timedelta(minutes=2)
            )
            meeting_services.meeting_check_out(
                meeting=meeting, key=_key(), by=buddy_user, now=start + timedelta(minutes=58)
            )


def _upcoming_meetings(scheme, match, other_buddy, venues, on_call, by, now) -> None:
    today = timezone.localdate(now, scheme.zone)
    buddy = match.buddy
    cafe, room = venues["Café on the high street"], venues["Meeting room, first floor"]
    upcoming = Meeting.objects.filter(match=match, state=MeetingState.PLANNED)
    if not upcoming.filter(planned_start__gt=now).exists():
        tomorrow = _weekday_after(today + timedelta(days=1))
        _book(
            buddy=buddy,
            venue=room,
            start=_local(tomorrow, time(10, 0), scheme),
            minutes=60,
            by=by,
            match=match,
            booked_at=now,
        )
        # In the evening: bookable because someone on the rota covers it.
        _book(
            buddy=buddy,
            venue=cafe,
            start=_local(today + timedelta(days=2), time(18, 0), scheme),
            minutes=60,
            by=by,
            match=match,
            booked_at=now,
        )


def _meetings_now(scheme, match, other_buddy, venues, on_call, by, now) -> None:
    buddy, buddy_user = match.buddy, match.buddy.user
    cafe = venues["Café on the high street"]
    scheme_meetings = Meeting.objects.filter(scheme=scheme)
    # Yesterday's demo meetings would be alerting all night: they end, checked out late.
    for stale in scheme_meetings.filter(
        state=MeetingState.CHECKED_IN, expected_end__lt=now - timedelta(hours=6)
    ).select_related("buddy__user"):
        meeting_services.meeting_check_out(meeting=stale, key=_key(), by=stale.buddy.user, now=now)

    checked_in = scheme_meetings.filter(state=MeetingState.CHECKED_IN)
    in_progress = checked_in.filter(expected_end__gt=now).exists()
    overdue = checked_in.filter(expected_end__lte=now).exists()
    if not (in_progress and overdue):
        _ensure_cover_now(scheme, on_call, by, now)
    if not in_progress:
        start = now - timedelta(minutes=20)
        meeting = _book(
            buddy=buddy,
            venue=cafe,
            start=start,
            minutes=60,
            by=by,
            match=match,
            booked_at=start - timedelta(minutes=30),
        )
        meeting_services.meeting_check_in(
            meeting=meeting, key=_key(), by=buddy_user, now=start + timedelta(minutes=2)
        )

    if not overdue:
        # A home visit that ended ten minutes ago with no check-out: past its grace (shorter at
        # a high-risk venue), so the sweep raises the first alert now; it escalates while the
        # demo runs.
        start = now - timedelta(minutes=70)
        meeting = _book(
            buddy=other_buddy,
            venue=venues["Home visit"],
            start=start,
            minutes=60,
            by=by,
            booked_at=start - timedelta(minutes=30),
        )
        meeting_services.meeting_check_in(
            meeting=meeting,
            key=_key(),
            by=other_buddy.user,
            now=start + timedelta(minutes=2),
        )


def demo_agreement_waiting(*, participant, buddy, coordinator_user, now=None) -> None:
    """A match whose agreement the buddy has signed and the participant has not yet."""
    if Match.objects.filter(participant=participant, state__in=OPEN_STATES).exists():
        return
    now = now or timezone.now()
    match = matching_services.match_create(
        participant=participant, buddy=buddy, by=coordinator_user, now=now
    )
    match = matching_services.match_propose(match=match, by=coordinator_user, now=now)
    matching_services.match_accept(match=match, by_membership=participant, now=now)
    matching_services.match_accept(match=match, by_membership=buddy, now=now)
    match = matching_services.match_introduce(
        match=match, intro_at=now + timedelta(days=3), by=coordinator_user, now=now
    )
    contract = contract_services.contract_generate(match=match, by=coordinator_user, now=now)
    contract_services.contract_sign(
        contract=contract,
        membership=buddy,
        typed_name=buddy.user.get_full_name() or buddy.user.display_name,
        agreed=True,
        read_to_end=True,
        now=now,
    )


def demo_goals_and_reviews(
    *, active: Match, coordinator_user, overdue_buddy, overdue_participant, now=None
) -> list[str]:
    """Goals, a planned length and a review (with progress) on the active match; and a second
    match that started seven months ago and has not been reviewed, so the dashboard shows an
    overdue review. Returns what could not be made."""
    now = now or timezone.now()
    problems: list[str] = []
    by = coordinator_user
    if not active.goals.exists():
        wants = list(
            active.participant.match_profile.items.order_by("name")[:2]
            if hasattr(active.participant, "match_profile")
            else []
        )
        for item in wants:
            matching_goals.goal_add(
                match=active, by=by, menu_item=item, how_we_know="They say they are managing it"
            )
        clinic = matching_goals.goal_add(
            match=active,
            by=by,
            text="Go to clinic appointments without worrying beforehand",
            how_we_know="Goes on their own and tells the buddy how it went",
        )
        matching_goals.match_plan_set(
            match=active,
            by=by,
            planned_sessions=12,
            planned_end=timezone.localdate(now) + timedelta(days=180),
        )
        scores = {goal.pk: matching_goals.Score(5, "Getting there") for goal in active.goals.all()}
        scores[clinic.pk] = matching_goals.Score(3, "Went once with the buddy")
        matching_goals.review_record(
            match=active,
            by=by,
            held_on=timezone.localdate(now),
            held_with="both",
            outcome="continue",
            notes="An early check-in: both happy to carry on as agreed.",
            scores=scores,
            now=now,
        )
    if Match.objects.filter(participant=overdue_participant, state__in=OPEN_STATES).exists():
        return problems
    started = now - timedelta(days=210)
    try:
        match = matching_services.match_create(
            participant=overdue_participant, buddy=overdue_buddy, by=by, now=started
        )
        match = matching_services.match_propose(match=match, by=by, now=started)
        for member in (overdue_participant, overdue_buddy):
            matching_services.match_accept(match=match, by_membership=member, now=started)
        match = matching_services.match_introduce(
            match=match, intro_at=started - timedelta(days=1), by=by, now=started
        )
        contract = contract_services.contract_generate(match=match, by=by, now=started)
        signers = [overdue_participant, overdue_buddy]
        signers += [m for m in by.memberships.filter(scheme=match.scheme, role="coordinator")]
        for member in signers:
            contract_services.contract_sign(
                contract=contract,
                membership=member,
                typed_name=member.user.get_full_name() or member.user.display_name,
                agreed=True,
                read_to_end=True,
                now=started,
            )
        matching_services.match_activate(match=match, by=by, now=started)
    except DomainError as error:
        problems.append(str(error))
    return problems


def demo_speed_rankings(*, event: SpeedEvent, ranker: Membership) -> None:
    """Rankings are open: one participant has ranked the buddies they met, the rest have not."""
    if event.matched_at or event.preferences.filter(ranker=ranker).exists():
        return
    met = event.meetings.filter(participant=ranker).order_by("buddy_id")
    matching_services.speed_preferences_save(
        event=event,
        ranker=ranker,
        choices={meeting.buddy_id: str(place) for place, meeting in enumerate(met, start=1)},
    )


# --- Recruitment and selection (issue 15) -----------------------------------------------------

APPLICANTS = [
    # email, first, last, stage, days at the stage, how they heard of us
    (
        "applicant1@example.org",
        "Priya",
        "Shah",
        BuddyStage.APPLIED,
        20,
        RecruitmentSource.SOCIAL_MEDIA,
    ),
    (
        "applicant2@example.org",
        "Tom",
        "Reed",
        BuddyStage.REFERENCES,
        5,
        RecruitmentSource.WORD_OF_MOUTH,
    ),
    ("applicant3@example.org", "Grace", "Lee", BuddyStage.APPLIED, 2, RecruitmentSource.WEBSITE),
]


def demo_recruitment(
    *,
    scheme: Scheme,
    applicants: list[Membership],
    trainees: list[Membership],
    venues,
    coordinator,
    by,
    now=None,
) -> list[str]:
    """Applicants at different stages for the pipeline page, the suggested interview questions,
    an interview booked with the first applicant, and a training session with invitations.
    Returns what could not be made (a booking rule said no). Each part only when missing."""
    now = now or timezone.now()
    problems = []
    interviews.interview_questions_add_defaults(scheme=scheme, by=by)
    first = applicants[0]
    if not Interview.objects.filter(applicant=first).exists():
        day = _weekday_after(timezone.localdate(now) + timedelta(days=2))
        start = timezone.make_aware(datetime.combine(day, time(11, 0)), scheme.zone)
        try:
            meeting_services.interview_arrange(
                applicant=first,
                mode=InterviewMode.IN_PERSON,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                interviewer=coordinator,
                venue=venues["Meeting room, first floor"],
                by=by,
                now=now,
            )
        except DomainError as error:
            problems.append(f"interview: {error}")
    module = TrainingModule.objects.filter(scheme=scheme, name="Lone working").first()
    if (
        module is not None
        and not TrainingSession.objects.filter(scheme=scheme, starts_at__gt=now).exists()
    ):
        day = _weekday_after(timezone.localdate(now) + timedelta(days=9))
        start = timezone.make_aware(datetime.combine(day, time(10, 0)), scheme.zone)
        try:
            session = meeting_services.training_session_create(
                scheme=scheme,
                module=module,
                venue=venues["Meeting room, first floor"],
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                capacity=8,
                by=by,
                now=now,
            )
        except DomainError as error:
            problems.append(f"training session: {error}")
        else:
            invited = meeting_services.training_invite(
                session=session, invitees=trainees, by=by, now=now
            )
            # One has answered already; the others (buddy10 among them) still have to.
            if len(invited) > 1:
                meeting_services.training_answer(
                    invitation=invited[-1], answer="apologies", now=now
                )
    return problems


def demo_messages(*, scheme: Scheme, coordinator: Membership, buddies, participants) -> None:
    """A few conversations: a buddy's message relayed to their participant (who answered),
    a question nobody has read yet, and two buddies of the network. Once per scheme."""
    if Conversation.objects.filter(scheme=scheme).exists():
        return
    now = timezone.now()
    late = messaging_services.message_to_coordinators(
        member=buddies[1],
        text="I'm running about 15 minutes late for Thursday's visit. Could you let her know?",
        now=now - timedelta(hours=5),
    )
    messaging_services.conversation_read(
        conversation=late.conversation, reader=coordinator, now=now - timedelta(hours=4)
    )
    messaging_services.message_from_coordinator(
        coordinator=coordinator,
        member=buddies[1],
        text="Thanks for telling us. I'll pass it on.",
        now=now - timedelta(hours=4),
    )
    messaging_services.message_relay(
        message=late,
        coordinator=coordinator,
        to=participants[1],
        text="Your buddy is running about 15 minutes late on Thursday.",
        now=now - timedelta(hours=4),
    )
    messaging_services.message_to_coordinators(
        member=participants[1], text="Thank you, that's fine.", now=now - timedelta(hours=3)
    )
    messaging_services.message_to_coordinators(
        member=buddies[0],
        text="Is there any training on benefits advice coming up?",
        now=now - timedelta(minutes=40),
    )
    for buddy in (buddies[0], buddies[2], buddies[4]):
        messaging_services.network_join(buddy=buddy)
    messaging_services.message_to_person(
        sender=buddies[2],
        recipient=buddies[0],
        text="Hi! Would you like to swap tips on finding quiet cafés?",
        now=now - timedelta(days=1),
    )


PACK = [
    (
        "Confidentiality policy",
        DocumentCategory.CONFIDENTIALITY,
        "What you hear as a buddy stays with you and the scheme.\n\n"
        "Use initials, never names, in anything you write down. Talk about the person you "
        "support only with your coordinator or support person.\n",
    ),
    (
        "Lone working guide",
        DocumentCategory.LONE_WORKING,
        "Check in when a meeting starts and check out when it ends, every time.\n\n"
        "If you feel unsafe, leave, and press Help on the Today page.\n",
    ),
    (
        "Safeguarding: what to do if you are worried",
        DocumentCategory.SAFEGUARDING,
        "If someone is in immediate danger, ring 999.\n\n"
        "Otherwise tell us the same day: use 'I'm worried about someone' on your Today page.\n",
    ),
    (
        "Expenses: what you can claim",
        DocumentCategory.EXPENSES,
        "Travel to and from meetings (bus, train; taxis only when agreed first), a drink "
        "for you and the person you support, and activity tickets agreed with your "
        "coordinator. Claim within a month and keep the receipt.\n",
    ),
]


def demo_volunteering(*, scheme: Scheme, coordinator_user, buddies: list[Membership]) -> None:
    """The buddy pack (some read, one updated since) and expense claims in each state."""
    now = timezone.now()
    if not PackDocument.objects.filter(scheme=scheme).exists():
        documents = [
            volunteering_services.pack_document_add(
                scheme=scheme,
                title=title,
                category=category,
                required=True,
                upload=ContentFile(body.encode(), name="pack.txt"),
                by=coordinator_user,
                now=now - timedelta(days=60),
            )
            for title, category, body in PACK
        ]
        for buddy in buddies[:3]:
            for document in documents[:3]:
                volunteering_services.pack_document_mark_read(
                    document=document, buddy=buddy, version=1, now=now - timedelta(days=30)
                )
        # A new version of the lone-working guide: everyone is asked to read it again.
        volunteering_services.pack_document_replace(
            document=documents[1],
            upload=ContentFile((PACK[1][2] + "\nNew: share your location if asked.\n").encode()),
            by=coordinator_user,
            now=now - timedelta(days=2),
        )
    buddy = buddies[1]
    if ExpenseClaim.objects.filter(scheme=scheme).exists():
        return
    today = timezone.localdate(now, scheme.zone)
    meeting = (
        Meeting.objects.filter(buddy=buddy, state=MeetingState.CHECKED_OUT)
        .order_by("-checked_in_at")
        .first()
    )

    def claim(days_ago, amount, category, description, with_meeting=False):
        return volunteering_services.expense_claim_submit(
            buddy=buddy,
            spent_on=today - timedelta(days=days_ago),
            amount=Decimal(amount),
            category=category,
            description=description,
            meeting_id=meeting.pk if with_meeting and meeting else None,
            now=now - timedelta(days=max(days_ago - 1, 0)),
        )

    claim(1, "4.50", ExpenseCategory.TRAVEL, "Bus fares, return", with_meeting=True)
    approved = claim(9, "6.20", ExpenseCategory.REFRESHMENTS, "Two coffees and a cake")
    volunteering_services.expense_claim_approve(claim=approved, by=coordinator_user)
    paid = claim(30, "12.00", ExpenseCategory.ACTIVITY, "Museum tickets (agreed with Ruth)")
    volunteering_services.expense_claim_approve(claim=paid, by=coordinator_user)
    volunteering_services.expense_claim_paid(
        claim=paid, paid_on=today - timedelta(days=20), by=coordinator_user
    )
    refused = claim(12, "18.40", ExpenseCategory.TRAVEL, "Taxi home")
    volunteering_services.expense_claim_refuse(
        claim=refused,
        reason="Taxis need agreeing with your coordinator first; ring me and we can talk.",
        by=coordinator_user,
    )
    volunteering_services.expense_claim_submit(
        buddy=buddies[2],
        spent_on=today - timedelta(days=3),
        amount=Decimal("3.80"),
        category=ExpenseCategory.TRAVEL,
        description="Train, one way",
    )


def demo_front_door(*, scheme: Scheme, coordinator_user) -> None:
    """A published front door, and one applicant at the references stage with one reference
    back and one awaited. Each part is made only when missing."""
    if not FrontDoor.objects.filter(scheme=scheme).exists():
        recruitment_services.front_door_save(
            scheme=scheme,
            by=coordinator_user,
            slug=scheme.slug,
            is_published=True,
            is_discreet=True,
            public_title="Positive Steps",
            offer="A trained volunteer buddy who meets you every week or two, for a coffee, a "
            "walk or a chat, for up to a year. Free and confidential.",
            who_for="Adults in the borough who would like some company and support while "
            "they get on with life.",
            how_to_volunteer="Buddies give about two hours a week for a year. We train you, "
            "check references and a DBS, and support you all the way.",
            how_to_be_referred="Your clinic, GP or social worker can refer you, or you can "
            "refer yourself.",
            complaints_contact="Write to the scheme manager, Ruth Morgan, at "
            "complaints@example.org or call 020 7946 0100.",
        )
    email = "applicant@example.org"
    if Application.objects.filter(scheme=scheme, email=email).exists():
        return
    application = recruitment_services.application_submit(
        scheme=scheme,
        first_name="Jordan",
        last_name="Blake",
        email=email,
        phone="07700 900777",
        motivation="A friend was a buddy and said it changed how she saw her neighbourhood. "
        "I have time on weekday evenings and I like listening.",
        experience="Two years on a student helpline.",
        skills_languages="English, Polish",
        availability="Weekday evenings, some Saturdays",
        heard_from="event",
        consent_to_checks=True,
        referees=[
            {
                "name": "Helen Price",
                "email": "helen.price@example.org",
                "relationship": "Line manager",
                "known_for": "3 years",
            },
            {
                "name": "Marek Zielinski",
                "email": "marek.z@example.org",
                "relationship": "Volunteer coordinator at the food bank",
                "known_for": "18 months",
            },
        ],
    )
    # Reaching the references stage emails each referee their link.
    buddy_stage_move(
        membership=application.membership,
        to_stage=BuddyStage.REFERENCES,
        by=coordinator_user,
        evidence="Application read: motivation and availability fit.",
    )
    recruitment_services.reference_submit(
        token=recruitment_services.reference_token(application.references.get(position=1)),
        answers={
            "how_known": "I have managed Jordan at the library for three years.",
            "suitable": "yes",
            "suitability_comments": "Patient, kind and discreet with the public.",
            "reliability": "Always on time; covers shifts for colleagues.",
            "concerns": "",
            "consent_to_share": True,
        },
    )


def demo_groups(
    *,
    scheme: Scheme,
    venue: Venue,
    facilitators: list[Membership],
    members: list[Membership],
    by,
    now=None,
) -> list[str]:
    """A drop-in group meeting in our own room, with one session coming up (the next weekday
    at 11:00) run by two facilitators, one member who has signed the agreement and one who has
    not yet. Returns what could not be made (e.g. a facilitator's vetting has lapsed)."""
    from groups import services as group_services  # noqa: PLC0415  (the top app reads all)
    from groups.models import GroupMember, GroupQuestion, PeerGroup, SessionState  # noqa: PLC0415

    now = now or timezone.now()
    problems: list[str] = []
    GroupQuestion.objects.get_or_create(scheme=scheme, text="Lives in the borough?")
    group = PeerGroup.objects.filter(scheme=scheme, name="Positive Steps drop-in").first()
    if group is None:
        group = group_services.group_create(
            scheme=scheme,
            by=by.user,
            name="Positive Steps drop-in",
            neutral_name="Tuesday group",
            kind="drop_in",
            schedule="regular",
            schedule_text="Weekdays at 11am, drop in",
            purpose="An informal peer-support drop-in: a guided discussion, then open chat.",
            venue=venue,
            signage_text="Room 2: private meeting",
            complaints_contact="Ruth Morgan, coordinator, on 020 7946 0101",
        )
    today = timezone.localdate(now, scheme.zone)
    day = _weekday_after(today)
    if _local(day, time(11, 0), scheme) < now + timedelta(minutes=10):
        day = _weekday_after(day + timedelta(days=1))
    start = _local(day, time(11, 0), scheme)
    session = group.sessions.filter(state=SessionState.PLANNED, planned_start__gte=now).first()
    if session is None:
        try:
            session = group_services.group_session_create(
                group=group,
                planned_start=start,
                planned_end=start + timedelta(minutes=90),
                by=by.user,
                now=now,
            )
        except DomainError as problem:
            return [str(problem)]
    for facilitator in facilitators:
        if session.facilitators.filter(membership=facilitator).exists():
            continue
        try:
            group_services.facilitator_add(
                session=session, membership=facilitator, by=by.user, now=now
            )
        except DomainError as problem:
            problems.append(str(problem))
    for number, participant in enumerate(members):
        if GroupMember.objects.filter(group=group, membership=participant).exists():
            continue
        answers = {question.pk: True for question in group_services.group_questions(scheme)}
        member = group_services.group_member_add(
            group=group, membership=participant, answers=answers, by=by.user, now=now
        )
        if number == 0 and member.agreement is not None:
            contract_services.contract_sign(
                contract=member.agreement,
                membership=participant,
                typed_name=participant.user.get_full_name() or participant.user.display_name,
                agreed=True,
                read_to_end=True,
                now=now,
            )
    return problems


# --- One journey from referral to ending (the evidence pack, issue 19) ------------------------


def demo_journey(*, scheme: Scheme, coordinator, buddies: list[Membership], now=None) -> list[str]:
    """One participant's whole path, back-dated: referred by a clinic eight months ago,
    assessed, enrolled, matched, agreement signed, six meetings, and a planned ending two weeks
    ago, so the evidence pack can show a journey from referral to ending. Made once; returns
    what could not be made."""
    from buddyscheme import referrals  # noqa: PLC0415
    from buddyscheme.models import EligibilityQuestion, Referral, ReferralSource  # noqa: PLC0415
    from buddyscheme.referrals import ReferralDetails  # noqa: PLC0415
    from matching.models import EndingType, MatchProfile  # noqa: PLC0415
    from meetings.services.debriefs import DebriefContent, debrief_send  # noqa: PLC0415

    now = now or timezone.now()
    if Match.objects.filter(scheme=scheme, state="ended").exists():
        return []
    start = now - timedelta(days=240)
    referral = referrals.referral_receive(
        scheme=scheme,
        details=ReferralDetails(
            source=ReferralSource.CLINIC,
            person_name="Robin Ashworth",
            person_phone="07700 900303",
            preferred_contact="phone",
            consent_to_contact=True,
            needs=referrals.referral_needs_menu(scheme)[:1],
            referrer_name="Amira Shah",
            referrer_organisation="Riverside Clinic",
            referrer_role="Specialist nurse",
            referrer_email="amira.shah@clinic.example.org",
        ),
        now=start,
    )
    referrals.referral_assess(
        referral=referral,
        by=coordinator,
        answers={
            question.pk: question.eligible_answer
            for question in EligibilityQuestion.objects.filter(scheme=scheme)
        },
        needs=list(referral.needs),
        risks="",
        now=start + timedelta(days=6),
    )
    referral = referrals.referral_enrol(
        referral=Referral.objects.get(pk=referral.pk),
        by=coordinator,
        consent_to_hold_data=True,
        now=start + timedelta(days=9),
    )
    participant = referral.membership
    MatchProfile.objects.get_or_create(
        membership=participant, defaults={"postcode_district": "SE5", "availability": 0b111}
    )
    problems: list[str] = []
    at = start + timedelta(days=20)
    # The first buddy, from the last, who is free and cleared (the first ones are busy).
    for buddy in reversed(buddies):
        try:
            match = matching_services.match_create(
                participant=participant, buddy=buddy, by=coordinator, now=at
            )
        except DomainError as problem:
            problems.append(str(problem))
            continue
        problems = []
        break
    else:
        return problems[-1:]
    match = matching_services.match_propose(match=match, by=coordinator, now=at)
    matching_services.match_accept(match=match, by_membership=participant, now=at)
    matching_services.match_accept(match=match, by_membership=buddy, now=at)
    match = matching_services.match_introduce(
        match=match, intro_at=at + timedelta(days=5), by=coordinator, now=at
    )
    contract = contract_services.contract_generate(match=match, by=coordinator, now=at)
    coordinator_membership = Membership.objects.get(
        scheme=scheme, user=coordinator, role="coordinator"
    )
    for member in (participant, buddy, coordinator_membership):
        contract_services.contract_sign(
            contract=contract,
            membership=member,
            typed_name=member.user.get_full_name() or member.user.display_name,
            agreed=True,
            read_to_end=True,
            now=at + timedelta(days=5),
        )
    match = matching_services.match_activate(
        match=match, by=coordinator, now=at + timedelta(days=5)
    )
    venue = Venue.objects.filter(scheme=scheme, kind=VenueKind.COMMUNITY).first()
    if venue is not None:
        for week in range(6):
            day = _weekday_before(
                timezone.localdate(at, scheme.zone) + timedelta(weeks=2 + 3 * week)
            )
            begin = _local(day, time(10, 30), scheme)
            try:
                meeting = _book(
                    buddy=buddy, venue=venue, start=begin, minutes=60, by=coordinator, match=match
                )
                meeting_services.meeting_check_in(
                    meeting=meeting, key=_key(), by=buddy.user, now=begin + timedelta(minutes=1)
                )
                meeting_services.meeting_check_out(
                    meeting=meeting, key=_key(), by=buddy.user, now=begin + timedelta(minutes=55)
                )
                # Each meeting debriefed that day, as the scheme asks: a walk and a chat.
                debrief_send(
                    meeting=meeting,
                    content=DebriefContent(
                        how_it_went=4, what_happened="A walk and a coffee; talked about the week."
                    ),
                    by=buddy.user,
                    now=begin + timedelta(hours=3),
                )
            except DomainError as problem:
                problems.append(str(problem))
    matching_services.match_end(
        match=match,
        by=coordinator,
        reason="Planned ending after six months",
        ending_type=EndingType.PLANNED,
        now=now - timedelta(days=14),
    )
    return problems


def demo_funder_report(*, scheme: Scheme, coordinator_user) -> None:
    """A funder report for the twelve months up to today, with the scheme's own words, so the
    Reports page has one to open (its figures are what the demo above has left). Made once:
    a later `seed_demo` leaves the scheme's reports as they are."""
    if FunderReport.objects.filter(scheme=scheme).exists():
        return
    today = timezone.localdate()
    report = funder_report_create(
        scheme=scheme, starts_on=today - timedelta(days=364), ends_on=today, by=coordinator_user
    )
    funder_report_text_save(
        report=report,
        text=(
            "This year the scheme paired new volunteers with people newly diagnosed, and "
            "started a monthly drop-in group. Thank you for making it possible."
        ),
        by=coordinator_user,
    )


# --- Questionnaires and wellbeing outcomes ----------------------------------------------------

# Six matches that ended about two months ago, with ONS4 answered at their start and end (life
# satisfaction, worthwhile, happiness, anxiety), so the outcomes page has figures to show; the
# last one's exit feedback may be quoted.
DEMO_WELLBEING = [
    ((3, 4, 4, 7), (6, 6, 6, 4)),
    ((2, 5, 3, 8), (5, 6, 5, 5)),
    ((4, 5, 6, 6), (7, 7, 6, 3)),
    ((4, 3, 4, 6), (4, 5, 5, 6)),
    ((1, 7, 5, 9), (5, 7, 7, 2)),
    ((3, 2, 3, 7), (6, 5, 4, 5)),
]
DEMO_QUOTE = (
    "Having someone to go to appointments with made me less frightened. I go on my own now."
)


def demo_questionnaires(*, scheme: Scheme, buddies, participants, by, now=None) -> str:
    """Past matches with paired ONS4 answers and one exit form that may be quoted. Returns the
    path of an ONS4 link still open for the active match's participant (for trying it)."""
    now = now or timezone.now()
    defaults = questionnaire_services.defaults_ensure(scheme)
    ended_at = now - timedelta(days=60)
    started_at = ended_at - timedelta(days=200)
    pairs = list(zip(buddies[2:8], participants[12:18], DEMO_WELLBEING, strict=False))
    for number, (buddy, participant, (start, end)) in enumerate(pairs):
        match, created = Match.objects.get_or_create(
            scheme=scheme,
            buddy=buddy,
            participant=participant,
            state=MatchState.ENDED,
            defaults={
                "created_at": started_at - timedelta(days=30),
                "activated_at": started_at,
                "ended_at": ended_at,
                "ending_type": EndingType.PLANNED,
                "end_reason": "Came to a planned end",
            },
        )
        if not created:
            continue
        for occasion, scores, at in (
            (Occasion.START, start, started_at),
            (Occasion.END, end, ended_at),
        ):
            invitation = questionnaire_services.invitation_create(
                person=participant,
                questionnaire=defaults["ons4"],
                occasion=occasion,
                match=match,
                send=False,
                now=at,
            )
            questions = questionnaire_services.questions_of(invitation)
            questionnaire_services.answers_save(
                invitation=invitation,
                answers={q.pk: str(score) for q, score in zip(questions, scores, strict=True)},
                now=at,
            )
            questionnaire_services.response_complete(invitation=invitation, by=by, now=at)
        if number == len(pairs) - 1:
            invitation = questionnaire_services.invitation_create(
                person=participant,
                questionnaire=defaults["exit"],
                occasion=Occasion.END,
                match=match,
                send=False,
                now=ended_at,
            )
            answers = {}
            for question in questionnaire_services.questions_of(invitation):
                if question.code == "quote_consent":
                    answers[question.pk] = "Yes"
                elif question.kind == "text" and "difference" in question.text:
                    answers[question.pk] = DEMO_QUOTE
                elif question.options and question.kind != "multiple":
                    answers[question.pk] = question.options[0]
            questionnaire_services.answers_save(
                invitation=invitation, answers=answers, now=ended_at
            )
            questionnaire_services.response_complete(invitation=invitation, now=ended_at)
    active = Match.objects.filter(scheme=scheme, state=MatchState.ACTIVE).order_by("pk").first()
    if active is None:
        return ""
    invitation = questionnaire_services.invitation_create(
        person=active.participant,
        questionnaire=defaults["ons4"],
        occasion=Occasion.START,
        match=active,
        now=now,
    )
    if invitation is None or invitation.completed_at:
        return ""
    if invitation.expires_at <= now:
        invitation = questionnaire_services.invitation_resend(invitation=invitation, by=by, now=now)
    assert isinstance(invitation, Invitation)
    return reverse("evaluation:answer", args=[questionnaire_services.invitation_token(invitation)])


# --- Pattern flags and re-match requests (issue 18) -------------------------------------------


def _demo_meeting(match: Match, venue: Venue, start: datetime, state: str) -> Meeting:
    """A meeting as the records show it afterwards (the lone-working net is not the point here)."""
    happened = state == MeetingState.CHECKED_OUT
    return Meeting.objects.create(
        scheme=match.scheme,
        match=match,
        buddy=match.buddy,
        venue=venue,
        purpose="Catch-up",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        expected_end=start + timedelta(hours=1),
        state=state,
        checked_in_at=start if happened else None,
        checked_out_at=start + timedelta(hours=1) if happened else None,
    )


def demo_patterns(
    *, scheme: Scheme, buddies: list[Membership], participants: list[Membership], venue, by
) -> list[str]:
    """Two running matches the dashboard flags ("Matches to look at"): one quiet for five
    weeks whose participant (three times) and buddy have asked for a different match, one with three
    cancellations in a row and a debrief with a boundary "yes" that mentions friendship. One
    earlier re-match request was answered with a new draft match that replaces the quiet one.
    Returns what could not be made, in words."""
    from matching.models import MatchState, RematchRequest  # noqa: PLC0415
    from meetings.models import BoundaryQuestion, Debrief  # noqa: PLC0415
    from meetings.services.debriefs import DebriefContent, debrief_send  # noqa: PLC0415

    quiet_participant, busy_participant = participants[12], participants[13]
    if Match.objects.filter(scheme=scheme, participant=quiet_participant).exists():
        return []
    now = timezone.now()
    quiet = Match.objects.create(
        scheme=scheme,
        buddy=buddies[7],
        participant=quiet_participant,
        state=MatchState.ACTIVE,
        created_at=now - timedelta(weeks=6),
        activated_at=now - timedelta(weeks=5),
        review_due=(now + timedelta(weeks=20)).date(),
    )
    busy = Match.objects.create(
        scheme=scheme,
        buddy=buddies[8],
        participant=busy_participant,
        state=MatchState.ACTIVE,
        created_at=now - timedelta(weeks=9),
        activated_at=now - timedelta(weeks=8),
        review_due=(now + timedelta(weeks=16)).date(),
    )
    first = matching_services.rematch_request(
        match=quiet,
        by_membership=quiet_participant,
        reason="We never seem to find a time that suits us both.",
        now=now - timedelta(weeks=4),
    )
    matching_services.rematch_request(
        match=quiet,
        by_membership=quiet_participant,
        reason="Still no meeting. Could I try someone who is free at weekends?",
        now=now - timedelta(days=10),
    )
    matching_services.rematch_request(
        match=quiet,
        by_membership=quiet_participant,
        reason="I would like someone nearer home, if there is anyone.",
        now=now - timedelta(days=6),
    )
    matching_services.rematch_request(
        match=quiet,
        by_membership=buddies[7],
        reason="My shifts have changed and I cannot make weekdays any more.",
        now=now - timedelta(days=3),
    )
    skipped = []
    # The first buddy, from the last, with a place left (other demo matches fill some).
    for buddy in reversed(buddies):
        try:
            matching_services.rematch_request_new_match(
                rematch=first, buddy=buddy, by=by, note="Offered a buddy free at weekends."
            )
        except DomainError as error:
            problem = f"new match for a re-match request: {error}"
            continue
        break
    else:
        skipped.append(problem)
    RematchRequest.objects.filter(pk=first.pk, handled_at__isnull=True).update(
        handled_at=now, handled_by=by, handled_note="Talked it through by phone."
    )

    held = _demo_meeting(busy, venue, now - timedelta(weeks=6), MeetingState.CHECKED_OUT)
    for weeks_ago in (5, 4, 3):
        state = MeetingState.MISSED if weeks_ago == 4 else MeetingState.CANCELLED
        _demo_meeting(busy, venue, now - timedelta(weeks=weeks_ago), state)
    Debrief.objects.create(meeting=held, opened_at=held.checked_out_at)
    crossed = {
        question.pk: question.text.startswith("Were gifts")
        for question in BoundaryQuestion.objects.filter(scheme=scheme, is_active=True)
    }
    debrief_send(
        meeting=held,
        content=DebriefContent(
            how_it_went=4,
            what_happened="Lunch and a walk. J. brought me a present and said we should be "
            "friends after this, which I said I would think about.",
            boundaries=crossed,
        ),
        by=busy.buddy.user,
        now=(held.checked_out_at or now) + timedelta(hours=3),
    )
    return skipped


SIGNPOSTING_ENTRIES = [
    # (name, kind, what it offers, area, how to contact, eligibility, months since checked)
    (
        "Local HIV peer support group",
        "peer_support",
        "A friendly evening group run by people living with HIV: talks, shared meals, "
        "one-to-one peer mentoring.",
        "Lambeth",
        "Tuesdays 6–8pm, drop in, or call 020 7946 0200",
        "Adults living with HIV",
        2,
    ),
    (
        "Citizens Advice",
        "money",
        "Free, confidential advice on benefits, debt, work, housing and consumer problems.",
        "Lambeth",
        "Adviceline 0800 144 8848 (weekdays 9am–5pm), citizensadvice.org.uk",
        "",
        3,
    ),
    (
        "Samaritans",
        "crisis",
        "Someone to talk to, day or night, about anything that is troubling you.",
        "UK-wide",
        "Call 116 123 free, any time; email jo@samaritans.org",
        "",
        1,
    ),
    (
        "Sexual health clinic (walk-in)",
        "health",
        "Testing, treatment, PrEP and advice; walk-in sessions most weekdays.",
        "Lambeth",
        "020 7946 0310 to check walk-in times",
        "",
        5,
    ),
    (
        "NHS Talking Therapies",
        "mental_health",
        "Free talking therapies for anxiety, low mood and stress; you can refer yourself.",
        "Lambeth",
        "Self-referral online or call 020 7946 0320",
        "Registered with a GP in the borough",
        4,
    ),
    (
        "Mind infoline",
        "mental_health",
        "Information on mental health problems, where to get help and your rights.",
        "England and Wales",
        "0300 123 3393 (weekdays 9am–6pm), mind.org.uk",
        "",
        6,
    ),
    (
        "Local food bank",
        "money",
        "Three days of emergency food, with signposting to money and debt advice.",
        "Lambeth",
        "Needs a voucher: ask your coordinator, GP or Citizens Advice",
        "A referral voucher",
        8,
    ),
    (
        "Shelter housing helpline",
        "housing",
        "Advice on homelessness, eviction, repairs and finding somewhere to live.",
        "England",
        "0808 800 4444, shelter.org.uk",
        "",
        7,
    ),
    (
        "South London law centre",
        "legal",
        "Free legal advice on immigration, housing and employment, by appointment.",
        "South London",
        "020 7946 0330, appointments on Monday and Thursday mornings",
        "Low income; lives or works in the area",
        14,
    ),
    (
        "Community lunch club",
        "social",
        "A hot lunch and company every Wednesday; games and outings once a month.",
        "Brixton",
        "Drop in at the community centre, Wednesdays 12–2pm; 020 7946 0340",
        "",
        15,
    ),
    (
        "Volunteer centre",
        "learning",
        "Helps you find volunteering that suits you, as a step back into work or to meet people.",
        "Lambeth",
        "020 7946 0350 or drop in Tuesday to Thursday, 10am–4pm",
        "",
        3,
    ),
    (
        "Free English classes (ESOL)",
        "learning",
        "English for speakers of other languages, from beginners up; free for most people.",
        "Lambeth",
        "Adult learning service, 020 7946 0360",
        "Aged 19 or over",
        9,
    ),
]


def _months_ago(today: date, months: int) -> date:
    return today - timedelta(days=round(months * 30.5))


def demo_signposting(
    *, scheme: Scheme, coordinator_user, buddies: list[Membership], participants: list[Membership]
) -> None:
    """The directory (a dozen services, two not checked for over a year); one ended match with
    a finished next-steps plan (participant19, reminders on) and one whose plan is still a draft
    (participant20), so the dashboard shows "needs a plan". Each part is made only when
    missing."""
    from signposting import services as signposting_services  # noqa: PLC0415
    from signposting.models import DirectoryEntry, PlanState  # noqa: PLC0415

    now = timezone.now()
    today = timezone.localdate(now, scheme.zone)
    entries: dict[str, DirectoryEntry] = {}
    for name, kind, offers, area, contact, eligibility, months in SIGNPOSTING_ENTRIES:
        entry = DirectoryEntry.objects.filter(
            scheme=scheme, name=name, retired_at__isnull=True
        ).first()
        if entry is None:
            entry = signposting_services.directory_entry_add(
                scheme=scheme,
                by=coordinator_user,
                values={
                    "name": name,
                    "kind": kind,
                    "offers": offers,
                    "area": area,
                    "contact": contact,
                    "eligibility": eligibility,
                },
            )
            # As if it had been added and last checked some months ago.
            DirectoryEntry.objects.filter(pk=entry.pk).update(
                last_checked_on=_months_ago(today, months)
            )
        entries[name] = entry
    for participant, buddy, days_ago, finished in (
        (participants[18], buddies[2], 20, True),
        (participants[19], buddies[3], 3, False),
    ):
        if Match.objects.filter(participant=participant, buddy=buddy).exists():
            continue
        ended_at = now - timedelta(days=days_ago)
        match = Match.objects.create(
            scheme=scheme,
            buddy=buddy,
            participant=participant,
            state="active",
            activated_at=ended_at - timedelta(days=190),
            created_by=coordinator_user,
        )
        match = matching_services.match_end(
            match=match,
            by=coordinator_user,
            reason="Planned completion after six months",
            ending_type="planned",
            now=ended_at,
        )
        plan = signposting_services.plan_for_match_ensure(match=match, by=coordinator_user)
        if not finished or plan.state == PlanState.FINISHED:
            continue
        steps = [
            (
                2,
                "Go along to the Tuesday evening group",
                "together",
                "Local HIV peer support group",
            ),
            (9, "Ring about a benefits check", "participant", "Citizens Advice"),
            (30, "Ask the volunteer centre about the café role", "participant", "Volunteer centre"),
            (75, "Catch-up call with your coordinator", "coordinator", None),
            (150, "Look back at the plan together", "together", None),
        ]
        for days, what, who, entry_name in steps:
            signposting_services.plan_action_add(
                plan=plan,
                by=coordinator_user,
                due_on=today + timedelta(days=days),
                what=what,
                who=who,
                entry=entries[entry_name] if entry_name else None,
            )
        signposting_services.plan_reminders_set(plan=plan, remind_me=True, by=coordinator_user)
        signposting_services.plan_finish(plan=plan, by=coordinator_user)


def demo_endings(*, scheme: Scheme, coordinator_user, pairs: list[tuple[Membership, Membership]]):
    """Issue 18's endings on the dashboard: a participant who asked to stop ("we are not
    getting on"), a buddy who told us they have become friends, and a match that broke down
    whose buddy is still owed a one-to-one. `pairs` are three (participant, buddy). Made once."""
    if Match.objects.filter(scheme=scheme, participant=pairs[0][0], buddy=pairs[0][1]).exists():
        return
    now = timezone.now()
    matches = [
        Match.objects.create(
            scheme=scheme,
            participant=participant,
            buddy=buddy,
            state=MatchState.ACTIVE,
            created_by=coordinator_user,
            activated_at=now - timedelta(days=120),
        )
        for participant, buddy in pairs
    ]
    matching_services.member_stop_request(
        membership=pairs[0][0], reason="not_getting_on", now=now - timedelta(hours=3)
    )
    matching_endings.friendship_disclose(
        match=matches[1], by_membership=pairs[1][1], note="We meet for coffee most weeks anyway."
    )
    matching_endings.match_end_guided(
        match=matches[2],
        ending_type=EndingType.BREAKDOWN,
        answers=matching_endings.EndingAnswers(
            notes="Different ideas of what the match was for.", rematch_participant=True
        ),
        by=coordinator_user,
        now=now - timedelta(days=2),
    )
