from django.contrib import admin, messages

from buddyscheme.admin import SchemeScopedAdmin, ScopedInline, limit_support_person_choices
from buddyscheme.errors import DomainError

from . import services
from .models import (
    Match,
    MatchEvent,
    MatchingRound,
    MatchingSettings,
    MenuCategory,
    MenuItem,
    PairBlock,
    SpeedEvent,
)


class MenuItemInline(ScopedInline):
    model = MenuItem
    extra = 1
    fields = ["name", "description", "is_active", "order"]


@admin.register(MenuCategory)
class MenuCategoryAdmin(SchemeScopedAdmin):
    """The scheme's menu: categories with their items, each usable as an offer and a want."""

    coordinator_can_delete = True
    list_display = ["name", "scheme", "order"]
    list_editable = ["order"]
    inlines = [MenuItemInline]


@admin.register(MatchingSettings)
class MatchingSettingsAdmin(SchemeScopedAdmin):
    coordinator_can_add = False
    list_display = [
        "scheme",
        "per_shared_item",
        "per_hour_of_shared_availability",
        "same_district",
        "per_week_waiting",
        "choices_shown",
    ]


class MatchEventInline(ScopedInline):
    model = MatchEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_state", "to_state", "actor", "at", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Match)
class MatchAdmin(SchemeScopedAdmin):
    """Read-mostly: state changes go through the matching workspace so every rule applies."""

    coordinator_can_add = False
    list_display = ["pk", "state", "score", "created_at", "review_due"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in Match._meta.fields if f.name != "support_person"]
    inlines = [MatchEventInline]
    actions = ["propose_drafts", "withdraw_drafts"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            limit_support_person_choices(form, obj.scheme)
        return form

    def save_model(self, request, obj, form, change):
        # Through the service: it checks the choice again, records it, updates open meetings.
        if "support_person" in form.changed_data:
            try:
                services.match_support_person_set(
                    match=obj, support_person=obj.support_person, by=request.user
                )
            except DomainError as error:
                self.message_user(request, str(error), level=messages.ERROR)

    def _each(self, request, queryset, service, done):
        count = 0
        for match in queryset:
            try:
                service(match=match, by=request.user)
                count += 1
            except DomainError as error:
                self.message_user(request, f"Match {match.pk}: {error}", level=messages.WARNING)
        self.message_user(request, f"{count} match(es) {done}.")

    @admin.action(description="Propose selected drafts to both people")
    def propose_drafts(self, request, queryset):
        self._each(request, queryset, services.match_propose, "proposed")

    @admin.action(description="Withdraw selected drafts or proposals")
    def withdraw_drafts(self, request, queryset):
        self._each(request, queryset, services.match_withdraw, "withdrawn")


@admin.register(MatchingRound)
class MatchingRoundAdmin(SchemeScopedAdmin):
    coordinator_can_add = False
    list_display = [
        "created_at",
        "participant_count",
        "buddy_count",
        "assigned_count",
        "total_score",
        "greedy_score",
    ]
    readonly_fields = [f.name for f in MatchingRound._meta.fields]


@admin.register(PairBlock)
class PairBlockAdmin(SchemeScopedAdmin):
    scheme_path = "buddy__scheme"
    coordinator_can_add = False
    coordinator_can_delete = True
    list_display = ["kind", "reason", "created_at"]
    readonly_fields = ["buddy", "participant", "kind", "reason", "recorded_by", "created_at"]


@admin.register(SpeedEvent)
class SpeedEventAdmin(SchemeScopedAdmin):
    list_display = ["name", "held_on", "matched_at"]
    readonly_fields = ["matched_at", "created_by"]
