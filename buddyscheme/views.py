import logging
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.defaults import server_error as django_server_error

from . import concerns, dashboard, erasure, retention, selectors, services, support, vetting
from .access import (
    get_invitation_for_user,
    get_member_for_coordinator,
    get_own_membership,
    login_required,
    reauthenticated_to_save,
    role_required,
)
from .audit import audit_record
from .celery import app as celery_app
from .consent import has_consent
from .errors import DomainError
from .forms import (
    AcceptInvitationForm,
    CaseNoteForm,
    DBSCheckForm,
    EnrolmentForm,
    InvitationForm,
    PeopleFilterForm,
    ProfileForm,
    StageMoveForm,
    SupportPersonForm,
    TrainingCompletionForm,
)
from .identifiers import person_names
from .middleware import SESSION_MEMBERSHIP_KEY
from .models import BuddyStage, ConsentKind, ConsentMethod, ParticipantEnrolment, Profile, Role
from .watchdog import safety_net_down_notify, sms_failing, sms_failing_notify

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
    if "refresh" in request.GET:
        dashboard.dashboard_forget(scheme.pk)
        return redirect("coordinator_dashboard")
    now = timezone.now()
    kept = dashboard.dashboard_body(scheme, now, lambda: _dashboard_body(scheme, now))
    return render(
        request,
        "buddyscheme/coordinator_dashboard.html",
        {
            "scheme": scheme,
            "body": dashboard.body_for_request(kept.value, request),
            "as_of": timezone.localtime(kept.as_of, scheme.zone),
        },
    )


def _dashboard_body(scheme, now) -> str:
    """The body every coordinator of the scheme sees, rendered without the request (nothing in
    it may be about the person looking), each form's CSRF token a placeholder."""
    support_settings = support.support_settings_to_read(scheme)
    return render_to_string(
        "buddyscheme/_dashboard_body.html",
        {
            "csrf_token": dashboard.CSRF_PLACEHOLDER,
            "scheme": scheme,
            "counts": selectors.scheme_counts(scheme),
            "figures": selectors.scheme_figures(scheme),
            "sections": selectors.scheme_sections(scheme, now),
            "lapses": vetting.vetting_lapses(scheme),
            "concerns_waiting": concerns.concerns_waiting(scheme),
            "supervision_overdue": support.supervision_overdue(scheme, config=support_settings),
            "contact_overdue": support.contact_overdue(scheme, config=support_settings),
            "erasure_requests": list(erasure.open_erasure_requests(scheme)[:20]),
            "retention_review": retention.retention_review_open(scheme),
        },
    )


PEOPLE_PER_PAGE = 100


