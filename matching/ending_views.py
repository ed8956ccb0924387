"""The ending flow's pages: the coordinator's guided steps (type → its questions → confirm),
the attempts to reach someone, and "We have become friends" for either side."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from buddyscheme.access import role_required
from buddyscheme.errors import DomainError
from buddyscheme.identifiers import person_names
from buddyscheme.models import Role

from . import endings
from .access import get_match_for_user
from .ending_forms import (
    INTRODUCTIONS,
    ContactAttemptForm,
    EndingForm,
    EndingTypeForm,
    FriendshipForm,
)
from .models import EndingType


def _names(match) -> list[str]:
    return person_names(match.buddy) + person_names(match.participant)


def _endable_match(request, pk):
    match = get_match_for_user(request, pk)
    if match.state not in endings.ENDABLE:
        messages.info(request, "This match is not active, so there is nothing to end.")
        return match, redirect("matching:match", pk=match.pk)
    return match, None


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def ending_start(request, pk):
    """Step 1: why is the match ending? Starts on the obvious type when there is one."""
    match, away = _endable_match(request, pk)
    if away:
        return away
    form = EndingTypeForm(
        request.POST or None, initial={"ending_type": endings.suggested_type(match)}
    )
    if request.method == "POST" and form.is_valid():
        return redirect(
            "matching:ending_step", pk=match.pk, ending_type=form.cleaned_data["ending_type"]
        )
    return render(
        request,
        "matching/endings/start.html",
        {
            "match": match,
            "form": form,
            "stop_requests": endings.stop_requests_for(match),
            "friendships": endings.friendship_disclosures(match),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def ending_step(request, pk, ending_type):
    """Step 2, the type's questions, and step 3, confirm what will happen. The confirm page
    carries the answers in hidden fields; "Change my answers" shows them in the form again."""
    if ending_type not in EndingType.values:
        raise Http404
    match, away = _endable_match(request, pk)
    if away:
        return away
    action = request.POST.get("action", "")
    form = EndingForm(
        request.POST if request.method == "POST" else None,
        ending_type=ending_type,
        names=_names(match),
    )
    confirming = False
    if request.method == "POST" and action != "change" and form.is_valid():
        answers = form.answers()
        if action == "confirm":
            try:
                endings.match_end_guided(
                    match=match, ending_type=ending_type, answers=answers, by=request.user
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    "Well done to them both: the match has ended."
                    if ending_type == EndingType.PLANNED
                    else "The match has ended.",
                )
                return redirect("matching:match", pk=match.pk)
        else:
            try:
                endings._check_answers(match, ending_type, answers, None)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                confirming = True
    elif action == "change":
        form.errors.clear()
    return _step_page(request, match, ending_type, form, confirming=confirming)


def _step_page(request, match, ending_type, form, confirming=False, attempt_form=None):
    last_met = endings.last_met_on(match)
    answers = form.answers() if confirming else None
    return render(
        request,
        "matching/endings/step.html",
        {
            "match": match,
            "ending_type": ending_type,
            "ending_label": EndingType(ending_type).label,
            "introduction": INTRODUCTIONS[ending_type],
            "form": form,
            "confirming": confirming,
            "consequences": endings.consequences(ending_type, answers),
            "follow_up": ending_type in endings.FOLLOW_UP_TYPES,
            "last_met": last_met,
            "weeks_since": endings.weeks_since(last_met),
            "attempts": endings.contact_attempts(match)
            if ending_type == EndingType.DISENGAGED
            else [],
            "attempt_form": attempt_form or ContactAttemptForm(names=_names(match)),
            "friendships": endings.friendship_disclosures(match),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def contact_attempt_add(request, pk):
    """One attempt to reach someone who stopped engaging; several may be recorded."""
    match, away = _endable_match(request, pk)
    if away:
        return away
    attempt_form = ContactAttemptForm(request.POST, names=_names(match))
    if attempt_form.is_valid():
        data = attempt_form.cleaned_data
        try:
            endings.contact_attempt_add(
                match=match,
                tried_on=data["tried_on"],
                who=data["who"],
                how=data["how"],
                outcome=data["outcome"],
                by=request.user,
            )
        except DomainError as error:
            attempt_form.add_error(None, str(error))
        else:
            messages.success(request, "Attempt recorded.")
            url = reverse("matching:ending_step", args=[match.pk, EndingType.DISENGAGED])
            return redirect(f"{url}#attempts")
    form = EndingForm(ending_type=EndingType.DISENGAGED, names=_names(match))
    return _step_page(request, match, EndingType.DISENGAGED, form, attempt_form=attempt_form)


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def friendship(request, pk):
    """ "We have become friends": either side tells the coordinator, from their phone."""
    match = get_match_for_user(request, pk)
    me = request.membership
    told = match.friendships.filter(by=me).first()
    form = FriendshipForm(request.POST if request.method == "POST" else None, names=_names(match))
    if request.method == "POST" and told is None and form.is_valid():
        try:
            endings.friendship_disclose(
                match=match, by_membership=me, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, "Thank you for telling us. Your coordinator will be in touch."
            )
            return redirect("matching:friendship", pk=match.pk)
    return render(
        request,
        "matching/endings/friendship.html",
        {
            "match": match,
            "form": form,
            "told": told,
            "other": match.participant if me.pk == match.buddy_id else match.buddy,
            "home": "participant_home" if me.role == Role.PARTICIPANT else "meetings:today",
            "can_tell": match.state in endings.ENDABLE,
        },
    )
