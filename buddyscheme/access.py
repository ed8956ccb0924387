"""Authorisation in one place. Every view calls one of these; no view filters by hand.

`get_<object>_for_user` returns the object or raises Http404 when it belongs to another
scheme (we do not confirm it exists) and PermissionDenied when the role is wrong.
"""

from functools import wraps
from urllib.parse import urlsplit

from allauth.account.decorators import reauthentication_required
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

from .models import (
    Concern,
    DiaryEntry,
    EligibilityQuestion,
    Interview,
    InterviewQuestion,
    Invitation,
    Membership,
    Referral,
    Role,
    Scheme,
    Supervision,
    TrainingModule,
)


def memberships_for_user(user):
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("scheme")
        .order_by("scheme__name", "role")
    )


def coordinator_scheme_ids(user) -> set[int]:
    """Schemes whose rows this user may manage (in the admin and on coordinator pages)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(user=user, role=Role.COORDINATOR, is_active=True).values_list(
            "scheme_id", flat=True
        )
    )


def mfa_missing(user) -> bool:
    """True when a coordinator must still enrol TOTP before seeing coordinator pages."""
    if not settings.COORDINATOR_MFA_REQUIRED:
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def redirect_to_mfa_setup(request):
    messages.warning(
        request,
        "Coordinators see sensitive information, so you need two-step sign-in. "
        "Set up an authenticator app to continue.",
    )
    return redirect("mfa_activate_totp")


SIGNED_OUT_POST = (
    "You were signed out, so what you sent was not saved. Sign in, then send it again."
)


def login_required(view):
    """Django's login_required, except for a POST: the session ran out while the form was open.

    Sending the person back to the form's own URL after login would end on a blank 405 (these
    URLs take POST only), so `next` is the page the form was on (when it is one of ours, and not
    the form's URL), else the home page, and a message says what was lost.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request"):
            # A part of a page that refreshes itself (the board, the help banner) must not swap
            # the sign-in page into itself: htmx takes the whole page there instead.
            page = page_the_form_was_on(request, request.headers.get("HX-Current-URL", ""))
            response = HttpResponse(status=200)
            response["HX-Redirect"] = redirect_to_login(page).url
            return response
        if request.method != "POST":
            return redirect_to_login(request.get_full_path())
        messages.warning(request, SIGNED_OUT_POST)
        return redirect_to_login(page_the_form_was_on(request))

    return wrapper


def page_the_form_was_on(request, referer=None) -> str:
    """Where to go back to after a POST that could not be kept: the page it came from."""
    referer = request.headers.get("referer", "") if referer is None else referer
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        if parts.path != request.path:
            try:
                resolve(parts.path)
            except Resolver404:
                pass
            else:
                return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def role_required(*roles):
    """The current membership must have one of `roles`; coordinators must have MFA."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            membership = request.membership
            if membership is None or membership.role not in roles:
                raise PermissionDenied("This page is not part of your role.")
            if membership.role == Role.COORDINATOR and mfa_missing(request.user):
                return redirect_to_mfa_setup(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def reauthenticated(view):
    """Before data leaves the app (an export, a report download) or someone's role changes, the
    person proves again it is them: their password, or their authenticator app where they have
    one (allauth's re-authentication, `ACCOUNT_REAUTHENTICATION_METHODS`), unless they did so
    in the last five minutes. A shared or unlocked laptop then cannot be used to take a
    scheme's records away. Put below `role_required`, so other roles still get a 403.

    A POST (the evidence pack) is kept while they re-authenticate and then carried out.
    """
    return reauthentication_required(view)


def reauthenticated_to_save(view):
    """`reauthenticated` for a page that shows a form freely and asks only when it is posted
    (the admin's membership and user pages: looking is not changing a role)."""
    return reauthentication_required(view, allow_get=True)


def reauthenticated_if_coordinator(view):
    """`reauthenticated` for a coordinator only, on a page other roles open for their own
    records: a coordinator downloading someone else's signed agreement proves it is them, while
    a participant or buddy taking their own copy is not asked (it is theirs, they have just
    read it on the page, and a password prompt on a phone is a barrier to them, not a thief)."""
    return reauthentication_required(
        view,
        enabled=lambda request: (
            request.membership is not None and request.membership.role == Role.COORDINATOR
        ),
    )


def get_membership_for_user(request, pk: int) -> Membership:
    """A membership row the requester may manage: a coordinator of the same scheme."""
    membership = (
        Membership.objects.select_related("user", "user__profile", "scheme").filter(pk=pk).first()
    )
    current = request.membership
    if membership is None or current is None or membership.scheme_id != current.scheme_id:
        raise Http404
    if current.role != Role.COORDINATOR:
        raise PermissionDenied
    return membership


def get_invitation_for_user(request, pk: int) -> Invitation:
    invitation = Invitation.objects.select_related("scheme").filter(pk=pk).first()
    current = request.membership
    if invitation is None or current is None or invitation.scheme_id != current.scheme_id:
        raise Http404
    if current.role != Role.COORDINATOR:
        raise PermissionDenied
    return invitation


def get_own_membership(request, pk: int) -> Membership:
    """One of the requester's own memberships (used to switch scheme or role)."""
    membership = memberships_for_user(request.user).filter(pk=pk).first()
    if membership is None:
        raise Http404
    return membership


def get_scheme_object_for_user(
    request, queryset, pk: int, *, scheme_path: str, roles, own_paths=()
):
    """The pattern every app's `get_<object>_for_user` follows.

    404 when the object is missing or in another scheme than the one the user is acting in;
    403 when the role may not see it. A role in `roles` sees every object of the scheme; any
    other role sees the object only if one of `own_paths` (lookups to a Membership) is them.
    """
    current = request.membership
    if current is None:
        raise Http404
    obj = queryset.filter(pk=pk, **{scheme_path: current.scheme_id}).first()
    if obj is None:
        raise Http404
    if current.role in roles:
        if current.role == Role.COORDINATOR and mfa_missing(request.user):
            raise PermissionDenied("Set up two-step sign-in first.")
        return obj
    if own_paths and _is_own(obj, queryset, own_paths, current.pk):
        return obj
    raise PermissionDenied


def _is_own(obj, queryset, paths, membership_pk) -> bool:
    """One of `paths` leads from `obj` to the membership. A path that is the object's own
    foreign key (`buddy`) is read from the row already loaded; a longer one is asked."""
    local = {field.name: field.attname for field in obj._meta.concrete_fields if field.is_relation}
    if all(path in local for path in paths):
        return any(getattr(obj, local[path]) == membership_pk for path in paths)
    return queryset.filter(pk=obj.pk).filter(_any_of(paths, membership_pk)).exists()


def _any_of(paths, membership_pk):
    condition = Q()
    for path in paths:
        condition |= Q(**{path: membership_pk})
    return condition


def get_member_for_coordinator(request, pk: int, role=None) -> Membership:
    """A person in the coordinator's current scheme (optionally of one role)."""
    qs = Membership.objects.select_related("user", "user__profile", "scheme")
    if role:
        qs = qs.filter(role=role)
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR]
    )


def get_scheme_for_coordinator(request) -> Scheme:
    """The scheme the coordinator is acting in, read afresh, for its settings pages."""
    current = request.membership
    if current is None or current.role != Role.COORDINATOR:
        raise PermissionDenied
    if mfa_missing(request.user):
        raise PermissionDenied("Set up two-step sign-in first.")
    return Scheme.objects.get(pk=current.scheme_id)


def get_training_module_for_user(request, pk: int) -> TrainingModule:
    return get_scheme_object_for_user(
        request,
        TrainingModule.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_eligibility_question_for_user(request, pk: int) -> EligibilityQuestion:
    return get_scheme_object_for_user(
        request,
        EligibilityQuestion.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_referral_for_coordinator(request, pk: int) -> Referral:
    return get_scheme_object_for_user(
        request,
        Referral.objects.select_related("scheme", "membership__user__profile"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


# --- Support: concerns, one-to-ones, the reflective diary --------------------------------------


def get_concern_for_coordinator(request, pk: int) -> Concern:
    qs = Concern.objects.select_related(
        "scheme", "raised_by__user__profile", "about__user__profile", "owner__user__profile"
    )
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR]
    )


def get_own_concern(request, pk: int) -> Concern:
    """A concern the requesting buddy raised. Anyone else's is not found (not even its
    existence is confirmed to another buddy)."""
    current = request.membership
    concern = (
        Concern.objects.select_related("owner__user__profile", "about__user__profile")
        .filter(pk=pk, raised_by=current)
        .first()
        if current is not None
        else None
    )
    if concern is None:
        raise Http404
    return concern


def get_supervision_for_coordinator(request, pk: int) -> Supervision:
    qs = Supervision.objects.select_related(
        "scheme", "buddy__user__profile", "support_person__user__profile", "concern"
    )
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR]
    )


def get_own_supervision(request, pk: int) -> Supervision:
    """One of the requesting buddy's own one-to-ones."""
    current = request.membership
    supervision = (
        Supervision.objects.select_related("support_person__user__profile")
        .filter(pk=pk, buddy=current)
        .first()
        if current is not None
        else None
    )
    if supervision is None:
        raise Http404
    return supervision


def get_diary_entry_for_user(request, pk: int) -> DiaryEntry:
    """A diary entry is the buddy's own; the one person they shared it with may read it too.

    Everyone else, a coordinator of the same scheme included, is told it does not exist: a
    private entry must not even be confirmed.
    """
    current = request.membership
    entry = (
        DiaryEntry.objects.select_related("buddy__user__profile", "shared_with__user__profile")
        .filter(pk=pk, buddy__scheme_id=current.scheme_id)
        .first()
        if current is not None
        else None
    )
    if entry is None:
        raise Http404
    if current.role == Role.BUDDY and entry.buddy_id == current.pk:
        return entry
    if current.role == Role.COORDINATOR and entry.shared_with_id == current.pk:
        if mfa_missing(request.user):
            raise PermissionDenied("Set up two-step sign-in first.")
        return entry
    raise Http404


def get_own_diary_entry(request, pk: int) -> DiaryEntry:
    """For changing an entry (share, stop sharing, delete): the writer only."""
    entry = get_diary_entry_for_user(request, pk)
    if entry.buddy_id != request.membership.pk:
        raise Http404
    return entry


# --- Recruitment: interviews -----------------------------------------------------------------


def get_interview_for_coordinator(request, pk: int) -> Interview:
    qs = Interview.objects.select_related(
        "scheme", "applicant__user__profile", "interviewer__user__profile"
    )
    return get_scheme_object_for_user(
        request, qs, pk, scheme_path="scheme_id", roles=[Role.COORDINATOR]
    )


def get_interview_question_for_user(request, pk: int) -> InterviewQuestion:
    return get_scheme_object_for_user(
        request,
        InterviewQuestion.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )
