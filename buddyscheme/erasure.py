"""Erasure of a person (a participant or a buddy) from one scheme, verified by search.

What goes and what stays is read from `personal_data.INVENTORY`:
- rows linked to the person or to one of their matches are emptied (SCRUB) or deleted (DELETE);
  the rows that carry statistics (matches, meetings, attendance, scores) stay without text;
- the account is anonymised, not deleted: its id keeps the counts and the access log whole,
  while its name, email, password, logins and two-step keys go;
- then a sweep removes the person's identifiers wherever they were typed into a record not
  linked to them (someone else's note, an outbox row to their buddy): email, phones and full
  name in every scheme, the surname in every scheme they had a role in, a bare first name only
  in records around them (`identifiers_sweep`).

Signed agreements are frozen by a database trigger (contracts/migrations/0002): they are
deleted, not edited, unless the coordinator keeps them under a legal hold, which is recorded
on the request with its reason. Safeguarding records and expense claims may be held the same way.

The access log keeps its rows: they hold ids only (models/audit.py) and the account they point
at is anonymised. The IP address and browser string of the person's own actions are emptied,
the one change the append-only trigger allows besides SET NULL (migrations/0019).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .audit import audit_record
from .errors import DomainError
from .models import (
    AuditEvent,
    ErasureRequest,
    ErasureSource,
    ErasureStatus,
    Membership,
    Role,
    Scheme,
    User,
)
from .personal_data import DELETE, HOLD_LABELS, INVENTORY, SCRUB, USER, Personal

REMOVED = "[removed]"
NAME_TOKEN_MINIMUM = 3


@dataclass(frozen=True)
class PlanLine:
    model_label: str
    label: str
    count: int
    action: str  # "deleted", "emptied", "kept"
    why: str = ""
    hold: str = ""


@dataclass
class ErasurePlan:
    person: User
    scheme: Scheme
    lines: list[PlanLine] = field(default_factory=list)

    @property
    def removed(self) -> list[PlanLine]:
        return [line for line in self.lines if line.action != "kept"]

    @property
    def holdable(self) -> list[PlanLine]:
        return [line for line in self.lines if line.hold]

    @property
    def kept(self) -> list[PlanLine]:
        return [line for line in self.lines if line.action == "kept"]


@dataclass(frozen=True)
class Targets:
    """The ids a row may link to: the person's account, their roles, their matches."""

    user_ids: frozenset[int]
    membership_ids: frozenset[int]
    match_ids: frozenset[int]


def inventory_model(label: str) -> type[models.Model] | None:
    app_label, model_name = label.split(".")
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _link_target(model: type[models.Model], lookup: str) -> type[models.Model]:
    current = model
    for part in lookup.split("__"):
        found = current._meta.get_field(part)
        if not found.is_relation:
            return current
        current = found.related_model  # type: ignore[assignment]
    return current


def linked_rows(model: type[models.Model], entry: Personal, targets: Targets) -> models.QuerySet:
    user_model = get_user_model()
    match_model = apps.get_model("matching", "Match")
    condition = Q()
    for lookup in entry.links:
        target = _link_target(model, lookup)
        if target is user_model:
            ids: Iterable[int] = targets.user_ids
        elif target is Membership:
            ids = targets.membership_ids
        elif target is match_model:
            ids = targets.match_ids
        else:
            continue
        if ids:
            condition |= Q(**{f"{lookup}__in": list(ids)})
    if not condition:
        return model._default_manager.none()
    return model._default_manager.filter(condition).distinct()


def _blank(model_field):
    """The empty value a personal field is set to: "", None, or an empty list or dict."""
    if isinstance(model_field, models.JSONField):
        return None if model_field.null else model_field.get_default() or {}
    if model_field.null:
        return None
    if model_field.has_default() and callable(model_field.default):
        return model_field.get_default()
    return ""


def scrub_rows(model: type[models.Model], entry: Personal, rows: models.QuerySet) -> int:
    """Empty the personal fields of `rows` (deleting their files); the rows stay."""
    if entry.scrub_where:
        rows = rows.filter(**entry.scrub_where)
    pks = list(rows.values_list("pk", flat=True))
    if not pks:
        return 0
    for name in entry.files:
        for stored in model._default_manager.filter(pk__in=pks).exclude(**{name: ""}):
            file = getattr(stored, name)
            if file:
                file.delete(save=False)
    values = {name: _blank(model._meta.get_field(name)) for name in entry.personal_fields}
    if values:
        model._default_manager.filter(pk__in=pks).update(**values)
    return len(pks)


