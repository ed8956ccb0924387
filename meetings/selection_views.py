"""Selection pages that need places and times (issue 15): booking an applicant's interview
(face to face, a meeting with lone-working check-in), and induction and training sessions:
the coordinator's list, invitations and attendance, and the buddy's own training page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_member_for_coordinator, get_scheme_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.forms import posted_id
from buddyscheme.models import Role
from buddyscheme.support import own_support_person

from . import services
from .access import get_own_training_invitation, get_training_session_for_coordinator
from .forms import InterviewForm, TrainingAnswerForm, TrainingInviteForm, TrainingSessionForm
from .models import TrainingAnswer


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def interview_new(request, pk):
    applicant = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = InterviewForm(
        request.POST if request.method == "POST" else None,
        applicant=applicant,
        initial={"interviewer": own_support_person(applicant) or request.membership},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            interview = services.interview_arrange(
                applicant=applicant,
                mode=data["mode"],
                starts_at=data["planned_start"],
                ends_at=data["planned_end"],
                interviewer=data["interviewer"],
                venue=data["venue"],
                key_holder=data.get("key_holder"),
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Interview booked. {applicant.user.display_name} is told by email."
            )
            return redirect("interview", pk=interview.pk)
    return render(
        request, "meetings/training/interview_form.html", {"form": form, "member": applicant}
    )


# --- Training sessions: the coordinator's pages -----------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def training_sessions(request):
    scheme = get_scheme_for_coordinator(request)
    form = TrainingSessionForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.training_session_create(
                scheme=scheme,
                module=data["module"],
                venue=data["venue"],
                starts_at=data["planned_start"],
                ends_at=data["planned_end"],
                capacity=data["capacity"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Session added. Now invite people to it.")
            return redirect("meetings:training_session", pk=session.pk)
    return render(
        request,
        "meetings/training/sessions.html",
        {"form": form, "sessions": services.training_sessions_for(scheme)},
    )


def _session_page(request, session, invite_form=None, status=200):
    invitations = services.session_invitations(session)
    return render(
        request,
        "meetings/training/session.html",
        {
            "session": session,
            "invitations": invitations,
            "attending": sum(1 for i in invitations if i.answer == TrainingAnswer.ATTENDING),
            "invite_form": invite_form
            or TrainingInviteForm(people=services.invitable_people(session)),
        },
        status=status,
    )


@require_GET
@role_required(Role.COORDINATOR)
def training_session(request, pk):
    return _session_page(request, get_training_session_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def training_session_invite(request, pk):
    session = get_training_session_for_coordinator(request, pk)
    form = TrainingInviteForm(request.POST, people=services.invitable_people(session))
    if form.is_valid():
        try:
            sent = services.training_invite(
                session=session, invitees=list(form.cleaned_data["invitees"]), by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{len(sent)} invitation{'' if len(sent) == 1 else 's'} sent by email."
            )
            return redirect("meetings:training_session", pk=session.pk)
    return _session_page(request, session, invite_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def training_session_attendance(request, pk):
    session = get_training_session_for_coordinator(request, pk)
    attended = {posted_id(value) for value in request.POST.getlist("attended")}
    try:
        came = services.training_attendance_record(
            session=session, attended=attended, by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Attendance recorded: {came} came, and the module is completed for each of them.",
        )
    return redirect("meetings:training_session", pk=session.pk)


# --- The buddy's own training page ------------------------------------------------------------


@require_GET
@role_required(Role.BUDDY)
def my_training(request):
    return render(
        request,
        "meetings/training/mine.html",
        {"training": services.my_training(request.membership)},
    )


@require_POST
@role_required(Role.BUDDY)
def training_answer(request, pk):
    invitation = get_own_training_invitation(request, pk)
    form = TrainingAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether you are coming or sending apologies.")
        return redirect("meetings:my_training")
    try:
        services.training_answer(invitation=invitation, answer=form.cleaned_data["answer"])
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "Thank you: we have you down as coming."
            if form.cleaned_data["answer"] == TrainingAnswer.ATTENDING
            else "Thank you: your apologies are sent.",
        )
    return redirect("meetings:my_training")
