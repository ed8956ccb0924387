"""Authorisation for contracts: coordinators see the scheme's; others only those they are party to."""

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Role

from .models import Contract, ContractTemplate


def get_contract_for_user(request, pk: int) -> Contract:
    qs = Contract.objects.select_related(
        "scheme", "version__template", "match__participant__user", "match__buddy__user"
    )
    return get_scheme_object_for_user(
        request,
        qs,
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
        own_paths=["match__participant", "match__buddy", "volunteer", "attendee"],
    )


def get_template_for_user(request, pk: int) -> ContractTemplate:
    return get_scheme_object_for_user(
        request,
        ContractTemplate.objects.all(),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )
