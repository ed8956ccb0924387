"""Questionnaire pages: the coordinator's builder, filling one in with a person, the outcomes
page; and the phone pages a person answers on through their link, without a password."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import (
    get_member_for_coordinator,
    get_scheme_for_coordinator,
    get_scheme_object_for_user,
    role_required,
)
from buddyscheme.errors import DomainError
from buddyscheme.models import Role

from . import outcomes
from . import questionnaires as services
from .forms import (
    AnswersForm,
    PeriodForm,
    QuestionEditForm,
    QuestionnaireForm,
    ScheduleForm,
    StartWithPersonForm,
)
from .models import Invitation, Question, Questionnaire

TEMPLATES = "evaluation/questionnaires"

# --- Who may see what -------------------------------------------------------------------------


def get_questionnaire_for_coordinator(request, pk: int) -> Questionnaire:
    return get_scheme_object_for_user(
        request,
        Questionnaire.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_question_for_coordinator(request, pk: int) -> Question:
    return get_scheme_object_for_user(
        request,
        Question.objects.select_related("version__questionnaire"),
        pk,
        scheme_path="version__questionnaire__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_invitation_for_coordinator(request, pk: int) -> Invitation:
    return get_scheme_object_for_user(
        request,
        Invitation.objects.select_related("questionnaire__scheme", "version", "person__user"),
        pk,
        scheme_path="questionnaire__scheme_id",
        roles=[Role.COORDINATOR],
    )


# --- The builder ------------------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def questionnaire_list(request):
    scheme = request.membership.scheme
    return render(
        request,
        f"{TEMPLATES}/list.html",
        {"questionnaires": services.questionnaires_for_scheme(scheme)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def questionnaire_new(request):
    scheme = get_scheme_for_coordinator(request)
    form = QuestionnaireForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire = services.questionnaire_create(
                scheme=scheme, by=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Created. Add its questions, then publish it.")
            return redirect("evaluation:questionnaire", pk=questionnaire.pk)
    return render(request, f"{TEMPLATES}/new.html", {"form": form})


@require_GET
@role_required(Role.COORDINATOR)
def questionnaire_detail(request, pk):
    questionnaire = get_questionnaire_for_coordinator(request, pk)
    versions = list(questionnaire.versions.order_by("-number").prefetch_related("questions"))
    draft = next((v for v in versions if v.is_draft), None)
    published = next((v for v in versions if not v.is_draft), None)
    return render(
        request,
        f"{TEMPLATES}/detail.html",
        {
            "questionnaire": questionnaire,
            "draft": draft,
            "published": published,
            "versions": versions,
            "schedule_form": ScheduleForm(initial={"occasions": questionnaire.send_occasions}),
        },
    )


@require_POST
@role_required(Role.COORDINATOR)
def questionnaire_draft(request, pk):
    questionnaire = get_questionnaire_for_coordinator(request, pk)
    draft = services.draft_start(questionnaire=questionnaire, by=request.user)
    messages.success(
        request,
        f"Version {draft.number} is a draft: change it here. People keep getting the published "
        "version until you publish this one.",
    )
    return redirect("evaluation:questionnaire", pk=questionnaire.pk)


@require_POST
@role_required(Role.COORDINATOR)
def questionnaire_publish(request, pk):
    questionnaire = get_questionnaire_for_coordinator(request, pk)
    draft = services.draft_of(questionnaire)
    if draft is None:
        messages.error(request, "There is no draft to publish.")
    else:
        try:
            services.version_publish(version=draft, by=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"Version {draft.number} published: it is what people are asked from now."
            )
    return redirect("evaluation:questionnaire", pk=questionnaire.pk)


@require_POST
@role_required(Role.COORDINATOR)
def questionnaire_schedule(request, pk):
    questionnaire = get_questionnaire_for_coordinator(request, pk)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            services.schedule_set(
                questionnaire=questionnaire,
                occasions=form.cleaned_data["occasions"],
                by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Saved when it is sent.")
    else:
        messages.error(request, "Choose among start, review and end.")
    return redirect("evaluation:questionnaire", pk=questionnaire.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def question_new(request, pk):
    questionnaire = get_questionnaire_for_coordinator(request, pk)
    draft = services.draft_of(questionnaire)
    if draft is None:
        messages.error(request, "Start a new draft to change the questions.")
        return redirect("evaluation:questionnaire", pk=questionnaire.pk)
    form = QuestionEditForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_add(version=draft, by=request.user, **form.service_arguments())
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Question added.")
            return redirect("evaluation:questionnaire", pk=questionnaire.pk)
    return render(
        request,
        f"{TEMPLATES}/question_form.html",
        {"form": form, "questionnaire": questionnaire, "question": None},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def question_edit(request, pk):
    question = get_question_for_coordinator(request, pk)
    questionnaire = question.version.questionnaire
    if not question.version.is_draft:
        messages.error(request, "Published questions do not change: start a new draft first.")
        return redirect("evaluation:questionnaire", pk=questionnaire.pk)
    form = QuestionEditForm(request.POST or None, question=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_update(question=question, by=request.user, **form.service_arguments())
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Question saved.")
            return redirect("evaluation:questionnaire", pk=questionnaire.pk)
    return render(
        request,
        f"{TEMPLATES}/question_form.html",
        {"form": form, "questionnaire": questionnaire, "question": question},
    )


@require_POST
@role_required(Role.COORDINATOR)
def question_delete(request, pk):
    question = get_question_for_coordinator(request, pk)
    questionnaire_pk = question.version.questionnaire_id
    try:
        services.question_delete(question=question, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Question removed from the draft.")
    return redirect("evaluation:questionnaire", pk=questionnaire_pk)


# --- Filled in with a coordinator -------------------------------------------------------------


@require_POST
@role_required(Role.COORDINATOR)
def person_start(request, pk):
    member = get_member_for_coordinator(request, pk)
    questionnaires = Questionnaire.objects.filter(scheme_id=member.scheme_id)
    form = StartWithPersonForm(request.POST, questionnaires=questionnaires)
    if not form.is_valid():
        messages.error(request, "Choose a questionnaire and when it is being asked.")
        return redirect("person", pk=member.pk)
    try:
        invitation = services.start_with_coordinator(
            person=member,
            questionnaire=form.cleaned_data["questionnaire"],
            occasion=form.cleaned_data["occasion"],
            by=request.user,
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("person", pk=member.pk)
    return redirect("evaluation:fill", pk=invitation.pk)


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def invitation_fill(request, pk):
    """All the questions on one page, filled in on the coordinator's screen with the person."""
    invitation = get_invitation_for_coordinator(request, pk)
    if invitation.completed_at:
        messages.info(request, "These answers have already been sent.")
        return redirect("person", pk=invitation.person_id)
    questions = services.questions_of(invitation)
    form = AnswersForm(
        request.POST or None, questions=questions, saved=services.answers_of(invitation)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.answers_save(invitation=invitation, answers=form.answers(), by=request.user)
            if request.POST.get("action") == "send":
                services.response_complete(invitation=invitation, by=request.user)
                messages.success(request, "Answers sent, recorded as filled in with you.")
            else:
                messages.success(request, "Saved. You can finish it later from the person page.")
        except services.LinkUnusable:
            # Sent a moment ago (a double click, or the person on their phone): recorded once.
            messages.info(request, "These answers have already been sent.")
            return redirect("person", pk=invitation.person_id)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect("person", pk=invitation.person_id)
    return render(
        request,
        f"{TEMPLATES}/fill.html",
        {"invitation": invitation, "form": form, "person": invitation.person},
    )


@require_POST
@role_required(Role.COORDINATOR)
def invitation_resend(request, pk):
    invitation = get_invitation_for_coordinator(request, pk)
    try:
        services.invitation_resend(invitation=invitation, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Sent again with a new link; the old link no longer works.")
    return redirect("person", pk=invitation.person_id)


# --- Outcomes ---------------------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def outcomes_page(request):
    scheme = request.membership.scheme
    start, end = PeriodForm.default_period(timezone.localdate(timezone=scheme.zone))
    form = PeriodForm(request.GET if "start" in request.GET else None)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end})
    summary = outcomes.wellbeing_summary(scheme, start, end)
    return render(request, f"{TEMPLATES}/outcomes.html", {"form": form, "summary": summary})