def targets_for(person: User, scheme: Scheme) -> Targets:
    memberships = frozenset(
        Membership.objects.filter(user=person, scheme=scheme).values_list("pk", flat=True)
    )
    match_model = apps.get_model("matching", "Match")
    matches = frozenset(
        match_model._default_manager.filter(
            Q(buddy_id__in=memberships) | Q(participant_id__in=memberships)
        ).values_list("pk", flat=True)
    )
    return Targets(frozenset({person.pk}), memberships, matches)


def erasure_check(person: User, scheme: Scheme) -> None:
    roles = set(
        Membership.objects.filter(user=person, scheme=scheme).values_list("role", flat=True)
    )
    if not roles:
        raise DomainError("This person has no role in your scheme.")
    if Role.COORDINATOR in roles or person.is_staff:
        raise DomainError("Coordinators and staff cannot be erased here: ask an administrator.")
    if Membership.objects.filter(user=person).exclude(scheme=scheme).exists():
        raise DomainError(
            "This person also belongs to another scheme. Their account stays until that "
            "scheme removes them too: ask an administrator."
        )


def erasure_plan(*, person: User, scheme: Scheme, held: Iterable[str] = ()) -> ErasurePlan:
    """The dry run: what would be deleted, emptied or kept, kind by kind. Changes nothing."""
    held = set(held)
    targets = targets_for(person, scheme)
    plan = ErasurePlan(person=person, scheme=scheme)
    for label, entry in INVENTORY.items():
        model = inventory_model(label)
        if model is None or entry.on_erase not in (SCRUB, DELETE):
            continue
        rows = linked_rows(model, entry, targets)
        if entry.scrub_where and entry.on_erase == SCRUB:
            rows = rows.filter(**entry.scrub_where)
        count = rows.count()
        if not count:
            continue
        if entry.hold and entry.hold in held:
            action, why = "kept", "Legal hold: " + HOLD_LABELS[entry.hold]
        elif entry.on_erase == DELETE:
            action, why = "deleted", ""
        else:
            action, why = "emptied", "Names and text removed; dates and counts kept."
        plan.lines.append(PlanLine(label, entry.label, count, action, why, entry.hold))
    plan.lines.append(
        PlanLine(
            "buddyscheme.User",
            INVENTORY["buddyscheme.User"].label,
            1,
            "emptied",
            "Name, email and password removed; logins ended. Kept as a number for counts.",
        )
    )
    return plan


@dataclass(frozen=True)
class Tokens:
    """What the sweep looks for, by how far it looks (see `identifiers_sweep`)."""

    distinctive: list[str]  # full name, email, emergency contact's name
    phones: list[str]
    surnames: list[str]
    first_names: list[str]  # first and preferred name


def identifier_tokens(person: User) -> Tokens:
    profile = getattr(person, "profile", None)
    full_name = " ".join(part for part in (person.first_name, person.last_name) if part)
    distinctive = [full_name if person.first_name and person.last_name else "", person.email]
    phones = []
    first_names = [person.first_name]
    if profile is not None:
        phones += [profile.phone, profile.emergency_contact_phone]
        first_names.append(profile.preferred_name)
        distinctive.append(profile.emergency_contact_name)

    def long_enough(tokens):
        return [token for token in tokens if token and len(token) >= NAME_TOKEN_MINIMUM]

    return Tokens(
        distinctive=long_enough(distinctive),
        phones=[phone for phone in phones if len(re.sub(r"\D", "", phone or "")) >= 6],
        surnames=long_enough([person.last_name]),
        first_names=long_enough(first_names),
    )


def _pattern(strong: list[str], phones: list[str], names: list[str]) -> re.Pattern | None:
    parts = [re.escape(token) for token in strong]
    for phone in phones:
        digits = re.sub(r"\D", "", phone)
        # "07700 900731", "07700900731" and "+44 7700 900731" are the same number.
        national = digits[1:] if digits.startswith("0") else digits
        parts.append(r"(?:\+?44\s*|0)?" + r"[\s-]*".join(national))
    alternatives = [f"(?i:{part})" for part in parts] + [rf"\b{re.escape(n)}\b" for n in names]
    if not alternatives:
        return None
    return re.compile("|".join(alternatives))


def _redact(value, pattern: re.Pattern, replacement: str = REMOVED):
    if isinstance(value, str):
        return pattern.sub(lambda _: replacement, value)
    if isinstance(value, list):
        return [_redact(item, pattern, replacement) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern, replacement) for key, item in value.items()}
    return value


# Frozen agreements are deleted or held, never edited; sessions and keys are ended whole.
SWEEP_SKIPS = {"contracts.Contract", "contracts.Signature", "sessions.Session", "mfa.Authenticator"}


def schemes_of(person: User, scheme: Scheme) -> set[int]:
    """Every scheme the person ever had a role in (active or not), and `scheme`."""
    return set(Membership.objects.filter(user=person).values_list("scheme_id", flat=True)) | {
        scheme.pk
    }


