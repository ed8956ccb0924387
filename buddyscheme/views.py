import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services, vetting
from .access import (
    get_invitation_for_user,
    get_member_for_coordinator,
    get_own_membership,
    role_required,
)
from .consent import has_consent, sensitive_notes_visible
from .errors import DomainError
from .forms import (
    AcceptInvitationForm,
    DBSCheckForm,
    EnrolmentForm,
    InvitationForm,
    ProfileForm,
    StageMoveForm,
    SupportPersonForm,
    TrainingCompletionForm,
)
from .middleware import SESSION_MEMBERSHIP_KEY
from .models import BuddyStage, ConsentKind, EligibilityQuestion, Profile, Role

logger = logging.getLogger(__name__)

HOME_FOR_ROLE = {
    Role.COORDINATOR: "coordinator_dashboard",
    Role.BUDDY: "meetings:today",
    Role.PARTICIPANT: "participant_home",
}


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return render(request, "buddyscheme/welcome.html")
    if request.membership is None:
        return render(request, "buddyscheme/no_scheme.html")
    return redirect(HOME_FOR_ROLE[request.membership.role])


@require_http_methods(["GET", "POST"])
@login_required
def switch_membership(request):
    if request.method == "POST":
        try:
            pk = int(request.POST.get("membership", ""))
        except ValueError:
            pk = 0
        membership = get_own_membership(request, pk)
        request.session[SESSION_MEMBERSHIP_KEY] = membership.pk
        messages.success(
            request,
            f"You are now working as {membership.get_role_display().lower()} in {membership.scheme}.",
        )
        return redirect(HOME_FOR_ROLE[membership.role])
    return render(request, "buddyscheme/switch.html")


