"""Reads for contracts."""

from django.db.models import QuerySet
from django.dispatch import receiver

from buddyscheme.models import Membership
from buddyscheme.selectors import HomeSection, participant_home_cards

from .models import Contract, ContractState, Party


def contracts_to_sign(participant: Membership) -> QuerySet[Contract]:
    """Agreements waiting for this participant's signature, oldest first."""
    return (
        Contract.objects.filter(match__participant=participant, state=ContractState.AWAITING)
        .exclude(signatures__party=Party.PARTICIPANT)
        .order_by("created_at", "pk")
    )


@receiver(participant_home_cards)
def _things_to_sign_on_home(sender, membership, **kwargs) -> list[HomeSection]:
    waiting = list(contracts_to_sign(membership))
    if not waiting:
        return []
    return [HomeSection(30, "contracts/home/to_sign.html", {"contracts": waiting})]
