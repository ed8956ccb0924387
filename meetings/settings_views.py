"""Settings pages for lone working: venues with their risk assessments, the on-call rota (a week
at a time, with its gaps) and the safety timings. Every change goes through a service."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_scheme_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.settings_views import saved

from . import patterns, services
from .access import get_shift_for_user, get_venue_for_user
from .forms import LoneWorkingForm, PatternSettingsForm, ShiftForm, VenueForm, WeekForm

# --- Venues -----------------------------------------------------------------------------------


def _after_venue_saved(request, venue) -> None:
    if services.venue_review_overdue(venue):
        # Saved all the same: the coordinator may be recording what is already the case.
        messages.warning(
            request,
            f"Saved, but the risk assessment's review date ({venue.risk_review_due:%-d %B %Y}) "
            "has passed: nobody can book this venue until someone reviews the assessment and "
            "sets a new date.",
        )
    else:
        messages.success(request, f"“{venue.name}” is saved.")
    if not venue.is_active:
        booked = services.venue_meetings_still_booked(venue)
        if booked:
            messages.warning(
                request,
                f"{booked} meeting{'s are' if booked != 1 else ' is'} still booked there: "
                "change them on the meetings page.",
            )


@require_GET
@role_required(Role.COORDINATOR)
def settings_venues(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request,
        "meetings/settings/venues.html",
        {
            "venues": services.venues_for_scheme(scheme),
            "today": timezone.localdate(timezone=scheme.zone),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_venue_new(request):
    scheme = get_scheme_for_coordinator(request)
    form = VenueForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        venue = saved(form, services.venue_create, scheme=scheme, by=request.user)
        if venue:
            _after_venue_saved(request, venue)
            return redirect("meetings:settings_venues")
    return render(request, "meetings/settings/venue_form.html", {"form": form, "venue": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_venue_edit(request, pk):
    venue = get_venue_for_user(request, pk)
    name = venue.name
    form = VenueForm(request.POST or None, instance=venue, scheme=venue.scheme)
    if request.method == "POST" and form.is_valid():
        changed = saved(form, services.venue_update, venue=venue, by=request.user)
        if changed:
            _after_venue_saved(request, changed)
            return redirect("meetings:settings_venues")
    return render(
        request, "meetings/settings/venue_form.html", {"form": form, "venue": venue, "name": name}
    )


# --- The on-call rota -------------------------------------------------------------------------


def _asked_day(request):
    """The day a query string asks for (?day=YYYY-MM-DD), or None: never an error page."""
    form = WeekForm(request.GET)
    return form.cleaned_data["day"] if form.is_valid() else None


@require_GET
@role_required(Role.COORDINATOR)
def settings_rota(request):
    scheme = get_scheme_for_coordinator(request)
    today = timezone.localdate(timezone=scheme.zone)
    monday = services.week_start(_asked_day(request) or today)
    week = services.rota_week(scheme, monday)
    return render(
        request,
        "meetings/settings/rota.html",
        {
            "week": week,
            "today": today,
            "this_week": services.week_start(today),
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "tail_minutes": round(week.response_tail.total_seconds() / 60),
        },
    )


def _rota_url(day) -> str:
    return f"{reverse('meetings:settings_rota')}?day={services.week_start(day):%Y-%m-%d}"


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_shift_new(request):
    scheme = get_scheme_for_coordinator(request)
    day = _asked_day(request) or timezone.localdate(timezone=scheme.zone)
    # Office closing time until it opens next day: the usual evening shift, to adjust.
    initial = {
        "start_day": day,
        "start_time": scheme.working_hours_end,
        "end_day": day + timedelta(days=1),
        "end_time": scheme.working_hours_start,
    }
    form = ShiftForm(request.POST or None, scheme=scheme, initial=initial)
    if request.method == "POST" and form.is_valid():
        shift = saved(
            form,
            services.on_call_shift_create,
            data=form.shift_data(),
            scheme=scheme,
            by=request.user,
        )
        if shift:
            messages.success(request, "Shift added to the rota.")
            return redirect(_rota_url(timezone.localtime(shift.starts_at, scheme.zone).date()))
    return render(request, "meetings/settings/shift_form.html", {"form": form, "shift": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_shift_edit(request, pk):
    shift = get_shift_for_user(request, pk)
    scheme = shift.scheme
    form = ShiftForm(
        request.POST or None, scheme=scheme, editing=True, initial=ShiftForm.initial_for(shift)
    )
    if request.method == "POST" and form.is_valid():
        changed = saved(
            form,
            services.on_call_shift_update,
            data=form.shift_data(),
            shift=shift,
            by=request.user,
        )
        if changed:
            messages.success(request, "Shift saved.")
            return redirect(_rota_url(timezone.localtime(changed.starts_at, scheme.zone).date()))
    return render(
        request,
        "meetings/settings/shift_form.html",
        {
            "form": form,
            "shift": shift,
            "is_over": shift.ends_at <= timezone.now(),
            "starts": timezone.localtime(shift.starts_at, scheme.zone),
            "ends": timezone.localtime(shift.ends_at, scheme.zone),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def settings_shift_delete(request, pk):
    shift = get_shift_for_user(request, pk)
    try:
        services.on_call_shift_delete(shift=shift, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("meetings:settings_shift_edit", pk=shift.pk)
    messages.success(request, "Shift removed from the rota.")
    return redirect(_rota_url(timezone.localtime(shift.starts_at, shift.scheme.zone).date()))


# --- Safety timings ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_safety(request):
    scheme = get_scheme_for_coordinator(request)
    form = LoneWorkingForm(request.POST or None, instance=services.lone_working_to_read(scheme))
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, services.lone_working_update, scheme=scheme, by=request.user)
    ):
        messages.success(
            request, "Safety timings saved. They apply from the next check-in or booking."
        )
        return redirect("settings_home")
    return render(request, "meetings/settings/safety.html", {"form": form})


# --- Pattern flags ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_patterns(request):
    scheme = get_scheme_for_coordinator(request)
    form = PatternSettingsForm(request.POST or None, instance=services.lone_working_to_read(scheme))
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, patterns.pattern_settings_update, scheme=scheme, by=request.user)
    ):
        messages.success(request, "Pattern flags saved. The dashboard uses them from now on.")
        return redirect("settings_home")
    return render(request, "meetings/settings/patterns.html", {"form": form})
