"""Referral pages: the scheme's public referral form (no login), and the coordinator's list and
assessment page. Thin: each view authorises, calls one service, and redirects or shows the page
again with the form as typed."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import referrals
from .access import get_referral_for_coordinator, role_required
from .errors import DomainError
from .models import EligibilityQuestion, Role, Scheme
from .public_forms import allow_public_post
from .referral_forms import (
    SELF,
    WHO_CHOICES,
    AssessmentForm,
    PublicReferralForm,
    ReferralDeclineForm,
    ReferralEnrolForm,
    WhoForm,
)
from .selectors import names_of

TOO_MANY = (
    "We have had several referrals from here in a short time, so this one was not sent. "
    "Please try again later, or phone us."
)

# --- The public form --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def public_referral(request, slug):
    scheme = get_object_or_404(Scheme, slug=slug)
    source = request.POST if request.method == "POST" else request.GET
    who = source.get("who", "")
    if who not in dict(WHO_CHOICES):
        # The first step: one question on its own (a GET form, so it works without JavaScript).
        who_form = WhoForm(request.GET if "who" in request.GET else None)
        if who_form.is_bound:
            who_form.is_valid()
        return render(
            request, "buddyscheme/referrals/public_who.html", {"scheme": scheme, "form": who_form}
        )
    needs = referrals.referral_needs_menu(scheme)
    if request.method == "GET":
        form = PublicReferralForm(who=who, needs=needs)
        return _public_form_page(request, scheme, form)
    form = PublicReferralForm(request.POST, who=who, needs=needs)
    if form.is_spam:
        # Told nothing: a bot learns no more from the page than a person would.
        return redirect("public_referral_thanks", slug=scheme.slug)
    if form.is_valid():
        if not allow_public_post(request, "public_referral", key=form.rate_key or "none"):
            form.add_error(None, TOO_MANY)
            return _public_form_page(request, scheme, form, status=429)
        try:
            referrals.referral_receive(scheme=scheme, details=form.details())
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect("public_referral_thanks", slug=scheme.slug)
    return _public_form_page(request, scheme, form)


def _public_form_page(request, scheme, form, status=200):
    return render(
        request,
        "buddyscheme/referrals/public_form.html",
        {"scheme": scheme, "form": form, "who": form.who, "is_self": form.who == SELF},
        status=status,
    )


@require_GET
def public_referral_thanks(request, slug):
    scheme = get_object_or_404(Scheme, slug=slug)
    return render(request, "buddyscheme/referrals/public_thanks.html", {"scheme": scheme})


# --- The coordinator's side -------------------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def referral_list(request):
    scheme = request.membership.scheme
    listed = referrals.referrals_for_scheme(scheme)
    groups = [
        ("New", listed["new"], "No new referrals.", True),
        ("Being assessed", listed["assessing"], "None being assessed.", True),
        ("Enrolled recently", listed["enrolled"], "None yet.", False),
        ("Declined recently", listed["declined"], "None.", False),
    ]
    return render(
        request,
        "buddyscheme/referrals/list.html",
        {
            "scheme": scheme,
            "groups": groups,
            "public_url": request.build_absolute_uri(
                reverse("public_referral", args=[scheme.slug])
            ),
        },
    )


def _questions(referral):
    return list(EligibilityQuestion.objects.filter(scheme=referral.scheme_id))


def _needs(referral) -> list[str]:
    menu = referrals.referral_needs_menu(referral.scheme)
    return menu + [name for name in referral.needs if name not in menu]


def _names(referral) -> list[str]:
    return names_of([referral.membership]) + referral.person_name.split()


def _referral_page(request, referral, status=200, **bound_forms):
    questions = _questions(referral)
    return render(
        request,
        "buddyscheme/referrals/detail.html",
        {
            "referral": referral,
            "earlier": referrals.earlier_referrals(referral),
            "questions": questions,
            "answers": {
                question: referral.eligibility_answers.get(str(question.pk))
                for question in questions
            },
            "assessment_form": bound_forms.get("assessment_form")
            or AssessmentForm.for_referral(
                referral, questions=questions, needs=_needs(referral), names=_names(referral)
            ),
            "enrol_form": bound_forms.get("enrol_form") or ReferralEnrolForm(),
            "decline_form": bound_forms.get("decline_form")
            or ReferralDeclineForm(names=_names(referral)),
        },
        status=status,
    )


def _decided_meanwhile(request, referral, error) -> bool:
    """A second press, or a colleague deciding first: the page has no form to show it on."""
    referral.refresh_from_db(fields=["status"])
    if referral.is_open:
        return False
    messages.error(request, str(error))
    return True


@require_GET
@role_required(Role.COORDINATOR)
def referral_detail(request, pk):
    return _referral_page(request, get_referral_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def referral_assess(request, pk):
    referral = get_referral_for_coordinator(request, pk)
    form = AssessmentForm(
        request.POST,
        questions=_questions(referral),
        needs=_needs(referral),
        names=_names(referral),
    )
    if form.is_valid():
        try:
            referrals.referral_assess(
                referral=referral,
                by=request.user,
                answers=form.answers(),
                needs=form.cleaned_data["needs"],
                risks=form.cleaned_data["risks"],
            )
        except DomainError as error:
            if _decided_meanwhile(request, referral, error):
                return redirect("referral", pk=referral.pk)
            form.add_error(None, str(error))
        else:
            messages.success(request, "Assessment saved.")
            return redirect("referral", pk=referral.pk)
    return _referral_page(request, referral, assessment_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def referral_enrol(request, pk):
    referral = get_referral_for_coordinator(request, pk)
    form = ReferralEnrolForm(request.POST)
    if form.is_valid():
        try:
            referrals.referral_enrol(
                referral=referral,
                by=request.user,
                consent_to_hold_data=form.cleaned_data["consent_to_hold_data"],
                consent_given_how=form.cleaned_data["consent_given_how"],
                buddies_needed=form.cleaned_data["buddies_needed"],
            )
        except DomainError as error:
            if _decided_meanwhile(request, referral, error):
                return redirect("referral", pk=referral.pk)
            form.add_error(None, str(error))
        else:
            messages.success(request, "Enrolled: they are on the waiting list for a buddy.")
            return redirect("referral", pk=referral.pk)
    return _referral_page(request, referral, enrol_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def referral_decline(request, pk):
    referral = get_referral_for_coordinator(request, pk)
    form = ReferralDeclineForm(request.POST, names=_names(referral))
    if form.is_valid():
        try:
            referrals.referral_decline(
                referral=referral,
                by=request.user,
                reason=form.cleaned_data["reason"],
                signposting=form.cleaned_data["signposting"],
            )
        except DomainError as error:
            if _decided_meanwhile(request, referral, error):
                return redirect("referral", pk=referral.pk)
            form.add_error(None, str(error))
        else:
            messages.success(request, "Referral closed.")
            return redirect("referral", pk=referral.pk)
    return _referral_page(request, referral, decline_form=form)