def circle_of(person: User, schemes: set[int]) -> Targets:
    """The person and the people they were matched with, in `schemes`: whose records are
    written around them (their buddy's diary, a note to their buddy about their meeting)."""
    mine = frozenset(
        Membership.objects.filter(user=person, scheme_id__in=schemes).values_list("pk", flat=True)
    )
    match_model = apps.get_model("matching", "Match")
    matches = match_model._default_manager.filter(Q(buddy_id__in=mine) | Q(participant_id__in=mine))
    match_ids = frozenset(matches.values_list("pk", flat=True))
    partners = {pk for pair in matches.values_list("buddy_id", "participant_id") for pk in pair}
    partner_users = set(
        Membership.objects.filter(pk__in=partners).values_list("user_id", flat=True)
    )
    return Targets(frozenset({person.pk} | partner_users), mine | frozenset(partners), match_ids)


def _contains(name: str, needles: Iterable[str]) -> Q:
    condition = Q()
    for needle in needles:
        condition |= Q(**{f"{name}__icontains": needle})
    return condition


def identifiers_sweep(
    *,
    person: User,
    scheme: Scheme,
    skip: Iterable[str] = (),
    replacement: str = REMOVED,
    tokens: Tokens | None = None,
) -> int:
    """Replace the person's identifiers wherever typed into the text of a record, each as far
    as it can be told to be theirs:

    - their email address, phone numbers, full name and emergency contact's name: in every
      record of every scheme (nobody else has them);
    - their surname alone: in every scheme they ever had a role in (a Smith in another scheme
      is someone else);
    - their first or preferred name alone: only in records around them: in those schemes,
      linked to them, to their matches or to the people they were matched with (their buddy's
      diary), or to group sessions they attended (`Personal.near`); anywhere, a record that
      holds their email, phone or full name (it is about them). A bare first name is too
      common to remove everywhere: another Sam, in this scheme or another, keeps his notes.

    `tokens` are taken before the account changes, when the caller changes it first."""
    tokens = tokens or identifier_tokens(person)
    schemes = schemes_of(person, scheme)
    circle = circle_of(person, schemes)
    phone_needles = []
    for phone in tokens.phones:
        digits = re.sub(r"\D", "", phone)
        phone_needles += [phone, digits, digits[-6:]]
    distinctive = tokens.distinctive + phone_needles
    everything = distinctive + tokens.surnames + tokens.first_names
    # (reach, what a row must hold to be looked at, what may be removed from it)
    passes = [
        ("around", everything, (tokens.distinctive + tokens.surnames, tokens.first_names)),
        ("schemes", tokens.surnames, (tokens.distinctive + tokens.surnames, [])),
        ("everywhere", distinctive, (tokens.distinctive, [])),
    ]
    skip = SWEEP_SKIPS | set(skip)
    changed = 0
    for label, entry in INVENTORY.items():
        model = inventory_model(label)
        if model is None or label in skip or entry.on_erase == USER:
            continue
        manager = model._default_manager
        in_schemes = Q(**{f"{entry.scheme}__in": schemes}) if entry.scheme else Q()
        fields = entry.identifiers + entry.free_text
        around = linked_rows(model, replace(entry, links=entry.links + entry.near), circle)
        # Read before anything is removed: a row holding their email in one column (an outbox
        # row's address) is about them in its other columns too (its greeting).
        holding = Q()
        for name in fields:
            holding |= _contains(name, distinctive)
        about_them = list(manager.filter(holding).values_list("pk", flat=True)) if holding else []
        for name in fields:
            for reach, needles, (strong, first_names) in passes:
                found = _contains(name, needles)
                pattern = _pattern(strong, tokens.phones, first_names)
                if not found or pattern is None:
                    continue
                rows = manager.filter(found)
                if reach == "around":
                    # Around them: linked to them (or their partners, their group sessions) in
                    # their schemes, or a row that holds their email, phone or full name.
                    rows = rows.filter(
                        Q(pk__in=around.filter(in_schemes).values("pk")) | Q(pk__in=about_them)
                    )
                elif reach == "schemes":
                    rows = rows.filter(in_schemes)
                for pk, value in rows.values_list("pk", name):
                    cleaned = _redact(value, pattern, replacement)
                    if cleaned != value:
                        manager.filter(pk=pk).update(**{name: cleaned})
                        changed += 1
    return changed


