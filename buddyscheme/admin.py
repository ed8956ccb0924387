"""Admin for coordinators. Every ModelAdmin here shows only the rows of the user's schemes."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import services
from .access import coordinator_scheme_ids
from .errors import DomainError
from .models import Heartbeat, Invitation, Membership, Profile, Scheme, User


class SchemeScopedAdmin(admin.ModelAdmin):
    """Coordinators manage their own schemes' rows; superusers see everything.

    `scheme_path` is the lookup from the model to its Scheme.
    """

    scheme_path = "scheme"
    coordinator_can_add = True
    coordinator_can_delete = False

    def _schemes(self, request):
        if not hasattr(request, "_admin_scheme_ids"):
            request._admin_scheme_ids = coordinator_scheme_ids(request.user)
        return request._admin_scheme_ids

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.scheme_path}__in": self._schemes(request)}).distinct()

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._schemes(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return request.user.is_superuser or (
            self.coordinator_can_add and bool(self._schemes(request))
        )

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser or (
            self.coordinator_can_delete and bool(self._schemes(request))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scheme" and not request.user.is_superuser:
            kwargs["queryset"] = Scheme.objects.filter(pk__in=self._schemes(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Scheme)
class SchemeAdmin(SchemeScopedAdmin):
    scheme_path = "pk"
    coordinator_can_add = False
    list_display = ["name", "sender_name", "time_zone", "working_hours_start", "working_hours_end"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(SchemeScopedAdmin):
    list_display = [
        "person",
        "scheme",
        "role",
        "is_facilitator",
        "is_on_call",
        "is_active",
        "joined_at",
    ]
    list_filter = ["role", "is_active", "is_facilitator", "is_on_call", "scheme"]
    search_fields = ["user__email", "user__profile__preferred_name"]
    list_select_related = ["user", "user__profile", "scheme"]
    raw_id_fields = ["user"]
    actions = ["deactivate"]

    @admin.display(description="Person", ordering="user__email")
    def person(self, membership):
        return f"{membership.user.display_name} <{membership.user.email}>"

    def has_add_permission(self, request):
        # New people join through an invitation, so their email is verified.
        return request.user.is_superuser

    @admin.action(description="Deactivate selected memberships")
    def deactivate(self, request, queryset):
        for membership in queryset.select_related("user"):
            services.membership_deactivate(membership=membership)
        self.message_user(request, f"{queryset.count()} membership(s) deactivated.")


@admin.register(Invitation)
class InvitationAdmin(SchemeScopedAdmin):
    list_display = ["email", "scheme", "role", "status", "created_at", "expires_at"]
    list_filter = ["role", "scheme"]
    search_fields = ["email"]
    fields = ["scheme", "email", "role", "is_facilitator", "is_on_call"]
    list_select_related = ["scheme"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            created = services.invitation_create(
                scheme=obj.scheme,
                email=obj.email,
                role=obj.role,
                invited_by=request.user,
                is_facilitator=obj.is_facilitator,
                is_on_call=obj.is_on_call,
            )
        except DomainError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return
        obj.pk = created.pk

    @admin.action(description="Withdraw selected invitations")
    def revoke(self, request, queryset):
        withdrawn = 0
        for invitation in queryset:
            try:
                services.invitation_revoke(invitation=invitation)
                withdrawn += 1
            except DomainError:
                pass
        self.message_user(request, f"{withdrawn} invitation(s) withdrawn.")


@admin.register(Profile)
class ProfileAdmin(SchemeScopedAdmin):
    scheme_path = "user__memberships__scheme"
    coordinator_can_add = False
    list_display = ["user", "preferred_name", "pronouns", "preferred_contact"]
    search_fields = ["user__email", "preferred_name"]
    list_select_related = ["user", "user__profile"]
    raw_id_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts themselves are for the installation's superusers only."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser
