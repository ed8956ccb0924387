"""Re-match requests, for coordinators: the open ones, and each answered either with a note
("handled") or with a new match that replaces the old one. One URL per action."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_member_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.identifiers import person_names
from buddyscheme.models import Role

from . import selectors, services
from .access import get_rematch_request_for_user
from .forms import RematchHandledForm, RematchNewMatchForm

CANDIDATES_SHOWN = 10


@require_GET
@role_required(Role.COORDINATOR)
def rematch_list(request):
    return render(
        request,
        "matching/rematch_list.html",
        {"rows": selectors.rematch_requests_to_handle(request.membership.scheme)},
    )


def _names(rematch) -> list[str]:
    return [*person_names(rematch.match.participant), *person_names(rematch.match.buddy)]


def _page(request, rematch, handled_form=None, new_match_form=None):
    candidates = (
        selectors.suggestions_for(rematch.match.participant, limit=CANDIDATES_SHOWN)
        if rematch.handled_at is None
        else []
    )
    return render(
        request,
        "matching/rematch_detail.html",
        {
            "row": selectors.rematch_rows_for_request(rematch),
            "rematch": rematch,
            "handled_form": handled_form or RematchHandledForm(names=_names(rematch)),
            "new_match_form": new_match_form or RematchNewMatchForm(candidates=candidates),
            "candidates": candidates,
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def rematch_detail(request, pk):
    return _page(request, get_rematch_request_for_user(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def rematch_handled(request, pk):
    rematch = get_rematch_request_for_user(request, pk)
    form = RematchHandledForm(request.POST, names=_names(rematch))
    if form.is_valid():
        try:
            services.rematch_request_handle(
                rematch=rematch, note=form.cleaned_data["note"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The request is marked handled.")
            return redirect("matching:rematch_list")
    return _page(request, rematch, handled_form=form)


@require_http_methods(["POST"])
@role_required(Role.COORDINATOR)
def rematch_new_match(request, pk):
    rematch = get_rematch_request_for_user(request, pk)
    candidates = selectors.suggestions_for(rematch.match.participant, limit=CANDIDATES_SHOWN)
    form = RematchNewMatchForm(request.POST, candidates=candidates)
    if form.is_valid():
        try:
            buddy = get_member_for_coordinator(request, form.cleaned_data["buddy"], role=Role.BUDDY)
            match = services.rematch_request_new_match(
                rematch=rematch, buddy=buddy, by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "A draft match replaces the old one: propose it to both, and end the old match "
                "when the new one starts.",
            )
            return redirect("matching:match", pk=match.pk)
    return _page(request, rematch, new_match_form=form)
