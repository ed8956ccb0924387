"""Group pages: the coordinator's (groups, sessions, members, exclusions, debrief replies), the
facilitator's session page on a phone, and the public anonymous feedback form."""

import base64
import io
import uuid

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_scheme_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.forms import posted_id
from buddyscheme.models import Role, Scheme
from buddyscheme.public_forms import allow_public_post
from buddyscheme.selectors import participants_of
from meetings.services import check_out_options, position_from

from . import selectors, services
from .access import (
    get_complaint_for_coordinator,
    get_debrief_for_coordinator,
    get_exclusion_for_coordinator,
    get_group_for_coordinator,
    get_member_for_coordinator,
    get_member_for_session,
    get_session_for_coordinator,
    get_session_for_facilitator,
)
from .forms import (
    ComplaintCloseForm,
    ComplaintForm,
    CountsForm,
    ExcludeForm,
    ExclusionReviewForm,
    FacilitatorForm,
    FeedbackForm,
    GroupDebriefForm,
    GroupForm,
    MemberAddForm,
    QuestionForm,
    ReplyForm,
    SessionForm,
    TasksForm,
)
from .models import FACILITATOR_TASKS, GroupQuestion, GroupSession, SessionState

# --- Coordinator: groups ----------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def group_list(request):
    scheme = request.membership.scheme
    return render(
        request,
        "groups/group_list.html",
        {
            "groups": selectors.groups_for_scheme(scheme),
            "questions": services.group_questions(scheme),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def group_new(request):
    scheme = get_scheme_for_coordinator(request)
    form = GroupForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(scheme=scheme, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Group created. Now plan its first session.")
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/group_form.html", {"form": form, "group": None})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def group_edit(request, pk):
    group = get_group_for_coordinator(request, pk)
    form = GroupForm(request.POST or None, instance=group, scheme=group.scheme)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Saved.")
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/group_form.html", {"form": form, "group": group})


@require_GET
@role_required(Role.COORDINATOR)
def group_detail(request, pk):
    group = get_group_for_coordinator(request, pk)
    members = selectors.members_of(group)
    return render(
        request,
        "groups/group_detail.html",
        {
            "group": group,
            "sessions": selectors.sessions_of(group),
            "members": [(member, services.agreement_status(member)) for member in members],
            "venue_problems": services.venue_problems(group, request_today(group)),
            "session_form": SessionForm(zone=group.scheme.zone),
            "complaints": list(group.complaints.select_related("recorded_by")),
            "complaint_form": ComplaintForm(),
            "close_form": ComplaintCloseForm(),
        },
    )


def request_today(group):
    return timezone.localdate(timezone.now(), group.scheme.zone)


@require_POST
@role_required(Role.COORDINATOR)
def session_new(request, pk):
    group = get_group_for_coordinator(request, pk)
    form = SessionForm(request.POST, zone=group.scheme.zone)
    if form.is_valid():
        try:
            session = services.group_session_create(
                group=group,
                planned_start=form.cleaned_data["planned_start"],
                planned_end=form.cleaned_data["planned_end"],
                by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Session planned. Add its two facilitators.")
            return redirect("groups:session", pk=session.pk)
    else:
        messages.error(
            request,
            "Check the date and times: "
            + " ".join(str(error) for errors in form.errors.values() for error in errors),
        )
    return redirect("groups:detail", pk=group.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def member_add(request, pk):
    group = get_group_for_coordinator(request, pk)
    questions = services.group_questions(group.scheme)
    initial = {}
    if "person" in request.GET:
        initial["membership"] = posted_id(request.GET["person"])
    form = MemberAddForm(
        request.POST or None, scheme=group.scheme, questions=questions, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = services.group_member_add(
                group=group,
                membership=form.cleaned_data["membership"],
                answers=form.answers(),
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Added. They have been sent the group agreement to sign; you can also sign it "
                "with them in person.",
            )
            return redirect("contracts:detail", pk=member.agreement_id)
    return render(request, "groups/member_add.html", {"group": group, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def complaint_new(request, pk):
    group = get_group_for_coordinator(request, pk)
    form = ComplaintForm(request.POST or None, initial={"received_on": request_today(group)})
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_record(
                group=group,
                received_on=form.cleaned_data["received_on"],
                summary=form.cleaned_data["summary"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Complaint recorded. Close it once it is followed up.")
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/complaint_form.html", {"group": group, "form": form})


@require_POST
@role_required(Role.COORDINATOR)
def complaint_close(request, pk):
    complaint = get_complaint_for_coordinator(request, pk)
    form = ComplaintCloseForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("Say how it was followed up.")
        services.complaint_close(
            complaint=complaint, outcome=form.cleaned_data["outcome"], by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Complaint closed.")
    return redirect("groups:detail", pk=complaint.group_id)


@require_POST
@role_required(Role.COORDINATOR)
def member_reconsent(request, pk):
    member = get_member_for_coordinator(request, pk)
    try:
        services.group_member_reconsent(member=member, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "A new agreement was sent for them to sign.")
    return redirect("groups:detail", pk=member.group_id)


@require_POST
@role_required(Role.COORDINATOR)
def member_refer(request, pk):
    member = get_member_for_coordinator(request, pk)
    services.member_refer_one_to_one(member=member, by=request.user)
    messages.success(request, "Referred for one-to-one support: it shows on their record.")
    return redirect("person", pk=member.membership_id)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def exclusion_review(request, pk):
    exclusion = get_exclusion_for_coordinator(request, pk)
    form = ExclusionReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exclusion_review(
                exclusion=exclusion,
                lift=form.cleaned_data["decision"] == "lift",
                note=form.cleaned_data["note"],
                review_on=form.cleaned_data["review_on"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Review recorded.")
            return redirect("groups:detail", pk=exclusion.member.group_id)
    return render(request, "groups/exclusion_review.html", {"exclusion": exclusion, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def questions(request):
    scheme = get_scheme_for_coordinator(request)
    form = QuestionForm(request.POST or None)
    if request.method == "POST":
        remove = posted_id(request.POST.get("remove"))
        if remove:
            GroupQuestion.objects.filter(scheme=scheme, pk=remove).update(is_active=False)
            messages.success(request, "Question removed.")
            return redirect("groups:questions")
        if form.is_valid():
            GroupQuestion.objects.create(
                scheme=scheme,
                text=form.cleaned_data["text"],
                order=GroupQuestion.objects.filter(scheme=scheme).count(),
            )
            messages.success(request, "Question added.")
            return redirect("groups:questions")
    return render(
        request,
        "groups/questions.html",
        {"form": form, "questions": services.group_questions(scheme)},
    )


# --- Coordinator: a session -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def session_detail(request, pk):
    session = get_session_for_coordinator(request, pk)
    form = FacilitatorForm(request.POST or None, scheme=session.group.scheme)
    if request.method == "POST" and form.is_valid():
        try:
            services.facilitator_add(
                session=session, membership=form.cleaned_data["membership"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Facilitator added.")
            return redirect("groups:session", pk=session.pk)
    debrief = getattr(session, "debrief", None)
    return render(
        request,
        "groups/session_detail.html",
        {
            "session": session,
            "group": session.group,
            "facilitators": session.facilitators.select_related("membership__user", "meeting"),
            "form": form,
            "feedback": services.feedback_summary(session),
            "debrief": debrief,
            "reply_form": ReplyForm(),
            "needed": services.FACILITATORS_NEEDED,
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def debrief_reply(request, pk):
    debrief = get_debrief_for_coordinator(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        services.group_debrief_reply(
            debrief=debrief, text=form.cleaned_data["text"], by=request.user
        )
        messages.success(request, "Reply sent to the facilitators.")
    else:
        messages.error(request, "Write a reply first.")
    return redirect("groups:session", pk=debrief.session_id)


# --- The facilitator's session page -----------------------------------------------------------


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def my_sessions(request):
    return render(
        request,
        "groups/my_sessions.html",
        {"sessions": selectors.sessions_for_facilitator(request.membership)},
    )


def _run_context(request, session: GroupSession) -> dict:
    facilitator = services.facilitator_of(session, request.membership)
    members = [
        (member, services.agreement_status(member), services.open_exclusion(member))
        for member in selectors.members_of(session.group)
    ]
    attended = {a.member_id: a for a in session.attendances.all()}
    return {
        "session": session,
        "group": session.group,
        "me": facilitator,
        "my_meeting": facilitator.meeting if facilitator else None,
        "facilitators": session.facilitators.select_related("membership__user", "meeting"),
        "enough": session.facilitators.count() >= services.FACILITATORS_NEEDED,
        "tasks": [(key, label, key in session.tasks_done) for key, label in FACILITATOR_TASKS],
        "members": [(m, status, excluded, attended.get(m.pk)) for m, status, excluded in members],
        "counts_form": CountsForm(
            initial={"new_count": session.new_count, "returning_count": session.returning_count}
        ),
        "exclude_form": ExcludeForm(),
        "key": uuid.uuid4().hex,
        "debrief": getattr(session, "debrief", None),
        # The check-out asks for the PIN exactly as Today does (the duress PIN works here too).
        "check_out": check_out_options(request.membership) if facilitator else None,
    }


@never_cache
@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def session_run(request, pk):
    session = get_session_for_facilitator(request, pk)
    return render(request, "groups/session_run.html", _run_context(request, session))


SESSION_ACTIONS = (
    "check-in",
    "start",
    "tasks",
    "read-out",
    "present",
    "counts",
    "exclude",
    "check-out",
)


@require_POST
@role_required(Role.BUDDY, Role.COORDINATOR)
def session_action(request, pk, action):
    """One button on the facilitator's session page; each calls one service."""
    session = get_session_for_facilitator(request, pk)
    if action not in SESSION_ACTIONS:
        raise Http404
    me, key = request.membership, request.POST.get("key", "")
    done = ""
    try:
        if action == "check-in":
            services.session_check_in(session=session, membership=me, key=key)
            done = "Thank you. You have checked in."
        elif action == "start":
            services.session_start(session=session, membership=me)
            done = "The session has started. Reconfirm the ground rules first."
        elif action == "tasks":
            form = TasksForm(request.POST)
            form.is_valid()
            services.session_tasks_set(
                session=session, membership=me, done=form.cleaned_data.get("done", [])
            )
            done = "Checklist saved."
        elif action == "read-out":
            services.ground_rules_read_out(session=session, membership=me)
            done = "Recorded: the ground rules were read out to everyone."
        elif action == "present":
            member = get_member_for_session(request, session, posted_id(request.POST.get("member")))
            services.attendance_mark(
                session=session,
                member=member,
                membership=me,
                rules_confirmed=request.POST.get("rules") == "yes",
            )
            done = "Marked present."
        elif action == "counts":
            form = CountsForm(request.POST)
            if not form.is_valid():
                raise DomainError("Type how many came: whole numbers from 0.")
            services.session_counts_set(session=session, membership=me, **form.cleaned_data)
            done = "Counts saved."
        elif action == "exclude":
            member = get_member_for_session(request, session, posted_id(request.POST.get("member")))
            form = ExcludeForm(request.POST)
            if not form.is_valid():
                raise DomainError(
                    "Say why, and choose a review date after today: "
                    + " ".join(str(e) for errors in form.errors.values() for e in errors)
                )
            services.member_exclude(
                member=member, membership=me, session=session, **form.cleaned_data
            )
            done = "Excluded until the review. The coordinator has been told."
        elif action == "check-out":
            count = services.session_check_out(
                session=session,
                membership=me,
                key=key,
                pin=request.POST.get("pin", ""),
                position=position_from(request.POST),
            )
            messages.success(
                request,
                "Checked out: " + ("both of you." if count > 1 else "the session is finished."),
            )
            return redirect("groups:debrief", pk=session.pk)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("groups:run", pk=session.pk)


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    buffer = io.BytesIO()
    image.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode()


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def feedback_code(request, pk):
    session = get_session_for_facilitator(request, pk)
    url = request.build_absolute_uri(
        reverse("groups:feedback", args=[session.group.scheme.slug, session.feedback_token])
    )
    return render(
        request,
        "groups/feedback_code.html",
        {"session": session, "url": url, "qr": mark_safe(_qr_svg(url))},  # noqa: S308  (our own base64)
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.COORDINATOR)
def session_debrief(request, pk):
    session = get_session_for_facilitator(request, pk)
    existing = getattr(session, "debrief", None)
    names = participants_of(request.membership) if request.membership.role == Role.BUDDY else []
    form = GroupDebriefForm(request.POST or None, names=[m.user.first_name for m in names])
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            services.group_debrief_send(
                session=session,
                membership=request.membership,
                went_well=form.cleaned_data["went_well"],
                did_not_go_well=form.cleaned_data["did_not_go_well"],
                to_pick_up=form.cleaned_data["to_pick_up"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Debrief sent to the coordinator. Thank you.")
            return redirect("groups:debrief", pk=session.pk)
    return render(
        request,
        "groups/session_debrief.html",
        {"session": session, "group": session.group, "form": form, "debrief": existing},
    )


# --- Public: anonymous feedback ---------------------------------------------------------------

DEVICE_COOKIE = "group_feedback_device"


@require_http_methods(["GET", "POST"])
def feedback(request, slug, token):
    """No login. Rate-limited per address and per device and session (a random cookie, never
    stored with the answer); what is kept has no person, no address and no time."""
    scheme = get_object_or_404(Scheme, slug=slug)
    session = get_object_or_404(
        GroupSession.objects.select_related("group"), group__scheme=scheme, feedback_token=token
    )
    if session.state == SessionState.CANCELLED:
        raise Http404
    device = request.COOKIES.get(DEVICE_COOKIE) or uuid.uuid4().hex
    form = FeedbackForm(request.POST or None)
    sent = False
    if request.method == "POST":
        if not allow_public_post(request, "public_feedback", key=f"{session.pk}:{device}"):
            form.add_error(None, "Thank you, we already have your answers for this session.")
        elif form.is_valid():
            if not form.is_spam:
                services.feedback_record(
                    session=session,
                    felt_welcome=form.cleaned_data["felt_welcome"],
                    felt_safe=form.cleaned_data["felt_safe"],
                    would_come_again=form.cleaned_data["would_come_again"],
                    comments=form.cleaned_data["comments"],
                )
            sent = True
    response = render(
        request, "groups/feedback.html", {"group": session.group, "form": form, "sent": sent}
    )
    response.set_cookie(
        DEVICE_COOKIE, device, max_age=60 * 60 * 24 * 30, httponly=True, samesite="Lax"
    )
    return response