def _user_anonymise(person: User) -> None:
    person.email = f"erased-{person.pk}@erased.invalid"
    person.first_name = ""
    person.last_name = ""
    person.is_active = False
    person.set_unusable_password()
    person.save(update_fields=["email", "first_name", "last_name", "is_active", "password"])
    user_key = str(person.pk)
    for session in Session.objects.all().iterator():
        if session.get_decoded().get("_auth_user_id") == user_key:
            session.delete()
    # Their own actions stay on the access log as ids; where they came from goes (the trigger
    # lets these two columns be emptied, nothing else: migrations/0019).
    AuditEvent._base_manager.filter(actor=person).update(ip_address=None, user_agent="")
    log_entry = apps.get_model("admin", "LogEntry")
    log_entry._default_manager.filter(
        content_type__app_label="buddyscheme", content_type__model="user", object_id=user_key
    ).update(object_repr=REMOVED, change_message="")


def _apply(targets: Targets, held: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Reversed so that rows are deleted before those they point at (signatures, then agreements).
    for label, entry in reversed(INVENTORY.items()):
        model = inventory_model(label)
        if model is None or entry.on_erase not in (SCRUB, DELETE):
            continue
        if entry.hold and entry.hold in held:
            continue
        rows = linked_rows(model, entry, targets)
        if entry.on_erase == DELETE:
            pks = list(rows.values_list("pk", flat=True))
            if pks:
                model._default_manager.filter(pk__in=pks).delete()
                counts[label] = len(pks)
        else:
            changed = scrub_rows(model, entry, rows)
            if changed:
                counts[label] = changed
    return counts


def erasure_request_open(*, person: User, scheme: Scheme, source: str, by=None, now=None):
    """An erasure request for review, or the one already open for this person."""
    request, created = ErasureRequest.objects.get_or_create(
        scheme=scheme,
        person=person,
        status=ErasureStatus.OPEN,
        defaults={"source": source, "requested_at": now or timezone.now()},
    )
    if created:
        audit_record(actor=by, verb="erasure_request_open", obj=request, scheme=scheme)
    return request


@transaction.atomic
def person_erase(
    *,
    person: User,
    scheme: Scheme,
    by: User,
    held: Iterable[str] = (),
    reason: str = "",
    now=None,
) -> ErasureRequest:
    """Erase `person` from `scheme` now, keeping only what is `held` (with a `reason`)."""
    now = now or timezone.now()
    held = {kind for kind in held if kind in HOLD_LABELS}
    reason = reason.strip()
    if held and not reason:
        raise DomainError("Say why the scheme must keep what you ticked (the legal reason).")
    person = User.objects.select_for_update().get(pk=person.pk)
    erasure_check(person, scheme)
    request = (
        ErasureRequest.objects.select_for_update()
        .filter(scheme=scheme, person=person, status=ErasureStatus.OPEN)
        .first()
    ) or ErasureRequest(scheme=scheme, person=person, source=ErasureSource.COORDINATOR)
    targets = targets_for(person, scheme)
    # Read before the profile is emptied: the sweep looks for these everywhere else.
    tokens = identifier_tokens(person)
    counts = _apply(targets, held)
    held_models = {label for label, entry in INVENTORY.items() if entry.hold in held}
    request.status = ErasureStatus.ERASED
    request.held = sorted(held)
    request.legal_hold_reason = reason
    request.decided_at = now
    request.decided_by = by
    request.removed_counts = counts
    request.save()
    identifiers_sweep(person=person, scheme=scheme, skip=held_models, tokens=tokens)
    Membership.objects.filter(pk__in=targets.membership_ids).update(is_active=False)
    _user_anonymise(person)
    audit_record(actor=by, verb="person_erase", obj=request, scheme=scheme)
    return request


@transaction.atomic
def erasure_request_keep(*, request: ErasureRequest, by: User, reason: str, now=None):
    """Decide not to erase (yet): the scheme must keep the record, for the reason given."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the scheme must keep this person's records.")
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ErasureStatus.OPEN:
        raise DomainError("This request has already been decided.")
    request.status = ErasureStatus.KEPT
    request.legal_hold_reason = reason
    request.decided_at = now or timezone.now()
    request.decided_by = by
    request.save(update_fields=["status", "legal_hold_reason", "decided_at", "decided_by"])
    audit_record(actor=by, verb="erasure_request_keep", obj=request, scheme=request.scheme_id)
    return request


def open_erasure_requests(scheme: Scheme) -> models.QuerySet[ErasureRequest]:
    """Waiting for a coordinator, oldest first, each with `member_pk` for the person page."""
    member = Membership.objects.filter(user=models.OuterRef("person"), scheme=scheme)
    return (
        ErasureRequest.objects.filter(scheme=scheme, status=ErasureStatus.OPEN)
        .select_related("person__profile")
        .annotate(member_pk=models.Subquery(member.order_by("pk").values("pk")[:1]))
        .order_by("requested_at", "pk")
    )
