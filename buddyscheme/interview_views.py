"""Coordinator pages for selection (issue 15): the pipeline with waiting times and the
recruitment figures, interviews (notes and outcome), the scheme's interview questions, and the
recruitment source on the person page. Booking an interview is in meetings (it may be a
meeting with lone-working check-in)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import interviews, pipeline
from .access import (
    get_interview_for_coordinator,
    get_interview_question_for_user,
    get_member_for_coordinator,
    get_scheme_for_coordinator,
    role_required,
)
from .errors import DomainError
from .interview_forms import (
    InterviewNotesForm,
    InterviewOutcomeForm,
    InterviewQuestionForm,
    RecruitmentSourceForm,
)
from .models import BuddyStage, Role
from .settings_views import saved


@require_GET
@role_required(Role.COORDINATOR)
def pipeline_page(request):
    scheme = get_scheme_for_coordinator(request)
    stage = request.GET.get("stage", "")
    if stage not in pipeline.PIPELINE_STAGES:
        stage = ""
    return render(
        request,
        "buddyscheme/interviews/pipeline.html",
        {
            "columns": pipeline.pipeline(scheme, stage or None),
            "stage": stage,
            "stages": [(s, BuddyStage(s).label) for s in pipeline.PIPELINE_STAGES],
            "long_wait_days": pipeline.LONG_WAIT_DAYS,
            "report": pipeline.recruitment_report(scheme),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def person_recruitment_source(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = RecruitmentSourceForm(request.POST)
    if form.is_valid():
        interviews.recruitment_source_set(
            applicant=member, source=form.cleaned_data["recruitment_source"], by=request.user
        )
        messages.success(request, "Saved how they heard of us.")
    else:
        messages.error(request, "Choose how they heard of us from the list.")
    return redirect("person", pk=member.pk)


def _interview_page(request, interview, notes_form=None, outcome_form=None, status=200):
    answers = list(interview.answers.all())
    return render(
        request,
        "buddyscheme/interviews/interview.html",
        {
            "interview": interview,
            "member": interview.applicant,
            "notes_form": notes_form or InterviewNotesForm(answers=answers),
            "outcome_form": outcome_form or InterviewOutcomeForm(),
            "meeting": getattr(interview, "meeting", None),
        },
        status=status,
    )


@require_GET
@role_required(Role.COORDINATOR)
def interview_detail(request, pk):
    return _interview_page(request, get_interview_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def interview_notes(request, pk):
    interview = get_interview_for_coordinator(request, pk)
    form = InterviewNotesForm(request.POST, answers=list(interview.answers.all()))
    if form.is_valid():
        try:
            interviews.interview_notes_save(
                interview=interview, notes=form.notes(), by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Notes saved.")
            return redirect("interview", pk=interview.pk)
    return _interview_page(request, interview, notes_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def interview_outcome(request, pk):
    interview = get_interview_for_coordinator(request, pk)
    form = InterviewOutcomeForm(request.POST)
    if form.is_valid():
        try:
            interviews.interview_outcome_record(
                interview=interview,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Outcome recorded. {interview.applicant.user.display_name} is told by email.",
            )
            return redirect("interview", pk=interview.pk)
    return _interview_page(request, interview, outcome_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def interview_cancel(request, pk):
    interview = get_interview_for_coordinator(request, pk)
    try:
        interviews.interview_cancel(interview=interview, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Interview cancelled.")
    return redirect("person", pk=interview.applicant_id)


# --- Settings: the scheme's interview questions ----------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_interview_questions(request):
    scheme = get_scheme_for_coordinator(request)
    form = InterviewQuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        question = saved(form, interviews.interview_question_create, scheme=scheme, by=request.user)
        if question:
            messages.success(request, "Question added.")
            return redirect("settings_interview_questions")
    return render(
        request,
        "buddyscheme/settings/interview_questions.html",
        {
            "form": form,
            "questions": interviews.interview_questions_for(scheme),
            "suggested": interviews.DEFAULT_INTERVIEW_QUESTIONS,
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def settings_interview_questions_defaults(request):
    scheme = get_scheme_for_coordinator(request)
    added = interviews.interview_questions_add_defaults(scheme=scheme, by=request.user)
    messages.success(request, f"{added} suggested question{'' if added == 1 else 's'} added.")
    return redirect("settings_interview_questions")


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_interview_question_edit(request, pk):
    question = get_interview_question_for_user(request, pk)
    form = InterviewQuestionForm(request.POST or None, instance=question)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, interviews.interview_question_update, question=question, by=request.user)
    ):
        messages.success(request, "Question saved.")
        return redirect("settings_interview_questions")
    return render(
        request,
        "buddyscheme/settings/interview_question_edit.html",
        {"form": form, "question": question},
    )


@require_POST
@role_required(Role.COORDINATOR)
def settings_interview_question_delete(request, pk):
    question = get_interview_question_for_user(request, pk)
    interviews.interview_question_delete(question=question, by=request.user)
    messages.success(request, "Question removed. Interviews already booked keep their questions.")
    return redirect("settings_interview_questions")
