"""Recruitment's pages. Public ones (no login): the scheme's front door, the buddy application
form, and a referee's reference form. The coordinator's: the public page's settings, and the
actions on an applicant's references (shown on the person page)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST

from buddyscheme.access import get_member_for_coordinator, get_scheme_for_coordinator, role_required
from buddyscheme.errors import DomainError
from buddyscheme.models import Role
from buddyscheme.public_forms import allow_public_post

from . import selectors, services
from .access import get_reference_for_coordinator
from .forms import ApplicationForm, FrontDoorForm, ReferenceDecisionForm, ReferenceForm
from .models import FrontDoor

# A published page changes rarely: browsers and proxies may keep it for five minutes.
FRONT_DOOR_MAX_AGE = 300
SECTION_ANCHOR = "person-application-and-references"


def _front_door_changed(request, slug):
    return (
        FrontDoor.objects.filter(scheme__slug=slug, is_published=True)
        .values_list("updated_at", flat=True)
        .first()
    )


# --- Public pages ---------------------------------------------------------------------------


@require_GET
@condition(last_modified_func=_front_door_changed)
def front_door(request, slug):
    page = selectors.front_door_published(slug)
    response = render(
        request,
        "recruitment/front_door.html",
        {
            "page": page,
            "scheme": page.scheme,
            "words": selectors.public_page_words(page),
            "referral_url": selectors.referral_url(page.scheme),
        },
    )
    if request.user.is_authenticated:
        # The page's header then carries the person's own menu: not for a shared cache.
        patch_cache_control(response, private=True, max_age=0)
    else:
        patch_cache_control(response, public=True, max_age=FRONT_DOOR_MAX_AGE)
    return response


def _too_many(request, page):
    return render(
        request,
        "recruitment/too_many.html",
        {"page": page, "words": selectors.public_page_words(page)},
        status=429,
    )


@require_http_methods(["GET", "POST"])
def apply(request, slug):
    page = selectors.front_door_published(slug)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST":
        if form.is_spam:
            # A bot filled the hidden field: it is told all went well, and nothing is kept.
            return redirect("recruitment:applied", slug=slug)
        if form.is_valid():
            # Counted only when it would be kept: someone correcting a typo three times is
            # not refused for the day (an invalid post writes and sends nothing).
            if not allow_public_post(request, "public_application", key=form.cleaned_data["email"]):
                return _too_many(request, page)
            try:
                services.application_submit(scheme=page.scheme, **form.service_arguments())
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                return redirect("recruitment:applied", slug=slug)
    return render(
        request,
        "recruitment/apply.html",
        {"page": page, "form": form, "words": selectors.public_page_words(page)},
    )


@require_GET
def applied(request, slug):
    page = selectors.front_door_published(slug)
    return render(
        request,
        "recruitment/applied.html",
        {"page": page, "words": selectors.public_page_words(page)},
    )


@require_http_methods(["GET", "POST"])
def reference_form(request, token):
    try:
        reference = services.reference_for_token(token)
    except services.ReferenceLinkUnusable as problem:
        return render(
            request, "recruitment/reference_problem.html", {"reason": problem.reason}, status=410
        )
    form = ReferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reference_submit(token=token, answers=form.cleaned_data)
        except services.ReferenceLinkUnusable as problem:
            return render(
                request,
                "recruitment/reference_problem.html",
                {"reason": problem.reason},
                status=410,
            )
        return redirect("recruitment:reference_thanks")
    return render(
        request,
        "recruitment/reference_form.html",
        {"form": form, "reference": reference, "scheme": reference.application.scheme},
    )


@require_GET
def reference_thanks(request):
    return render(request, "recruitment/reference_thanks.html")


# --- The coordinator's ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def settings_front_door(request):
    scheme = get_scheme_for_coordinator(request)
    instance = FrontDoor.objects.filter(scheme=scheme).first()
    form = FrontDoorForm(request.POST or None, instance=instance, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        problems = (
            services.front_door_sensitive_problems(
                scheme=scheme, slug=data["slug"], public_title=data["public_title"]
            )
            if data.get("is_discreet")
            else {}
        )
        for field, problem in problems.items():
            form.add_error(field, problem)
        if not problems:
            try:
                services.front_door_save(scheme=scheme, by=request.user, **data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "The public page is saved.")
                return redirect("settings_home")
    return render(
        request,
        "recruitment/settings_front_door.html",
        {"form": form, "scheme": scheme, "front_door": instance},
    )


@require_POST
@role_required(Role.COORDINATOR)
def references_request(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    try:
        asked = services.references_request(membership=member, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        if asked:
            messages.success(
                request,
                f"{len(asked)} referee{'' if len(asked) == 1 else 's'} emailed a link to the "
                "reference form.",
            )
        else:
            messages.info(request, "Every referee already has a link that still works.")
    return redirect(reverse("person", args=[member.pk]) + f"#{SECTION_ANCHOR}")


@require_POST
@role_required(Role.COORDINATOR)
def reference_remind(request, pk):
    reference = get_reference_for_coordinator(request, pk)
    try:
        services.reference_remind(reference=reference, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Reminder sent.")
    return redirect(reverse("person", args=[reference.membership_id]) + f"#{SECTION_ANCHOR}")


@require_POST
@role_required(Role.COORDINATOR)
def reference_decide(request, pk):
    reference = get_reference_for_coordinator(request, pk)
    form = ReferenceDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose satisfactory or not satisfactory.")
    else:
        try:
            services.reference_decide(
                reference=reference,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Decision recorded.")
    return redirect(reverse("person", args=[reference.membership_id]) + f"#{SECTION_ANCHOR}")
