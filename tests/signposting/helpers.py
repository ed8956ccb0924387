"""Data shared by the signposting tests: directory entries and an ended match."""

from django.utils import timezone

from matching import services as matching_services
from matching.models import Match, MatchState
from signposting import services
from signposting.models import DirectoryEntry, OfferKind


def entry_values(**overrides) -> dict:
    return {
        "name": "Citizens Advice Lambeth",
        "kind": OfferKind.MONEY,
        "offers": "Free advice on benefits, debt and housing.",
        "area": "Lambeth",
        "contact": "0800 144 8848 · citizensadvice.org.uk",
        "eligibility": "",
        **overrides,
    }


def add_entry(scheme, by, now=None, **overrides) -> DirectoryEntry:
    return services.directory_entry_add(
        scheme=scheme, by=by, values=entry_values(**overrides), now=now
    )


def end_match(scheme, buddy, participant, by, now=None, ending_type="planned") -> Match:
    """An active match, ended through matching's own service (which sends match_ended)."""
    match = Match.objects.create(
        scheme=scheme,
        buddy=buddy,
        participant=participant,
        state=MatchState.ACTIVE,
        activated_at=timezone.now(),
    )
    return matching_services.match_end(
        match=match, by=by, reason="Planned end", ending_type=ending_type, now=now
    )
