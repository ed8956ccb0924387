"""Who may see each pack document and claim (buddyscheme/access.py's pattern: 404 for another
scheme's, 403 for a role that may not)."""

from django.http import Http404

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import ExpenseClaim, PackDocument


def get_pack_document_for_user(request, pk: int) -> PackDocument:
    """The scheme's buddies read the pack and its coordinators manage it; a participant may
    not. A withdrawn document is gone for buddies."""
    document = get_scheme_object_for_user(
        request,
        PackDocument.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR, Role.BUDDY],
    )
    if document.withdrawn_at is not None and request.membership.role != Role.COORDINATOR:
        raise Http404
    return document


def get_pack_document_for_coordinator(request, pk: int) -> PackDocument:
    return get_scheme_object_for_user(
        request,
        PackDocument.objects.select_related("scheme"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_claim_for_coordinator(request, pk: int) -> ExpenseClaim:
    return get_scheme_object_for_user(
        request,
        ExpenseClaim.objects.select_related("buddy__user__profile", "meeting", "decided_by"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_claim_for_user(request, pk: int) -> ExpenseClaim:
    """The buddy who claimed it, or a coordinator of the scheme."""
    return get_scheme_object_for_user(
        request,
        ExpenseClaim.objects.select_related("buddy__user__profile", "meeting"),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
        own_paths=("buddy_id",),
    )
