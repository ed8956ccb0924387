"""Pages for the signposting directory and next-steps plans. Thin: authorise through
signposting/access.py, call one service or selector, render or redirect."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_scheme_for_coordinator, reauthenticated, role_required
from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.identifiers import person_names
from buddyscheme.models import Role

from . import selectors, services
from .access import (
    get_action_for_coordinator,
    get_ended_match_for_coordinator,
    get_entry_for_coordinator,
    get_own_plan,
    get_plan_for_coordinator,
)
from .forms import DirectoryEntryForm, DirectoryFilterForm, PlanActionForm, RemindersForm
from .pdf import plan_pdf

# --- The directory, for coordinators ------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def directory(request):
    scheme = get_scheme_for_coordinator(request)
    today = timezone.localdate(timezone.now(), scheme.zone)
    form = DirectoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.directory_entries(
        scheme,
        area=filters.get("area", ""),
        kind=filters.get("kind", ""),
        text=filters.get("text", ""),
        stale_only=filters.get("stale", False),
        today=today,
    )
    return render(
        request,
        "signposting/directory.html",
        {
            "form": form,
            "entries": entries,
            "areas": selectors.directory_areas(scheme),
            "stale_before": selectors.stale_before(today),
            "stale_count": selectors.stale_entries(scheme, today).count(),
        },
    )


def _entry_form_page(request, form, entry=None, status=200):
    return render(
        request, "signposting/entry_form.html", {"form": form, "entry": entry}, status=status
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def entry_new(request):
    scheme = get_scheme_for_coordinator(request)
    if request.method == "GET":
        return _entry_form_page(request, DirectoryEntryForm())
    form = DirectoryEntryForm(request.POST)
    if form.is_valid():
        try:
            entry = services.directory_entry_add(
                scheme=scheme, by=request.user, values=form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"“{entry.name}” is in the directory.")
            return redirect("signposting:directory")
    return _entry_form_page(request, form)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def entry_edit(request, pk):
    entry = get_entry_for_coordinator(request, pk)
    if request.method == "GET":
        return _entry_form_page(request, DirectoryEntryForm(instance=entry), entry)
    # The form only checks the values; the service writes them.
    form = DirectoryEntryForm(request.POST, instance=DirectoryEntryForm.Meta.model())
    if form.is_valid():
        try:
            entry = services.directory_entry_change(
                entry=entry, by=request.user, values=form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"“{entry.name}” is saved and marked as checked today.")
            return redirect("signposting:directory")
    return _entry_form_page(request, form, entry)


@require_POST
@role_required(Role.COORDINATOR)
def entry_checked(request, pk):
    entry = get_entry_for_coordinator(request, pk)
    try:
        entry = services.directory_entry_checked(entry=entry, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{entry.name}” is marked as checked today.")
    if request.POST.get("next") == "dashboard":
        return redirect("coordinator_dashboard")
    return redirect("signposting:directory")


@require_POST
@role_required(Role.COORDINATOR)
def entry_retire(request, pk):
    entry = get_entry_for_coordinator(request, pk)
    services.directory_entry_retire(entry=entry, by=request.user)
    messages.success(request, f"“{entry.name}” is no longer in the directory.")
    return redirect("signposting:directory")


# --- Plans, for coordinators ---------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def plans(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request,
        "signposting/plans.html",
        selectors.plans_for_coordinator(scheme, timezone.now()),
    )


@require_POST
@role_required(Role.COORDINATOR)
def plan_start(request, pk):
    """For an ending recorded before plans existed: its draft plan, made once."""
    match = get_ended_match_for_coordinator(request, pk)
    try:
        plan = services.plan_for_match_ensure(match=match, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("matching:match", pk=match.pk)
    return redirect("signposting:plan", pk=plan.pk)


def _plan_page(request, plan, action_form=None, status=200):
    plan = selectors.plan_detail(plan.pk)
    return render(
        request,
        "signposting/plan.html",
        {
            "plan": plan,
            "actions": list(plan.actions.all()),
            "last_day": services.plan_last_day(plan),
            "action_form": action_form
            or PlanActionForm(
                entries=selectors.entries_for_choice(plan.scheme_id),
                names=person_names(plan.participant),
            ),
            "reminders_form": RemindersForm(initial={"remind_me": plan.remind_me}),
        },
        status=status,
    )


@require_GET
@role_required(Role.COORDINATOR)
def plan(request, pk):
    return _plan_page(request, get_plan_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def plan_action_add(request, pk):
    plan = get_plan_for_coordinator(request, pk)
    participant = selectors.plan_detail(plan.pk).participant
    form = PlanActionForm(
        request.POST,
        entries=selectors.entries_for_choice(plan.scheme_id),
        names=person_names(participant),
    )
    if form.is_valid():
        try:
            services.plan_action_add(
                plan=plan,
                by=request.user,
                due_on=form.cleaned_data["due_on"],
                what=form.cleaned_data["what"],
                who=form.cleaned_data["who"],
                entry=form.cleaned_data["entry"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The step is added.")
            return redirect("signposting:plan", pk=plan.pk)
    return _plan_page(request, plan, form)


@require_POST
@role_required(Role.COORDINATOR)
def plan_action_remove(request, pk):
    action = get_action_for_coordinator(request, pk)
    try:
        services.plan_action_remove(action=action, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The step is removed.")
    return redirect("signposting:plan", pk=action.plan_id)


@require_POST
@role_required(Role.COORDINATOR)
def plan_reminders(request, pk):
    plan = get_plan_for_coordinator(request, pk)
    form = RemindersForm(request.POST)
    form.is_valid()
    plan = services.plan_reminders_set(
        plan=plan, remind_me=form.cleaned_data.get("remind_me", False), by=request.user
    )
    messages.success(
        request, "Reminders are on." if plan.remind_me else "No reminders will be sent."
    )
    return redirect("signposting:plan", pk=plan.pk)


@require_POST
@role_required(Role.COORDINATOR)
def plan_finish(request, pk):
    plan = get_plan_for_coordinator(request, pk)
    try:
        services.plan_finish(plan=plan, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, "The plan is finished. The participant has been told it is on their Home."
        )
    return redirect("signposting:plan", pk=plan.pk)


def _pdf_response(request, plan) -> HttpResponse:
    audit_record(
        actor=request.user, verb="next_steps_pdf_download", obj=plan, scheme=plan.scheme_id
    )
    response = HttpResponse(
        plan_pdf(selectors.plan_detail(plan.pk)), content_type="application/pdf"
    )
    # A neutral file name: nothing in it says who or what the plan is about.
    response["Content-Disposition"] = f'inline; filename="next-steps-{plan.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response._csp_config = {}  # type: ignore[attr-defined]
    return response


@require_GET
@role_required(Role.COORDINATOR)
@reauthenticated
def plan_pdf_coordinator(request, pk):
    return _pdf_response(request, get_plan_for_coordinator(request, pk))


# --- The participant's own plan ----------------------------------------------------------------


@require_GET
@role_required(Role.PARTICIPANT)
def my_plan(request, pk):
    plan = selectors.plan_detail(get_own_plan(request, pk).pk)
    today = timezone.localdate(timezone.now(), plan.scheme.zone)
    return render(
        request,
        "signposting/my_plan.html",
        {
            "plan": plan,
            "actions": list(plan.actions.all()),
            "today": today,
            "reminders_form": RemindersForm(initial={"remind_me": plan.remind_me}),
        },
    )


@require_GET
@role_required(Role.PARTICIPANT)
def my_plan_pdf(request, pk):
    return _pdf_response(request, get_own_plan(request, pk))


@require_POST
@role_required(Role.PARTICIPANT)
def my_plan_reminders(request, pk):
    plan = get_own_plan(request, pk)
    form = RemindersForm(request.POST)
    form.is_valid()
    plan = services.plan_reminders_set(
        plan=plan, remind_me=form.cleaned_data.get("remind_me", False), by=request.user
    )
    messages.success(
        request,
        "We will remind you on the date of each step."
        if plan.remind_me
        else "We will not send reminders.",
    )
    return redirect("signposting:my_plan", pk=plan.pk)
