"""Reads for agreements that other pages show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.dispatch import receiver

from buddyscheme.models import Membership, Role
from buddyscheme.selectors import (
    HomeSection,
    PersonSection,
    participant_home_cards,
    person_record_sections,
)

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


@dataclass
class AgreementLine:
    contract: Contract
    waiting_for: list[str]  # who has still to sign, by name
    sign_in_person: bool  # the participant can sign on the coordinator's device


def _signer_name(contract: Contract, party: str) -> str:
    match = contract.match
    if party == Party.PARTICIPANT and match is not None:
        return match.participant.user.display_name
    if party == Party.BUDDY:
        buddy = match.buddy if match is not None else contract.volunteer
        return buddy.user.display_name if buddy is not None else "the buddy"
    return "a coordinator"


def agreement_lines(contracts) -> list[AgreementLine]:
    lines = []
    for contract in contracts:
        signed = {signature.party for signature in contract.signatures.all()}
        awaiting = contract.state == ContractState.AWAITING
        lines.append(
            AgreementLine(
                contract=contract,
                waiting_for=[
                    _signer_name(contract, party)
                    for party in contract.parties
                    if awaiting and party not in signed
                ],
                sign_in_person=awaiting
                and contract.match_id is not None
                and Party.PARTICIPANT not in signed,
            )
        )
    return lines


@receiver(person_record_sections)
def _agreements_on_the_person_page(sender, member: Membership, now, **kwargs):
    """A person's agreements, signed or waiting (and for whom), in 2 queries however many."""
    if member.role == Role.BUDDY:
        theirs = Q(match__buddy=member) | Q(volunteer=member)
    elif member.role == Role.PARTICIPANT:
        theirs = Q(match__participant=member)
    else:
        return []
    contracts = (
        Contract.objects.filter(theirs)
        .exclude(state=ContractState.SUPERSEDED)
        .select_related(
            "match__buddy__user__profile",
            "match__participant__user__profile",
            "volunteer__user__profile",
        )
        .prefetch_related("signatures")
        .order_by("-created_at", "-pk")
    )
    lines = agreement_lines(contracts)
    return [
        PersonSection(
            title="Agreements",
            template="contracts/_person_agreements.html",
            order=30,
            context={
                "agreements": lines,
                "may_draw_up_volunteer_agreement": member.role == Role.BUDDY
                and not any(line.contract.volunteer_id == member.pk for line in lines),
            },
        )
    ]
