"""Matching pages: the coordinator's workspace, rounds and events; everyone's menu and matches."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_member_for_coordinator, login_required, role_required
from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.forms import SupportPersonForm, posted_id
from buddyscheme.models import Role

from . import proposals, selectors, services
from .access import (
    get_match_for_user,
    get_offer_for_user,
    get_round_for_user,
    get_speed_event_for_user,
)
from .ending_forms import StopForm
from .forms import (
    AnswerForm,
    DeclineForm,
    EndForm,
    IntroductionForm,
    MatchListFilterForm,
    MatchProfileForm,
    ReasonForm,
    SpeedMeetingForm,
    WaitingListFilterForm,
)
from .goal_forms import PlanForm
from .goal_selectors import planned_length
from .models import CLOSED_STATES, MatchProfile, MatchState, MenuItem, SpeedMeeting, SpeedPreference


def _profile_form(request, membership):
    profile, _ = MatchProfile.objects.get_or_create(membership=membership)
    side = "buddy" if membership.role == Role.BUDDY else "participant"
    return MatchProfileForm(
        request.POST or None, instance=profile, scheme=membership.scheme, side=side
    )


# --- Coordinator --------------------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def workspace(request):
    scheme = request.membership.scheme
    waiting = selectors.waiting_participants(scheme)
    filters = WaitingListFilterForm(request.GET)
    filters.is_valid()  # a bad filter shows its error and filters nothing
    today = timezone.localdate()
    if district := filters.cleaned_data.get("district"):
        waiting = waiting.filter(match_profile__postcode_district__startswith=district)
    if (min_days := filters.cleaned_data.get("min_days")) is not None:
        waiting = waiting.filter(
            enrolment__waiting_since__lte=today - timezone.timedelta(days=min_days)
        )
    rows = [(p, (today - p.enrolment.waiting_since).days) for p in waiting]
    return render(
        request,
        "matching/workspace.html",
        {
            "rows": rows,
            "filters": filters,
            "buddies_available": len(selectors.available_buddies(scheme)),
            "flags": selectors.rematch_flags(scheme),
            "rematch_requests": selectors.open_rematch_requests(scheme)[:20],
            "awaiting": selectors.proposals_awaiting_answer(scheme)[:50],
            "nudged_since": timezone.now() - proposals.NUDGE_EVERY,
            "proposals": selectors.matches_for_coordinator(
                scheme, [MatchState.DRAFT, MatchState.ACCEPTED, MatchState.INTRODUCED]
            )[:50],
            "rounds": selectors.rounds_for_coordinator(scheme)[:RECENT],
            "events": selectors.speed_events_for_coordinator(scheme)[:RECENT],
            "now": timezone.now(),
        },
    )


RECENT = 5  # past rounds and events on the workspace; the history page has the rest


@require_GET
@role_required(Role.COORDINATOR)
def history(request):
    """Every past matching round and speed-buddying event, newest first."""
    scheme = request.membership.scheme
    return render(
        request,
        "matching/history.html",
        {
            "rounds": selectors.rounds_for_coordinator(scheme)[:200],
            "events": selectors.speed_events_for_coordinator(scheme)[:200],
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def participant_candidates(request, pk):
    """One participant beside their best candidate buddies, with the reasons for each."""
    participant = get_member_for_coordinator(request, pk, role=Role.PARTICIPANT)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "offer_choice":
                services.suggestion_offer_create(participant=participant, by=request.user)
                messages.success(
                    request, "The participant can now choose from the suggested buddies."
                )
                return redirect("matching:participant", pk=participant.pk)
            buddy = get_member_for_coordinator(
                request, posted_id(request.POST.get("buddy")), role=Role.BUDDY
            )
            state = MatchState.PROPOSED if action == "propose" else MatchState.DRAFT
            match = services.match_create(
                participant=participant, buddy=buddy, by=request.user, state=state
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                "Match proposed: both will be asked." if state == "proposed" else "Draft saved.",
            )
            return redirect("matching:match", pk=match.pk)
    audit_record(
        actor=request.user,
        verb="participant_matching_view",
        obj=participant,
        scheme=participant.scheme_id,
    )
    candidates = selectors.suggestions_for(participant, limit=10)
    return render(
        request,
        "matching/participant.html",
        {
            "participant": participant,
            "wanted": selectors.facts(participant),
            "wanted_items": MenuItem.objects.filter(profiles__membership=participant).order_by(
                "name"
            ),
            "candidates": candidates,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def profile_for(request, pk):
    """A coordinator fills someone's menu with them (on a tablet at enrolment, say)."""
    member = get_member_for_coordinator(request, pk)
    if member.role == Role.COORDINATOR:
        raise Http404  # coordinators have no menu
    form = _profile_form(request, member)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved {member.user.display_name}'s menu.")
        return redirect("people")
    return render(request, "matching/profile.html", {"form": form, "member": member})


