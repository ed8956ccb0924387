"""Coordinators' pages for erasure (a dry run, then a confirmed, re-authenticated erase or a
recorded decision to keep) and for retention (a daily report they confirm)."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import erasure, retention
from .access import get_member_for_coordinator, get_scheme_for_coordinator, role_required
from .erasure_forms import ErasureForm, KeepForm, RetentionConfirmForm
from .errors import DomainError
from .models import ErasureRequest, ErasureStatus, RetentionReview, RetentionStatus, Role


def _erase_page(request, member, form=None, keep_form=None, status=200):
    plan = erasure.erasure_plan(person=member.user, scheme=member.scheme)
    holdable = sorted({line.hold for line in plan.holdable})
    try:
        erasure.erasure_check(member.user, member.scheme)
        refusal = ""
    except DomainError as error:
        refusal = str(error)
    open_request = (
        ErasureRequest.objects.filter(
            scheme=member.scheme, person=member.user, status=ErasureStatus.OPEN
        )
        .order_by("-requested_at")
        .first()
    )
    return render(
        request,
        "buddyscheme/erasure/erase.html",
        {
            "member": member,
            "plan": plan,
            "refusal": refusal,
            "open_request": open_request,
            "form": form or ErasureForm(holdable=holdable),
            "keep_form": keep_form or KeepForm(),
        },
        status=status,
    )


@require_GET
@role_required(Role.COORDINATOR)
def person_erase_review(request, pk):
    """The dry run: what erasing this person would delete, empty or keep, and why."""
    return _erase_page(request, get_member_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
@reauthentication_required
def person_erase_confirm(request, pk):
    member = get_member_for_coordinator(request, pk)
    plan = erasure.erasure_plan(person=member.user, scheme=member.scheme)
    form = ErasureForm(request.POST, holdable=sorted({line.hold for line in plan.holdable}))
    if not form.is_valid():
        return _erase_page(request, member, form=form, status=400)
    try:
        erasure.person_erase(
            person=member.user,
            scheme=member.scheme,
            by=request.user,
            held=form.cleaned_data.get("hold") or (),
            reason=form.cleaned_data.get("reason") or "",
        )
    except DomainError as error:
        form.add_error(None, str(error))
        return _erase_page(request, member, form=form, status=400)
    messages.success(request, "Erased. The access log records that it was done, not who it was.")
    return redirect("people")


@require_POST
@role_required(Role.COORDINATOR)
def erasure_request_keep(request, pk):
    scheme = get_scheme_for_coordinator(request)
    erasure_request = get_object_or_404(
        ErasureRequest.objects.select_related("person"), pk=pk, scheme=scheme
    )
    member = get_member_for_coordinator(
        request,
        erasure_request.person.memberships.filter(scheme=scheme).values_list("pk", flat=True)[0],
    )
    form = KeepForm(request.POST)
    if form.is_valid():
        try:
            erasure.erasure_request_keep(
                request=erasure_request, by=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Recorded: the records are kept, with your reason.")
            return redirect("coordinator_dashboard")
    return _erase_page(request, member, keep_form=form, status=400)


@require_GET
@role_required(Role.COORDINATOR)
def retention_page(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request,
        "buddyscheme/erasure/retention.html",
        {
            "scheme": scheme,
            "review": retention.retention_review_open(scheme),
            "done": RetentionReview.objects.filter(scheme=scheme, status=RetentionStatus.DONE)[:10],
            "form": RetentionConfirmForm(),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
@reauthentication_required
def retention_confirm(request, pk):
    scheme = get_scheme_for_coordinator(request)
    review = get_object_or_404(RetentionReview, pk=pk, scheme=scheme)
    form = RetentionConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the box to say you have read the report.")
        return redirect("retention")
    try:
        done = retention.retention_review_confirm(review=review, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        count = len(done.match_ids)
        messages.success(request, f"{count} match{'es' if count != 1 else ''} anonymised.")
    return redirect("retention")