@require_GET
@role_required(Role.COORDINATOR)
def people(request):
    form = PeopleFilterForm(request.GET)
    form.is_valid()  # an invalid filter shows its error and filters nothing
    rows = selectors.people_list(request.membership.scheme, **form.filters())
    page = Paginator(rows, PEOPLE_PER_PAGE).get_page(form.cleaned_data.get("page"))
    return render(
        request,
        "buddyscheme/people.html",
        {
            "form": form,
            "page": page,
            "filtered": any(value not in ("", None) for value in form.filters().values()),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
@reauthenticated_to_save  # an invitation grants a role: sending one asks for the password again
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
        services.invitation_revoke(invitation=invitation, by=request.user)
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


def _person_page(request, member, **bound_forms):
    """One person's record: their matches, meetings and agreements (from the apps above the
    core), consents, case notes, and vetting for a buddy or enrolment for a participant.

    `bound_forms` are the forms a failed post brought back, shown with their errors and what
    was typed; every other form shows what is stored.
    """
    consents = selectors.person_consents(member)
    live = {line.kind: line.live for line in consents}
    context = {
        "member": member,
        "sections": selectors.person_sections(member),
        "consents": consents,
        "hold_data_withdrawn": next(
            (line.withdrawn for line in consents if line.kind == ConsentKind.HOLD_DATA), None
        ),
        "notes": selectors.case_notes_for(member),
        "note_form": bound_forms.get("note_form") or CaseNoteForm(names=person_names(member)),
    }
    if member.role == Role.BUDDY:
        record = vetting.vetting_record(member)
        context.update(
            record=record,
            steps=record.steps.select_related("recorded_by") if record.pk else [],
            blockers=vetting.vetting_blockers(member),
            dbs_checks=member.dbs_checks.all(),
            completions=member.training_completions.select_related("module"),
            stage_form=bound_forms.get("stage_form") or StageMoveForm(current_stage=record.stage),
            dbs_form=bound_forms.get("dbs_form") or DBSCheckForm(),
            training_form=bound_forms.get("training_form")
            or TrainingCompletionForm(scheme=member.scheme),
            approved=record.stage == BuddyStage.APPROVED,
            support_form=_support_person_form(member, initial=record.support_person),
        )
    elif member.role == Role.PARTICIPANT:
        audit_record(
            actor=request.user, verb="participant_record_view", obj=member, scheme=member.scheme_id
        )
        enrolment = ParticipantEnrolment.objects.filter(membership=member).first()
        sensitive_allowed = live[ConsentKind.SPECIAL_CATEGORY] is not None
        context.update(
            enrolment=enrolment,
            enrolment_form=bound_forms.get("enrolment_form")
            or EnrolmentForm.for_enrolment(
                enrolment,
                questions=selectors.eligibility_questions(member.scheme),
                consent_given=live[ConsentKind.HOLD_DATA] is not None,
            ),
            sensitive_allowed=sensitive_allowed,
            sensitive_visible=enrolment is not None
            and sensitive_allowed
            and bool(enrolment.sensitive_notes),
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
@role_required(Role.COORDINATOR)
def person_detail(request, pk):
    return _person_page(request, get_member_for_coordinator(request, pk))


# Each form on the person page posts to its own URL below: the view parses, calls one
# service, and either redirects back to the page or shows the page again with the form as typed.


@require_POST
@role_required(Role.COORDINATOR)
def person_stage_move(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = StageMoveForm(request.POST, current_stage=vetting.vetting_record(member).stage)
    if form.is_valid():
        try:
            vetting.buddy_stage_move(membership=member, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Step recorded.")
            return redirect("person", pk=member.pk)
    return _person_page(request, member, stage_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def person_dbs_record(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = DBSCheckForm(request.POST)
    if form.is_valid():
        try:
            vetting.dbs_check_record(membership=member, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error))
        except ValidationError as error:
            # The model's own rules (the renewal after the issue date) belong on the form.
            form.add_error(None, error)
        else:
            messages.success(request, "DBS check recorded.")
            return redirect("person", pk=member.pk)
    return _person_page(request, member, dbs_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def person_training_record(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = TrainingCompletionForm(request.POST, scheme=member.scheme)
    if form.is_valid():
        try:
            vetting.training_complete(membership=member, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Training recorded.")
            return redirect("person", pk=member.pk)
    return _person_page(request, member, training_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def person_enrol(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.PARTICIPANT)
    form = EnrolmentForm(
        request.POST,
        questions=selectors.eligibility_questions(member.scheme),
        consent_given=has_consent(member, ConsentKind.HOLD_DATA),
    )
    if form.is_valid():
        try:
            vetting.participant_enrol(
                membership=member,
                by=request.user,
                referral_source=form.cleaned_data["referral_source"],
                referral_detail=form.cleaned_data["referral_detail"],
                answers=form.answers(),
                consent_to_hold_data=form.cleaned_data["consent_to_hold_data"],
                consent_given_how=form.cleaned_data.get("consent_given_how")
                or ConsentMethod.VERBAL,
                buddies_needed=form.cleaned_data["buddies_needed"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Enrolment saved.")
            return redirect("person", pk=member.pk)
    return _person_page(request, member, enrolment_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def person_sensitive_notes_save(request, pk):
    member = get_member_for_coordinator(request, pk, role=Role.PARTICIPANT)
    try:
        vetting.enrolment_sensitive_notes_save(
            membership=member, notes=request.POST.get("sensitive_notes", ""), by=request.user
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Saved. Only coordinators can see this.")
    return redirect("person", pk=member.pk)


@require_POST
@role_required(Role.COORDINATOR)
def person_note_add(request, pk):
    """A case note on the person's record; one naming them is kept only once confirmed."""
    member = get_member_for_coordinator(request, pk)
    form = CaseNoteForm(request.POST, names=person_names(member))
    if form.is_valid():
        try:
            services.case_note_add(
                membership=member,
                text=form.cleaned_data["text"],
                names_confirmed=form.identifying_confirmed,
                by=request.user,
            )
        except DomainError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Note saved.")
            return redirect(f"{reverse('person', args=[member.pk])}#case-notes")
    return _person_page(request, member, note_form=form)


@require_GET
@role_required(Role.PARTICIPANT)
def participant_home(request):
    """My buddy, my next meeting, what to sign, my coordinator, and a way to stop."""
    return render(
        request,
        "buddyscheme/participant_home.html",
        {
            "cards": selectors.participant_home(request.membership),
            "home_cards": selectors.member_home_cards(request.membership),
        },
    )


@never_cache
@require_GET
def healthz(request):
    """Database, broker and the age of the last heartbeat. 503 when any is unhealthy."""
    report: dict = {}
    problems = []
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception:  # the point is to report any failure, not to crash
        logger.exception("healthz: database check failed")
        report["database"] = "error"
        problems.append("The database does not answer.")
        healthy = False
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        report["broker"] = "ok"
    except Exception:
        logger.exception("healthz: broker check failed")
        report["broker"] = "error"
        problems.append(
            "The Celery broker does not answer: the sweeper still raises and sends alerts."
        )
        healthy = False
    # The Celery heartbeat proves worker and beat run; the sweep's proves the safety net does.
    for name, key in (("celery", "heartbeat"), ("sweep", "sweep")):
        age = selectors.heartbeat_age(name) if report["database"] == "ok" else None
        report[f"{key}_age_seconds"] = None if age is None else round(age.total_seconds())
        if age is None or age.total_seconds() > settings.HEARTBEAT_MAX_AGE_SECONDS:
            report[key] = "stale" if age is not None else "missing"
            problems.append(HEARTBEAT_PROBLEMS[key])
            healthy = False
        else:
            report[key] = "ok"
    if report["database"] == "ok":
        failing = sms_failing()
        report["sms"] = "failing" if failing else "ok"
        if failing:
            problems.append(
                f"Text messages are failing: {failing} waiting. Emails still go, and safety "
                "alerts are retried every minute."
            )
            healthy = False
            try:
                sms_failing_notify()
            except Exception:
                logger.exception("healthz: could not tell staff that texts are failing")
    if report.get("sweep") in ("stale", "missing"):
        try:
            # Staff hear of it from here, not through Celery or the sweeper (which may be
            # what is down); once per outage however often this is polled.
            safety_net_down_notify()
        except Exception:
            logger.exception("healthz: could not tell staff the safety net is down")
    report["problems"] = problems
    report["status"] = "ok" if healthy else "unhealthy"
    return JsonResponse(report, status=200 if healthy else 503)


HEARTBEAT_PROBLEMS = {
    "heartbeat": "The Celery worker or beat has not run for over two minutes.",
    "sweep": "The safety net's sweep has not run for over two minutes: no alerts are raised.",
}


# A press on a safety button that met a database blip is offered again with the same
# idempotency key (so it counts once); secrets such as a PIN are never written back.
# The safety token goes back too: a buddy whose session ran out presses again by it.
REPOST_FIELDS = ("key", "minutes", "safety_token")
# The page presses again by itself this many times (5 s apart), then leaves it to the buddy.
AUTO_RETRIES = 6


def _retries(raw: str) -> int:
    return min(int(raw), AUTO_RETRIES) if raw.isdigit() and len(raw) < 4 else 0


def server_error(request):
    """Our 500 page, except when the database could not be reached: then a 503 that says
    the press did not count and can simply be repeated. Renders without the database."""
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return django_server_error(request)
    repost = None
    if request.method == "POST" and request.path.startswith("/meetings/"):
        repost = {
            "path": request.path,
            "csrf_token": get_token(request),
            "fields": [
                (name, request.POST[name]) for name in REPOST_FIELDS if name in request.POST
            ],
            "retry": _retries(request.POST.get("retry", "")) + 1,
            "most": AUTO_RETRIES,
        }
    html = render_to_string("503.html", {"repost": repost})
    return HttpResponse(html, status=503, headers={"Retry-After": "5"})
