"""The scheme's menu as its coordinators set it up: the categories and the items buddies offer
and participants want. Its reads and writes live together here, apart from matching itself.

Items are retired rather than deleted: people chose them, and a match's reasons name them.
A retired item is no longer offered in anyone's menu form.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q
from django.dispatch import receiver

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Scheme
from buddyscheme.referrals import referral_enrolled, referral_need_choices
from buddyscheme.selectors import SettingsSection, settings_sections

from .models import MatchProfile, MenuCategory, MenuItem

CATEGORY_FIELDS = ("name", "order")
ITEM_FIELDS = ("category", "name", "description", "order", "is_active")


def _checked(fields: dict, allowed: tuple[str, ...]) -> dict:
    if set(fields) - set(allowed):
        raise DomainError("Those details cannot be changed here.")
    return fields


def _save(obj, *, verb: str, by, scheme_id: int, update_fields=None) -> None:
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
            audit_record(actor=by, verb=verb, obj=obj, scheme=scheme_id)
    except IntegrityError as error:
        raise DomainError("There is already one with this name. Choose another name.") from error


def menu_category_create(*, scheme: Scheme, by, **fields) -> MenuCategory:
    category = MenuCategory(scheme=scheme, **_checked(fields, CATEGORY_FIELDS))
    _save(category, verb="menu_category_create", by=by, scheme_id=scheme.pk)
    return category


def menu_category_update(*, category: MenuCategory, by, **fields) -> MenuCategory:
    with transaction.atomic():
        locked = MenuCategory.objects.select_for_update().get(pk=category.pk)
        for field, value in _checked(fields, CATEGORY_FIELDS).items():
            setattr(locked, field, value)
        _save(
            locked,
            verb="menu_category_update",
            by=by,
            scheme_id=locked.scheme_id,
            update_fields=list(fields),
        )
    return locked


def _same_scheme(category: MenuCategory, scheme_id: int) -> None:
    if category.scheme_id != scheme_id:
        raise DomainError("Choose one of this scheme's categories.")


def menu_item_create(*, scheme: Scheme, by, **fields) -> MenuItem:
    item = MenuItem(**_checked(fields, ITEM_FIELDS))
    _same_scheme(item.category, scheme.pk)
    _save(item, verb="menu_item_create", by=by, scheme_id=scheme.pk)
    return item


def menu_item_update(*, item: MenuItem, by, **fields) -> MenuItem:
    """Unticking "offered" retires an item: people who chose it keep it until they next change
    their menu; nobody new can choose it. It may move to another of the scheme's categories."""
    with transaction.atomic():
        locked = (
            MenuItem.objects.select_for_update(of=("self",))
            .select_related("category")
            .get(pk=item.pk)
        )
        scheme_id = locked.category.scheme_id
        for field, value in _checked(fields, ITEM_FIELDS).items():
            setattr(locked, field, value)
        _same_scheme(locked.category, scheme_id)
        _save(
            locked, verb="menu_item_update", by=by, scheme_id=scheme_id, update_fields=list(fields)
        )
    return locked


# --- Reads --------------------------------------------------------------------------------------


def menu_for_scheme(scheme) -> list[MenuCategory]:
    """Categories in order, each with its items and how many people chose each (two queries)."""
    items = MenuItem.objects.annotate(chosen_by=Count("profiles", distinct=True)).order_by(
        "-is_active", "order", "name"
    )
    return list(
        MenuCategory.objects.filter(scheme=scheme).prefetch_related(
            Prefetch("items", queryset=items)
        )
    )


@receiver(settings_sections)
def _menu_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    counts = MenuItem.objects.filter(category__scheme=scheme).aggregate(
        offered=Count("pk", filter=Q(is_active=True)),
        retired=Count("pk", filter=Q(is_active=False)),
    )
    summary = f"{counts['offered']} item{'' if counts['offered'] == 1 else 's'} offered"
    if counts["retired"]:
        summary += f", {counts['retired']} retired"
    return [
        SettingsSection(
            position=80,
            title="Menu",
            url_name="matching:settings_menu",
            summary=summary + ": what buddies offer and participants ask for",
            attention=""
            if counts["offered"]
            else "The menu is empty: nobody can say what they offer.",
        )
    ]


@receiver(referral_need_choices)
def _menu_for_referrals(sender, scheme, **kwargs) -> list[str]:
    """What a referral may ask for: the names of the menu items the scheme offers now."""
    return list(
        MenuItem.objects.filter(category__scheme=scheme, is_active=True).values_list(
            "name", flat=True
        )
    )


@receiver(referral_enrolled)
def _referral_needs_into_the_menu(sender, membership, needs, **kwargs) -> None:
    """Someone enrolled from a referral starts with the help asked for ticked in their menu
    (added to what they may already have; they change it with the coordinator later)."""
    items = MenuItem.objects.filter(
        category__scheme=membership.scheme_id, is_active=True, name__in=needs
    )
    profile, _ = MatchProfile.objects.get_or_create(membership=membership)
    profile.items.add(*items)