@require_GET
@role_required(Role.COORDINATOR)
def match_list(request):
    filters = MatchListFilterForm(request.GET)
    filters.is_valid()  # an unknown state is explained and filters nothing
    state = filters.cleaned_data.get("state")
    return render(
        request,
        "matching/match_list.html",
        {
            "matches": selectors.matches_for_coordinator(
                request.membership.scheme, [state] if state else None
            )[:200],
            "state": state,
            "states": MatchState.choices,
            "filters": filters,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def match_detail(request, pk):
    """Coordinators act on a match here; buddies and participants read a proposal and see
    their match (their answers have their own URLs below)."""
    match = get_match_for_user(request, pk)
    is_coordinator = request.membership.role == Role.COORDINATOR
    forms = {
        "intro_form": IntroductionForm(),
        "end_form": EndForm(),
        "reason_form": ReasonForm(),
        "plan_form": PlanForm(),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        handle = _coordinator_action if is_coordinator else _member_action
        try:
            handle(request, match, action, forms)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            if all(form.is_valid() for form in forms.values() if form.is_bound):
                return redirect("matching:match", pk=match.pk)
        match.refresh_from_db()
    return _match_page(request, match, **forms)


def _match_page(request, match, **forms):
    is_coordinator = request.membership.role == Role.COORDINATOR
    context = {
        "match": match,
        "intro_form": IntroductionForm(),
        "end_form": EndForm(),
        "reason_form": ReasonForm(),
        "plan_form": PlanForm(
            initial={"planned_sessions": match.planned_sessions, "planned_end": match.planned_end}
        ),
        "planned_length": planned_length(match),
        "closed_states": CLOSED_STATES,
    }
    if is_coordinator:
        context.update(
            events=match.events.select_related("actor__profile"),
            support_form=_support_person_form(match),
            answer_form=AnswerForm(match=match) if match.sides_to_answer else None,
            answers=[
                ("buddy", match.buddy_accepted_at, match.buddy_answer_recorded_by),
                (
                    "participant",
                    match.participant_accepted_at,
                    match.participant_answer_recorded_by,
                ),
            ],
            declined_recorded_by=getattr(match, f"{match.declined_by}_answer_recorded_by")
            if match.declined_by
            else None,
            nudge_from=proposals.nudge_available_at(match),
            now=timezone.now(),
            replaced_by=selectors.matches_replacing(match),
            open_rematch_requests=selectors.open_rematch_requests_for(match),
        )
    else:
        my_side = "buddy" if match.buddy_id == request.membership.pk else "participant"
        context.update(
            my_side=my_side,
            details=selectors.proposal_details(match, my_side)
            if match.state == MatchState.PROPOSED
            else None,
            answered=match.answered(my_side),
            recorded_by=getattr(match, f"{my_side}_answer_recorded_by"),
        )
    context.update(forms, sections=selectors.match_sections(match, request.membership))
    return render(
        request, "matching/match.html" if is_coordinator else "matching/my_match.html", context
    )


def _support_person_form(match, data=None):
    own = selectors.support_person_for(match.buddy)
    return SupportPersonForm(
        data,
        initial={"support_person": match.support_person},
        scheme=match.scheme,
        empty_label=f"The buddy's own ({own.user.display_name if own else 'nobody named'})",
    )


@require_POST
@role_required(Role.COORDINATOR)
def match_support_person(request, pk):
    """A support person for this match only, instead of the buddy's own."""
    match = get_match_for_user(request, pk)
    form = _support_person_form(match, data=request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["support_person"][0])
        return redirect("matching:match", pk=match.pk)
    chosen = form.cleaned_data["support_person"]
    try:
        services.match_support_person_set(match=match, support_person=chosen, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{chosen.user.display_name} is the support person for this match."
            if chosen
            else "This match uses the buddy's own support person.",
        )
    return redirect("matching:match", pk=match.pk)


def _coordinator_action(request, match, action, forms):
    by = request.user
    if action == "propose":
        services.match_propose(match=match, by=by)
        messages.success(request, "Proposed: both will see it on their phones.")
    elif action == "withdraw":
        services.match_withdraw(match=match, by=by, reason=request.POST.get("reason", ""))
        messages.success(request, "Withdrawn.")
    elif action == "introduce":
        form = forms["intro_form"] = IntroductionForm(request.POST)
        if form.is_valid():
            services.match_introduce(match=match, intro_at=form.cleaned_data["intro_at"], by=by)
            messages.success(request, "Introduction booked.")
    elif action == "activate":
        form = forms["plan_form"] = PlanForm(request.POST)
        if form.is_valid():
            services.match_activate(match=match, by=by, **form.cleaned_data)
            messages.success(request, "The match is active.")
    elif action in ("start_ending", "end"):
        form = forms["end_form"] = EndForm(request.POST)
        if form.is_valid() and action == "start_ending":
            services.match_start_ending(match=match, by=by, reason=form.cleaned_data["reason"])
            messages.success(request, "The match is ending.")
        elif form.is_valid():
            services.match_end(match=match, by=by, **form.cleaned_data)
            messages.success(request, "The match has ended.")
    else:
        raise DomainError("That is not something you can do here.")


def _member_action(request, match, action, forms):
    me = request.membership
    if action == "rematch":
        form = forms["reason_form"] = ReasonForm(request.POST)
        if form.is_valid():
            services.rematch_request(
                match=match, by_membership=me, reason=form.cleaned_data["reason"]
            )
            messages.success(request, "Your coordinator has your request and will contact you.")
    else:
        raise DomainError("That is not something you can do here.")


# --- Answering a proposal: one URL per answer ---------------------------------------------------


@require_POST
@role_required(Role.BUDDY, Role.PARTICIPANT)
def proposal_accept(request, pk):
    match = get_match_for_user(request, pk)
    try:
        services.match_accept(match=match, by_membership=request.membership)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Thank you. We will be in touch about meeting.")
    return redirect("matching:match", pk=match.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def proposal_decline(request, pk):
    """No, thank you: asked for a reason only now, and it is optional."""
    match = get_match_for_user(request, pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.match_decline(
                match=match, by_membership=request.membership, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("matching:match", pk=match.pk)
        messages.success(
            request, "Thank you for letting us know. Your coordinator will be in touch."
        )
        return redirect("matching:my_matches")
    return render(request, "matching/decline.html", {"match": match, "form": form})


@require_POST
@role_required(Role.BUDDY, Role.PARTICIPANT)
def proposal_talk(request, pk):
    """ "I'd like to talk to the coordinator first": they are told; the proposal stays open."""
    match = get_match_for_user(request, pk)
    try:
        proposals.match_talk_request(match=match, by_membership=request.membership)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "We have told your coordinator, who will be in touch soon. You can still answer "
            "here at any time.",
        )
    return redirect("matching:match", pk=match.pk)


@require_POST
@role_required(Role.COORDINATOR)
def proposal_nudge(request, pk):
    match = get_match_for_user(request, pk)
    try:
        proposals.match_nudge(match=match, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "A reminder has gone to whoever has not answered yet.")
    return redirect(f"{reverse('matching:workspace')}#awaiting")


@require_POST
@role_required(Role.COORDINATOR)
def proposal_answer(request, pk):
    """Record an answer someone gave by phone or in person, on their behalf."""
    match = get_match_for_user(request, pk)
    form = AnswerForm(request.POST, match=match)
    if form.is_valid():
        try:
            proposals.match_answer_record(match=match, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Answer recorded.")
        return redirect("matching:match", pk=match.pk)
    return _match_page(request, match, answer_form=form)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def round_new(request):
    scheme = request.membership.scheme
    everyone_waiting = list(selectors.waiting_participants(scheme))
    waiting = [person for person in everyone_waiting if not person.choosing]
    choosing = [person for person in everyone_waiting if person.choosing]
    buddies = selectors.available_buddies(scheme)
    if request.method == "POST":
        try:
            matching_round = services.round_run(
                scheme=scheme,
                participant_ids=[posted_id(pk) for pk in request.POST.getlist("participants")],
                buddy_ids=[posted_id(pk) for pk in request.POST.getlist("buddies")],
                by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            return redirect("matching:round", pk=matching_round.pk)
    return render(
        request,
        "matching/round_new.html",
        {"waiting": waiting, "choosing": choosing, "buddies": buddies},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def round_detail(request, pk):
    matching_round = get_round_for_user(request, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "release":
                count = services.round_release(matching_round=matching_round, by=request.user)
                messages.success(request, f"{count} match{'es' if count != 1 else ''} proposed.")
            elif request.POST.get("action") == "remove":
                match = get_match_for_user(request, posted_id(request.POST.get("match")))
                if match.round_id != matching_round.pk:
                    raise DomainError("That match is not part of this round.")
                services.match_withdraw(match=match, by=request.user, reason="removed from round")
                messages.success(request, "Removed from the round.")
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("matching:round", pk=matching_round.pk)
    matches = matching_round.matches.select_related(
        "buddy__user__profile", "participant__user__profile"
    ).order_by("-score")
    gain = matching_round.total_score - matching_round.greedy_score
    return render(
        request,
        "matching/round.html",
        {
            "round": matching_round,
            "matches": matches,
            "gain": gain,
            "left_out": selectors.left_out_of(matching_round),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def event_detail(request, pk):
    event = get_speed_event_for_user(request, pk)
    form = SpeedMeetingForm(request.POST or None, scheme=event.scheme)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "match":
                made = services.speed_event_match(event=event, by=request.user)
                messages.success(
                    request, f"{len(made)} draft match{'es' if len(made) != 1 else ''} made."
                )
                return redirect("matching:matches")
            if form.is_valid():
                services.speed_meeting_record(event=event, **form.cleaned_data)
                messages.success(request, "Recorded.")
                return redirect("matching:event", pk=event.pk)
        except DomainError as error:
            messages.error(request, str(error))
    meetings = SpeedMeeting.objects.filter(event=event).select_related(
        "buddy__user__profile", "participant__user__profile"
    )
    answered = set(SpeedPreference.objects.filter(event=event).values_list("ranker_id", flat=True))
    return render(
        request,
        "matching/event.html",
        {"event": event, "form": form, "meetings": meetings, "answered": answered},
    )


# --- Buddies and participants -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def my_profile(request):
    form = _profile_form(request, request.membership)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved. Thank you.")
        return redirect("matching:my_profile")
    return render(request, "matching/profile.html", {"form": form})


@require_GET
@role_required(Role.BUDDY, Role.PARTICIPANT)
def my_matches(request):
    matches = selectors.matches_for_member(request.membership)
    return render(
        request,
        "matching/my_matches.html",
        {
            "open_matches": [m for m in matches if m.state not in CLOSED_STATES],
            "offer": selectors.open_offer_for(request.membership)
            if request.membership.role == Role.PARTICIPANT
            else None,
            "rank_cards": selectors.speed_rank_cards(request.membership),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.PARTICIPANT)
def choose(request, pk):
    """The participant picks one of the suggested buddies (first names only) or asks for others."""
    offer = get_offer_for_user(request, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "others":
                services.suggestion_ask_for_others(offer=offer, by_membership=request.membership)
                messages.success(
                    request, "Thank you. Your coordinator will find other people for you."
                )
            else:
                option = posted_id(request.POST.get("option"))
                services.suggestion_choose(
                    offer=offer, option_id=option, by_membership=request.membership
                )
                messages.success(request, "Thank you. We will ask them and let you know.")
            return redirect("matching:my_matches")
        except services.SuggestionGone as gone:
            # Not their mistake: the offer has moved on (a buddy dropped, another added).
            messages.warning(request, str(gone))
            return redirect("matching:choose", pk=offer.pk)
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("matching:choose", pk=offer.pk)
    return render(
        request,
        "matching/choose.html",
        {
            "offer": offer,
            "options": selectors.offer_options_shown(offer) if offer.is_open else [],
            "some_dropped": offer.options.filter(dropped_at__isnull=False).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def event_rank(request, pk):
    """After speed-buddying: put the people you met in order, or say no to someone."""
    event = get_speed_event_for_user(request, pk)
    me = request.membership
    side, other = ("buddy", "participant") if me.role == Role.BUDDY else ("participant", "buddy")
    met = [
        getattr(meeting, other)
        for meeting in SpeedMeeting.objects.filter(event=event, **{side: me}).select_related(
            f"{other}__user__profile"
        )
    ]
    current = {
        p.ranked_id: ("veto" if p.veto else str(p.rank))
        for p in SpeedPreference.objects.filter(event=event, ranker=me)
    }
    closed = selectors.speed_rankings_closed(event)
    if request.method == "POST" and not closed:
        choices = {person.pk: request.POST.get(f"choice_{person.pk}", "") for person in met}
        try:
            services.speed_preferences_save(event=event, ranker=me, choices=choices)
        except DomainError as error:
            messages.error(request, str(error))
            current = {pk: value for pk, value in choices.items()}
        else:
            messages.success(request, "Thank you. Your choices are saved.")
            return redirect("matching:my_matches")
    elif request.method == "POST":
        messages.error(request, closed)
    rows = [(person, current.get(person.pk, "")) for person in met]
    return render(
        request,
        "matching/event_rank.html",
        {"event": event, "rows": rows, "places": range(1, len(met) + 1), "closed": closed},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.PARTICIPANT, Role.BUDDY)
def stop(request):
    """ "I want to stop", as the agreement promises (buddies too): what happens, then a
    confirmation. A reason may be given, never required."""
    me = request.membership
    is_buddy = me.role == Role.BUDDY
    home = "meetings:today" if is_buddy else "participant_home"
    form = StopForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_stop_request(membership=me, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Thank you for telling us. Your coordinator will contact you soon. "
                + (
                    "Please do not arrange new meetings meanwhile."
                    if is_buddy
                    else "You do not need to meet your buddy again."
                ),
            )
            return redirect(home)
    match = selectors.current_match_for_buddy(me) if is_buddy else selectors.current_match_for(me)
    return render(
        request,
        "matching/stop.html",
        {
            "match": match,
            "form": form,
            "is_buddy": is_buddy,
            "home": home,
            "coordinator": selectors.coordinator_for_participant(
                match.participant if match else me, match
            ),
            "stop_request": selectors.open_stop_request(me),
        },
    )
