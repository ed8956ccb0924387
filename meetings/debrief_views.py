"""Debriefs: the buddy's form after a meeting (saved as a draft as they type), their list with
the coordinator's feedback; the coordinator's lists, a debrief's page (feedback, follow-up) and
recording a debrief given by phone or email."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Role

from . import selectors, services
from .access import get_debrief_for_coordinator, get_meeting_for_user, get_own_meeting_for_buddy
from .forms import (
    FACES,
    DebriefFilterForm,
    DebriefForm,
    DebriefOnBehalfForm,
    FeedbackForm,
    FollowUpForm,
)
from .models import ItemKind, Meeting, MeetingState

NOT_FINISHED = "You can write the debrief once you have checked out of the meeting."


ADD_ROW_KINDS = (ItemKind.ACTION, ItemKind.GOAL)


def _debrief_form(
    meeting: Meeting, debrief, data=None, *, sending=True, form_class=DebriefForm, add_row=""
):
    return form_class(
        data,
        debrief=debrief,
        add_row=add_row if add_row in ADD_ROW_KINDS else "",
        carried=services.carried_items(meeting),
        questions=selectors.boundary_questions_for(meeting.scheme),
        names=selectors.participant_names(meeting),
        match_goals=selectors.match_goal_choices(meeting),
        sending=sending,
    )


def _form_page(request, meeting, form, template="meetings/debrief_form.html", status=200):
    with timezone.override(meeting.scheme.zone):
        return render(
            request,
            template,
            {"meeting": meeting, "form": form, "faces": FACES},
            status=status,
        )


@never_cache
@require_GET
@role_required(Role.BUDDY)
def debrief(request, pk):
    """The debrief of the buddy's meeting: the form (with the draft so far) or, once sent, what
    they sent and their coordinator's feedback."""
    meeting = get_own_meeting_for_buddy(request, pk)
    if meeting.state != MeetingState.CHECKED_OUT:
        messages.info(request, NOT_FINISHED)
        return redirect("meetings:today")
    debrief = selectors.debrief_for(meeting)
    if debrief is not None and debrief.is_sent:
        with timezone.override(meeting.scheme.zone):
            return render(
                request,
                "meetings/debrief_sent.html",
                {"meeting": meeting, "debrief": debrief, "faces": FACES},
            )
    form = _debrief_form(meeting, debrief, add_row=request.GET.get("add", ""))
    return _form_page(request, meeting, form)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_POST
@role_required(Role.BUDDY)
def debrief_draft(request, pk):
    """Save what is typed so far. The phone posts here every few seconds (htmx) and gets a line
    saying when it was saved; without JavaScript the "Save draft" button does the same."""
    meeting = get_own_meeting_for_buddy(request, pk)
    form = _debrief_form(meeting, None, request.POST, sending=False)
    problem = ""
    if form.is_valid():
        try:
            services.debrief_save_draft(meeting=meeting, content=form.content(), by=request.user)
        except DomainError as error:
            problem = str(error)
    else:
        problem = "Not saved yet: check the boxes marked in red."
    if _is_htmx(request):
        saved_at = None if problem else timezone.localtime(timezone.now(), meeting.scheme.zone)
        return render(
            request, "meetings/_draft_status.html", {"saved_at": saved_at, "problem": problem}
        )
    if problem and not form.is_valid():
        return _form_page(request, meeting, form)
    if problem:
        messages.error(request, problem)
        return redirect("meetings:today")
    add_row = request.POST.get("add", "")
    if add_row in ADD_ROW_KINDS:
        return redirect(reverse("meetings:debrief", args=[meeting.pk]) + f"?add={add_row}")
    messages.success(request, "Draft saved. You can finish it later from Today.")
    return redirect("meetings:debrief", pk=meeting.pk)


