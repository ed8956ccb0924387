from django.contrib import admin

from buddyscheme.admin import SchemeScopedAdmin, ScopedInline
from buddyscheme.models import Role, User

from .models import (
    Alert,
    AlertRecipient,
    BoundaryQuestion,
    LoneWorkingSettings,
    Meeting,
    OnCallShift,
    Venue,
)


@admin.register(Venue)
class VenueAdmin(SchemeScopedAdmin):
    """Venues with their risk assessment; an assessment past its review date blocks booking."""

    list_display = ["name", "area", "kind", "risk_rating", "risk_review_due", "is_active"]
    list_filter = ["kind", "risk_rating", "is_active"]
    search_fields = ["name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "key_holder" and not request.user.is_superuser:
            # A key holder is staff on the premises: an active coordinator of the scheme.
            kwargs["queryset"] = User.objects.filter(
                memberships__scheme__in=self._schemes(request),
                memberships__role=Role.COORDINATOR,
                memberships__is_active=True,
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(LoneWorkingSettings)
class LoneWorkingSettingsAdmin(SchemeScopedAdmin):
    coordinator_can_add = False
    list_display = ["scheme", "grace_minutes", "high_risk_grace_minutes", "escalation_minutes"]


@admin.register(OnCallShift)
class OnCallShiftAdmin(SchemeScopedAdmin):
    """The out-of-hours rota: bookings outside office hours need a shift covering them."""

    coordinator_can_delete = True
    list_display = ["responder", "starts_at", "ends_at"]
    raw_id_fields = ["responder"]


@admin.register(Meeting)
class MeetingAdmin(SchemeScopedAdmin):
    """Read-only here: meetings change through the booking pages and the safety buttons."""

    coordinator_can_add = False
    list_display = ["pk", "planned_start", "state", "alert_level"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in Meeting._meta.fields]


class AlertRecipientInline(ScopedInline):
    """Who the alert reached. Read-only for everyone: the row is a record of what was queued."""

    model = AlertRecipient
    extra = 0
    can_delete = False
    fields = readonly_fields = ["person", "channel", "notification", "created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("person__profile", "notification")
        if request.user.is_superuser:
            return qs
        return qs.filter(alert__meeting__scheme__in=self._schemes(request))

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or bool(self._schemes(request))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(SchemeScopedAdmin):
    scheme_path = "meeting__scheme"
    coordinator_can_add = False
    inlines = [AlertRecipientInline]
    list_display = [
        "meeting",
        "level",
        "reason",
        "raised_at",
        "acknowledged_at",
        "resolved_at",
        "outcome",
    ]
    list_filter = ["level", "reason", "outcome"]
    readonly_fields = [f.name for f in Alert._meta.fields]


@admin.register(BoundaryQuestion)
class BoundaryQuestionAdmin(SchemeScopedAdmin):
    """The yes/no questions every debrief asks; "yes" flags the match. Retire a question by
    unticking "is active" (its past answers keep the words as asked)."""

    list_display = ["text", "order", "is_active"]
    list_editable = ["order", "is_active"]
    list_filter = ["is_active"]