# --- Answered by link, on a phone -------------------------------------------------------------


def _unusable(request, problem: services.LinkUnusable):
    return render(
        request,
        f"{TEMPLATES}/link_problem.html",
        {"reason": problem.reason},
        status=400 if problem.reason == "tampered" else 410,
    )


def _step(raw, total: int) -> int | None:
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        return None
    return min(max(int(text), 1), total + 1)


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token):
    """One question a screen; the last screen sends. Every Next, Back and "Finish later" saves
    what is on the screen, so closing the phone loses at most one answer."""
    try:
        invitation = services.invitation_for_token(token)
    except services.LinkUnusable as problem:
        return _unusable(request, problem)
    questions = services.questions_of(invitation)
    saved = services.answers_of(invitation)
    total = len(questions)
    step = _step(request.POST.get("step") or request.GET.get("step"), total)
    if step is None:
        # Where they left off: the first question not yet answered.
        step = next((n for n, q in enumerate(questions, 1) if q.pk not in saved), total + 1)
    here = f"{reverse('evaluation:answer', args=[token])}?step="
    error = ""
    if step <= total:
        question = questions[step - 1]
        form = AnswersForm(request.POST or None, questions=[question], saved=saved)
        if request.method == "POST" and form.is_valid():
            action = request.POST.get("action", "next")
            try:
                services.answers_save(invitation=invitation, answers=form.answers())
            except services.LinkUnusable as problem:
                return _unusable(request, problem)
            except DomainError as problem:
                form.add_error(None, str(problem))
            else:
                if action == "later":
                    return redirect("evaluation:answer_saved")
                return redirect(here + str(step - 1 if action == "back" and step > 1 else step + 1))
        return render(
            request,
            f"{TEMPLATES}/answer.html",
            {
                "invitation": invitation,
                "scheme": invitation.questionnaire.scheme,
                "form": form,
                "field": form[f"q{question.pk}"],
                "question": question,
                "step": step,
                "total": total,
                "percent": int(100 * (step - 1) / total) if total else 100,
            },
        )
    # The last screen: what is missing, and Send.
    if request.method == "POST":
        if request.POST.get("action") == "back":
            return redirect(here + str(total))
        try:
            services.response_complete(invitation=invitation)
        except services.LinkUnusable as problem:
            return _unusable(request, problem)
        except DomainError as problem:
            error = str(problem)
        else:
            return redirect("evaluation:answer_thanks")
    missing = [
        (number, question)
        for number, question in enumerate(questions, 1)
        if question.required and question.pk not in saved
    ]
    return render(
        request,
        f"{TEMPLATES}/answer_send.html",
        {
            "invitation": invitation,
            "scheme": invitation.questionnaire.scheme,
            "missing": missing,
            "answered": len(saved),
            "total": total,
            "step": total + 1,
            "error": error,
            "here": here,
        },
    )


@require_GET
def answer_saved(request):
    return render(request, f"{TEMPLATES}/answer_saved.html")


@require_GET
def answer_thanks(request):
    return render(request, f"{TEMPLATES}/answer_thanks.html")
