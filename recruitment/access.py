"""Who may act on recruitment's rows: the coordinators of the applicant's scheme."""

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import Reference


def get_reference_for_coordinator(request, pk: int) -> Reference:
    return get_scheme_object_for_user(
        request,
        Reference.objects.select_related("application__scheme", "membership"),
        pk,
        scheme_path="application__scheme_id",
        roles=[Role.COORDINATOR],
    )