@require_POST
@role_required(Role.BUDDY)
def debrief_send(request, pk):
    meeting = get_own_meeting_for_buddy(request, pk)
    form = _debrief_form(meeting, None, request.POST)
    if not form.is_valid():
        return _form_page(request, meeting, form)
    try:
        services.debrief_send(
            meeting=meeting,
            content=form.content(),
            by=request.user,
            identifying_confirmed=form.identifying_confirmed,
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("meetings:today")
    messages.success(request, "Thank you. Your debrief has been sent to your coordinator.")
    return redirect("meetings:today")


@require_GET
@role_required(Role.BUDDY)
def my_debriefs(request):
    """The buddy's debriefs: those still to write, and those sent with any feedback."""
    with timezone.override(request.membership.scheme.zone):
        return render(
            request,
            "meetings/my_debriefs.html",
            {"debriefs": selectors.debriefs_for_buddy(request.membership), "faces": FACES},
        )


# --- The coordinator's side ------------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def debrief_list(request):
    scheme = request.membership.scheme
    form = DebriefFilterForm(request.GET or None, scheme=scheme)
    with timezone.override(scheme.zone):
        return render(
            request,
            "meetings/debrief_list.html",
            {
                "form": form,
                "debriefs": selectors.debriefs_for_coordinator(scheme, **form.filters()),
                "faces": FACES,
            },
        )


def _coordinator_page(request, debrief, feedback_form=None, follow_up_form=None, status=200):
    with timezone.override(debrief.meeting.scheme.zone):
        return render(
            request,
            "meetings/debrief_detail.html",
            {
                "debrief": debrief,
                "meeting": debrief.meeting,
                "items": debrief.items.all(),
                "ticked": debrief.items_done.all(),
                "answers": debrief.boundary_answers.all(),
                "feedback_form": feedback_form
                or FeedbackForm(initial={"feedback": debrief.feedback}),
                "follow_up_form": follow_up_form
                or FollowUpForm(
                    initial={"follow_up": debrief.follow_up, "note": debrief.follow_up_note}
                ),
                "faces": FACES,
            },
            status=status,
        )


@require_GET
@role_required(Role.COORDINATOR)
def debrief_detail(request, pk):
    return _coordinator_page(request, get_debrief_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def debrief_feedback(request, pk):
    debrief = get_debrief_for_coordinator(request, pk)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            services.debrief_feedback(
                debrief=debrief, text=form.cleaned_data["feedback"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Feedback saved. The buddy has been told there is a note.")
            return redirect("meetings:debrief_detail", pk=debrief.pk)
    return _coordinator_page(request, debrief, feedback_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def debrief_follow_up(request, pk):
    debrief = get_debrief_for_coordinator(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.debrief_follow_up_set(
                debrief=debrief,
                state=form.cleaned_data["follow_up"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Follow-up saved.")
            return redirect("meetings:debrief_detail", pk=debrief.pk)
    return _coordinator_page(request, debrief, follow_up_form=form)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def debrief_record(request, pk):
    """A coordinator records the debrief a buddy gave by phone, email or in person."""
    meeting = get_meeting_for_user(request, pk)
    if meeting.state != MeetingState.CHECKED_OUT:
        messages.info(request, "A debrief can be recorded once the meeting has finished.")
        return redirect("meetings:list")
    debrief = selectors.debrief_for(meeting)
    if debrief is not None and debrief.is_sent:
        return redirect("meetings:debrief_detail", pk=debrief.pk)
    form = _debrief_form(
        meeting,
        debrief,
        request.POST if request.method == "POST" else None,
        form_class=DebriefOnBehalfForm,
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.debrief_send(
                meeting=meeting,
                content=form.content(),
                by=request.user,
                given_by=form.cleaned_data["given_by"],
                identifying_confirmed=form.identifying_confirmed,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Debrief recorded for the buddy.")
            return redirect("meetings:debrief_detail", pk=sent.pk)
    return _form_page(request, meeting, form, template="meetings/debrief_record.html")