@require_GET
@role_required(Role.COORDINATOR)
def coordinator_dashboard(request):
    scheme = request.membership.scheme
    return render(
        request,
        "buddyscheme/coordinator_dashboard.html",
        {
            "scheme": scheme,
            "counts": selectors.scheme_counts(scheme),
            "lapses": vetting.vetting_lapses(scheme),
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def people(request):
    scheme = request.membership.scheme
    role = request.GET.get("role")
    if role not in Role.values:
        role = None
    return render(
        request,
        "buddyscheme/people.html",
        {
            "members": selectors.members_for_scheme(scheme, role),
            "role": role,
            "roles": Role.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def invitation_list(request):
    scheme = request.membership.scheme
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(scheme=scheme, invited_by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Invitation sent. The link works once and expires in "
                f"{settings.INVITATION_VALID_DAYS} days.",
            )
            return redirect("invitation_list")
    return render(
        request,
        "buddyscheme/invitations.html",
        {"form": form, "invitations": selectors.invitations_for_scheme(scheme)[:100]},
    )


@require_POST
@role_required(Role.COORDINATOR)
def invitation_revoke(request, pk):
    invitation = get_invitation_for_user(request, pk)
    try:
        services.invitation_revoke(invitation=invitation)
        messages.success(request, "Invitation withdrawn: the link no longer works.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("invitation_list")


INVITATION_PROBLEMS = {
    "unknown": "This link is not valid. Check you copied the whole link from the email.",
    "used": "This link has already been used. If that was you, log in with your email and password.",
    "revoked": "This invitation was withdrawn. Please ask your coordinator for a new one.",
    "expired": "This link has expired. Please ask your coordinator to send a new invitation.",
}


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_check(token)
    except services.InvitationUnusable as problem:
        return render(
            request,
            "buddyscheme/invitation_problem.html",
            {"problem": INVITATION_PROBLEMS[problem.reason]},
            status=410 if problem.reason != "unknown" else 404,
        )
    logged_in = request.user.is_authenticated
    form = None if logged_in else AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and (logged_in or form.is_valid()):
        try:
            user, membership = services.invitation_accept(
                token=token,
                password=None if logged_in else form.cleaned_data["password1"],
                preferred_name="" if logged_in else form.cleaned_data["preferred_name"],
                user=request.user if logged_in else None,
            )
        except services.InvitationUnusable as problem:
            return render(
                request,
                "buddyscheme/invitation_problem.html",
                {"problem": INVITATION_PROBLEMS[problem.reason]},
                status=410,
            )
        except DomainError as error:
            if form is None:
                messages.error(request, str(error))
                return redirect("home")
            form.add_error(None, str(error))
        else:
            if not logged_in:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_MEMBERSHIP_KEY] = membership.pk
            messages.success(request, f"Welcome to {membership.scheme}.")
            return redirect("home")
    return render(
        request, "buddyscheme/invitation_accept.html", {"invitation": invitation, "form": form}
    )


@require_http_methods(["GET", "POST"])
@login_required
def profile_edit(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    is_buddy = any(m.role == Role.BUDDY for m in request.all_memberships)
    form = ProfileForm(request.POST or None, instance=profile, show_emergency_contact=is_buddy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your details are saved.")
        return redirect("profile")
    return render(request, "buddyscheme/profile.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def person_detail(request, pk):
    """One person: vetting for a buddy (pipeline, DBS, training), enrolment for a participant."""
    member = get_member_for_coordinator(request, pk)
    context = {"member": member}
    if member.role == Role.BUDDY:
        record = vetting.vetting_for(member)
        stage_form = StageMoveForm(current_stage=record.stage)
        dbs_form = DBSCheckForm()
        training_form = TrainingCompletionForm(scheme=member.scheme)
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                if action == "stage":
                    stage_form = StageMoveForm(request.POST, current_stage=record.stage)
                    if stage_form.is_valid():
                        vetting.buddy_stage_move(
                            membership=member, by=request.user, **stage_form.cleaned_data
                        )
                        messages.success(request, "Step recorded.")
                        return redirect("person", pk=member.pk)
                elif action == "dbs":
                    dbs_form = DBSCheckForm(request.POST)
                    if dbs_form.is_valid():
                        vetting.dbs_check_record(
                            membership=member, by=request.user, **dbs_form.cleaned_data
                        )
                        messages.success(request, "DBS check recorded.")
                        return redirect("person", pk=member.pk)
                elif action == "training":
                    training_form = TrainingCompletionForm(request.POST, scheme=member.scheme)
                    if training_form.is_valid():
                        vetting.training_complete(
                            membership=member, by=request.user, **training_form.cleaned_data
                        )
                        messages.success(request, "Training recorded.")
                        return redirect("person", pk=member.pk)
            except DomainError as error:
                messages.error(request, str(error))
            except ValidationError as error:
                dbs_form.add_error(None, error)
        context.update(
            record=record,
            steps=record.steps.select_related("recorded_by"),
            blockers=vetting.vetting_blockers(member),
            dbs_checks=member.dbs_checks.all(),
            completions=member.training_completions.select_related("module"),
            stage_form=stage_form,
            dbs_form=dbs_form,
            training_form=training_form,
            approved=record.stage == BuddyStage.APPROVED,
            support_form=_support_person_form(member, initial=record.support_person),
        )
    elif member.role == Role.PARTICIPANT:
        questions = EligibilityQuestion.objects.filter(scheme=member.scheme)
        enrolment = getattr(member, "enrolment", None)
        sensitive_allowed = has_consent(member, ConsentKind.SPECIAL_CATEGORY)
        if request.method == "POST" and request.POST.get("action") == "sensitive":
            # Special-category data is recorded only with its own consent.
            if enrolment is None or not sensitive_allowed:
                messages.error(request, "Record their consent to hold sensitive information first.")
            else:
                enrolment.sensitive_notes = request.POST.get("sensitive_notes", "")[:2000]
                enrolment.save(update_fields=["sensitive_notes"])
                messages.success(request, "Saved. Only coordinators can see this.")
            return redirect("person", pk=member.pk)
        form = EnrolmentForm(request.POST or None, questions=questions)
        if request.method == "POST" and form.is_valid():
            try:
                vetting.participant_enrol(
                    membership=member,
                    by=request.user,
                    referral_source=form.cleaned_data["referral_source"],
                    referral_detail=form.cleaned_data["referral_detail"],
                    answers=form.answers(),
                    consent_to_hold_data=form.cleaned_data["consent_to_hold_data"],
                    buddies_needed=form.cleaned_data["buddies_needed"],
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Enrolment saved.")
                return redirect("person", pk=member.pk)
        context.update(
            enrolment=enrolment,
            enrolment_form=form,
            sensitive_allowed=sensitive_allowed,
            sensitive_visible=enrolment is not None and sensitive_notes_visible(enrolment),
        )
    return render(request, "buddyscheme/person.html", context)


def _support_person_form(buddy, data=None, initial=None):
    return SupportPersonForm(
        data,
        initial={"support_person": initial},
        scheme=buddy.scheme,
        empty_label="Nobody named: every coordinator is alerted",
    )


@require_POST
@role_required(Role.COORDINATOR)
def person_support_person(request, pk):
    """Name the coordinator a buddy checks in with: alerted first when a meeting runs over."""
    buddy = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = _support_person_form(buddy, data=request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["support_person"][0])
        return redirect("person", pk=buddy.pk)
    chosen = form.cleaned_data["support_person"]
    try:
        vetting.buddy_support_person_set(buddy=buddy, support_person=chosen, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{chosen.user.display_name} is now {buddy.user.display_name}'s support person."
            if chosen
            else "No support person named: every coordinator is alerted.",
        )
    return redirect("person", pk=buddy.pk)


@require_GET
@role_required(Role.PARTICIPANT)
def participant_home(request):
    return render(request, "buddyscheme/participant_home.html")


@never_cache
@require_GET
def healthz(request):
    """Database, broker and the age of the last heartbeat. 503 when any is unhealthy."""
    from .celery import app as celery_app

    report = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception:  # the point is to report any failure, not to crash
        logger.exception("healthz: database check failed")
        report["database"] = "error"
        healthy = False
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        report["broker"] = "ok"
    except Exception:
        logger.exception("healthz: broker check failed")
        report["broker"] = "error"
        healthy = False
    # The Celery heartbeat proves worker and beat run; the sweep's proves the safety net does.
    for name, key in (("celery", "heartbeat"), ("sweep", "sweep")):
        age = selectors.heartbeat_age(name) if report["database"] == "ok" else None
        report[f"{key}_age_seconds"] = None if age is None else round(age.total_seconds())
        if age is None or age.total_seconds() > settings.HEARTBEAT_MAX_AGE_SECONDS:
            report[key] = "stale" if age is not None else "missing"
            healthy = False
        else:
            report[key] = "ok"
    report["status"] = "ok" if healthy else "unhealthy"
    return JsonResponse(report, status=200 if healthy else 503)
