"""The coordinator's settings pages for the core: the hub, the scheme's details and office hours,
training modules and eligibility questions. The admin stays for power users; these pages are
the everyday way to set a scheme up, and every change goes through a service with an audit row.

Each form posts to its own page; a form that does not pass comes back with its errors and what
was typed.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .access import (
    get_eligibility_question_for_user,
    get_scheme_for_coordinator,
    get_training_module_for_user,
    role_required,
)
from .errors import DomainError
from .forms import EligibilityQuestionForm, OfficeHoursForm, SchemeDetailsForm, TrainingModuleForm
from .models import Role


def saved(form, service, data=None, **kwargs):
    """Call `service` with the form's data (or `data`) and `kwargs`; returns what it saved, or
    None when a rule it enforces said no, which then shows as the form's error."""
    try:
        return service(**kwargs, **(form.cleaned_data if data is None else data))
    except DomainError as error:
        form.add_error(None, str(error))
    except ValidationError as error:
        # The model's own rules, checked again in the service's transaction.
        form.add_error(None, error)
    return None


@require_GET
@role_required(Role.COORDINATOR)
def settings_home(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request,
        "buddyscheme/settings/home.html",
        {"scheme": scheme, "sections": selectors.settings_sections_for(scheme)},
    )


def _scheme_form_page(request, form_class, template: str, done: str):
    """A settings page that edits the scheme itself (its details, its office hours)."""
    scheme = get_scheme_for_coordinator(request)
    form = form_class(request.POST or None, instance=scheme)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, services.scheme_update, scheme=scheme, by=request.user)
    ):
        messages.success(request, done)
        return redirect("settings_home")
    return render(request, template, {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_scheme(request):
    return _scheme_form_page(
        request,
        SchemeDetailsForm,
        "buddyscheme/settings/scheme.html",
        "The scheme's details are saved.",
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_office_hours(request):
    return _scheme_form_page(
        request, OfficeHoursForm, "buddyscheme/settings/office_hours.html", "Office hours saved."
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_training(request):
    scheme = get_scheme_for_coordinator(request)
    form = TrainingModuleForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        module = saved(form, services.training_module_create, scheme=scheme, by=request.user)
        if module:
            messages.success(request, f"“{module.name}” added.")
            _warn_if_it_blocks_buddies(request, module)
            return redirect("settings_training")
    return render(
        request,
        "buddyscheme/settings/training.html",
        {"form": form, "modules": selectors.training_modules_for(scheme)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_training_edit(request, pk):
    module = get_training_module_for_user(request, pk)
    name = module.name  # as saved: the form changes the instance as it checks what was typed
    form = TrainingModuleForm(request.POST or None, instance=module, scheme=module.scheme)
    if request.method == "POST" and form.is_valid():
        changed = saved(form, services.training_module_update, module=module, by=request.user)
        if changed:
            messages.success(request, "Module saved.")
            _warn_if_it_blocks_buddies(request, changed)
            return redirect("settings_training")
    return render(
        request,
        "buddyscheme/settings/training_edit.html",
        {"form": form, "module": module, "name": name},
    )


def _warn_if_it_blocks_buddies(request, module) -> None:
    """A required module counts at once: buddies who have not done it stop being cleared."""
    missing = selectors.approved_buddies_missing(module) if module.mandatory else 0
    if missing:
        messages.warning(
            request,
            f"{missing} approved {'buddy has' if missing == 1 else 'buddies have'} not "
            f"completed “{module.name}”: until it is recorded for them, they cannot be matched "
            "or booked into a meeting.",
        )


@require_POST
@role_required(Role.COORDINATOR)
def settings_training_delete(request, pk):
    module = get_training_module_for_user(request, pk)
    try:
        services.training_module_delete(module=module, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("settings_training_edit", pk=module.pk)
    messages.success(request, "Module deleted.")
    return redirect("settings_training")


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_eligibility(request):
    scheme = get_scheme_for_coordinator(request)
    form = EligibilityQuestionForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, services.eligibility_question_create, scheme=scheme, by=request.user)
    ):
        messages.success(request, "Question added.")
        return redirect("settings_eligibility")
    return render(
        request,
        "buddyscheme/settings/eligibility.html",
        {"form": form, "questions": selectors.eligibility_questions(scheme)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_eligibility_edit(request, pk):
    question = get_eligibility_question_for_user(request, pk)
    form = EligibilityQuestionForm(request.POST or None, instance=question)
    if (
        request.method == "POST"
        and form.is_valid()
        and saved(form, services.eligibility_question_update, question=question, by=request.user)
    ):
        messages.success(request, "Question saved.")
        return redirect("settings_eligibility")
    return render(
        request,
        "buddyscheme/settings/eligibility_edit.html",
        {"form": form, "question": question},
    )


@require_POST
@role_required(Role.COORDINATOR)
def settings_eligibility_delete(request, pk):
    question = get_eligibility_question_for_user(request, pk)
    services.eligibility_question_delete(question=question, by=request.user)
    messages.success(request, "Question deleted. People already enrolled keep their answers.")
    return redirect("settings_eligibility")
