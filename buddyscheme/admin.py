"""Admin for coordinators. Every ModelAdmin here shows only the rows of the user's schemes."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.decorators import method_decorator

from . import services, vetting
from .access import coordinator_scheme_ids, reauthenticated_to_save
from .audit import audit_record
from .errors import DomainError
from .models import (
    AuditEvent,
    BuddyVetting,
    DBSCheck,
    EligibilityQuestion,
    ErasureRequest,
    Heartbeat,
    Invitation,
    Membership,
    ParticipantEnrolment,
    Profile,
    RetentionReview,
    Scheme,
    SupportSettings,
    TrainingCompletion,
    TrainingModule,
    User,
    VettingStep,
)
from .special_category import special_category_text


def limit_support_person_choices(form, scheme) -> None:
    """A support person is one of the scheme's active coordinators, in the admin too."""
    field = form.base_fields.get("support_person")
    if field is not None:
        field.queryset = vetting.support_person_choices(scheme)
        field.error_messages["invalid_choice"] = "Choose one of this scheme's active coordinators."


def scoped_choices(model, scheme_ids, admin_site=None):
    """The rows of `model` a coordinator of `scheme_ids` may pick in an admin choice list.

    A scheme, a person (anyone with a role in one of the schemes), any model whose admin says
    how it reaches its scheme (`scheme_path`), or any model with a `scheme` or `membership`
    field. Anything else offers nothing rather than every scheme's rows.
    """
    manager = model._default_manager
    if model is Scheme:
        return manager.filter(pk__in=scheme_ids)
    if model is User:
        return manager.filter(memberships__scheme__in=scheme_ids).distinct()
    registered = (admin_site or admin.site)._registry.get(model)
    if isinstance(registered, SchemeScopedAdmin):
        return manager.filter(**{f"{registered.scheme_path}__in": scheme_ids}).distinct()
    names = {field.name for field in model._meta.get_fields()}
    if "scheme" in names:
        return manager.filter(scheme__in=scheme_ids)
    if "membership" in names:
        return manager.filter(membership__scheme__in=scheme_ids)
    return manager.none()


class ScopedChoicesMixin:
    """Every foreign-key and many-to-many choice list scoped to the staff user's schemes
    (superusers see everything). A queryset a subclass passes in (a narrower list, such as
    a venue's key holders) is kept."""

    def _schemes(self, request):
        if not hasattr(request, "_admin_scheme_ids"):
            request._admin_scheme_ids = coordinator_scheme_ids(request.user)
        return request._admin_scheme_ids

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            kwargs["queryset"] = scoped_choices(
                db_field.remote_field.model, self._schemes(request), self.admin_site
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and "queryset" not in kwargs:
            kwargs["queryset"] = scoped_choices(
                db_field.remote_field.model, self._schemes(request), self.admin_site
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SchemeScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Coordinators manage their own schemes' rows; superusers see everything.

    `scheme_path` is the lookup from the model to its Scheme.
    """

    scheme_path = "scheme"
    coordinator_can_add = True
    coordinator_can_delete = False

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


class ScopedInline(ScopedChoicesMixin, admin.TabularInline):
    """An inline whose choice lists are scoped like its parent admin's."""


@admin.register(Scheme)
class SchemeAdmin(SchemeScopedAdmin):
    scheme_path = "pk"
    coordinator_can_add = False
    list_display = ["name", "sender_name", "time_zone", "working_hours_start", "working_hours_end"]
    search_fields = ["name"]


@admin.register(SupportSettings)
class SupportSettingsAdmin(SchemeScopedAdmin):
    """How often buddies get a one-to-one and a call. (No admin page ever shows concerns'
    text, one-to-one notes or diaries: those have their own pages, scoped by role.)"""

    list_display = ["scheme", "supervision_every_months", "contact_every_months"]


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
    # Only the schemes of rows the coordinator may see: the plain filter named every scheme
    # of the installation (found by tests/test_lookalike.py).
    list_filter = [
        "role",
        "is_active",
        "is_facilitator",
        "is_on_call",
        ("scheme", admin.RelatedOnlyFieldListFilter),
    ]
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

    # A role decides what someone may see: changing one (or deactivating it, an action posted
    # from the list) asks for the password or authenticator code again.
    @method_decorator(reauthenticated_to_save)
    def changeform_view(self, request, *args, **kwargs):
        return super().changeform_view(request, *args, **kwargs)

    @method_decorator(reauthenticated_to_save)
    def changelist_view(self, request, *args, **kwargs):
        return super().changelist_view(request, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        # Through the services, so admin access follows the role and the change is audited.
        if change:
            services.membership_update(membership=obj, changed=form.changed_data, by=request.user)
            return
        granted = services.membership_grant(
            user=obj.user,
            scheme=obj.scheme,
            role=obj.role,
            is_facilitator=obj.is_facilitator,
            is_on_call=obj.is_on_call,
            by=request.user,
        )
        obj.pk = granted.pk

    @admin.action(description="Deactivate selected memberships")
    def deactivate(self, request, queryset):
        for membership in queryset.select_related("user"):
            services.membership_deactivate(membership=membership, by=request.user)
        self.message_user(request, f"{queryset.count()} membership(s) deactivated.")


@admin.register(Invitation)
class InvitationAdmin(SchemeScopedAdmin):
    list_display = ["email", "scheme", "role", "status", "created_at", "expires_at"]
    list_filter = ["role", ("scheme", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["email"]
    fields = ["scheme", "email", "role", "is_facilitator", "is_on_call"]
    list_select_related = ["scheme"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    # Sending an invitation grants a role, so it asks for the password again, as a role change.
    @method_decorator(reauthenticated_to_save)
    def changeform_view(self, request, *args, **kwargs):
        return super().changeform_view(request, *args, **kwargs)

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
                services.invitation_revoke(invitation=invitation, by=request.user)
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

    # Staff and superuser status are roles too.
    @method_decorator(reauthenticated_to_save)
    def changeform_view(self, request, *args, **kwargs):
        return super().changeform_view(request, *args, **kwargs)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser


# --- People and vetting ---------------------------------------------------------------------


class VettingStepInline(ScopedInline):
    model = VettingStep
    extra = 0
    can_delete = False
    fields = ["from_stage", "to_stage", "recorded_by", "recorded_at", "evidence"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # steps are recorded through the pipeline page so the rules apply


@admin.register(BuddyVetting)
class BuddyVettingAdmin(SchemeScopedAdmin):
    scheme_path = "membership__scheme"
    coordinator_can_add = False
    list_display = ["buddy", "stage", "stage_changed_at"]
    list_filter = ["stage"]
    search_fields = ["membership__user__email", "membership__user__profile__preferred_name"]
    list_select_related = ["membership__user__profile"]
    readonly_fields = ["membership", "stage", "stage_changed_at"]
    inlines = [VettingStepInline]

    @admin.display(description="Buddy")
    def buddy(self, vetting):
        return vetting.membership.user.display_name

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            limit_support_person_choices(form, obj.membership.scheme)
        return form

    def save_model(self, request, obj, form, change):
        # Through the service, which checks the choice again and updates open meetings.
        if "support_person" in form.changed_data:
            try:
                vetting.buddy_support_person_set(
                    buddy=obj.membership, support_person=obj.support_person, by=request.user
                )
            except DomainError as error:
                self.message_user(request, str(error), level=messages.ERROR)


@admin.register(DBSCheck)
class DBSCheckAdmin(SchemeScopedAdmin):
    scheme_path = "membership__scheme"
    list_display = ["buddy", "level", "issue_date", "renewal_due", "update_service"]
    list_filter = ["level", "update_service"]
    list_select_related = ["membership__user__profile"]
    raw_id_fields = ["membership"]
    exclude = ["recorded_by", "recorded_at"]

    @admin.display(description="Buddy")
    def buddy(self, check):
        return check.membership.user.display_name

    def save_model(self, request, obj, form, change):
        if obj.membership.scheme_id not in self._schemes(request) and not request.user.is_superuser:
            raise PermissionDenied
        obj.recorded_by = obj.recorded_by or request.user
        super().save_model(request, obj, form, change)


@admin.register(TrainingModule)
class TrainingModuleAdmin(SchemeScopedAdmin):
    coordinator_can_delete = True
    list_display = ["name", "scheme", "mandatory", "valid_for_months", "order"]
    list_editable = ["mandatory", "valid_for_months", "order"]


@admin.register(TrainingCompletion)
class TrainingCompletionAdmin(SchemeScopedAdmin):
    scheme_path = "membership__scheme"
    list_display = ["membership", "module", "completed_on", "expires_on"]
    list_select_related = ["membership__user__profile", "module"]
    raw_id_fields = ["membership"]
    exclude = ["recorded_by"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "module" and not request.user.is_superuser:
            kwargs["queryset"] = TrainingModule.objects.filter(scheme__in=self._schemes(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            vetting.training_complete(
                membership=obj.membership,
                module=obj.module,
                completed_on=obj.completed_on,
                by=request.user,
            )
        except DomainError as error:
            self.message_user(request, str(error), level=messages.ERROR)


@admin.register(EligibilityQuestion)
class EligibilityQuestionAdmin(SchemeScopedAdmin):
    coordinator_can_delete = True
    list_display = ["text", "scheme", "eligible_answer", "order"]


@admin.register(ParticipantEnrolment)
class ParticipantEnrolmentAdmin(SchemeScopedAdmin):
    scheme_path = "membership__scheme"
    coordinator_can_add = False
    list_display = [
        "membership",
        "referral_source",
        "eligible",
        "waiting_since",
    ]
    list_filter = ["referral_source", "eligible"]
    list_select_related = ["membership__user__profile"]
    # Special-category notes are read and written on the person page only, where consent is
    # checked; the admin (staff who may not be the scheme's coordinators) shows a phrase.
    exclude = ["sensitive_notes", "sensitive_flagged_for_deletion_at"]
    readonly_fields = [
        "membership",
        "eligibility_answers",
        "eligible",
        "enrolled_by",
        "enrolled_at",
        "sensitive_information",
    ]

    @admin.display(description="Sensitive information")
    def sensitive_information(self, obj):
        return special_category_text(obj, viewer=None) or "None held"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # A staff look at a participant's record, as on the person page: logged once it is
        # shown (a refused or missing record leaves no row).
        if request.method == "GET" and response.status_code == 200:
            enrolment = response.context_data["original"]
            audit_record(
                actor=request.user,
                verb="participant_admin_view",
                obj=enrolment.membership,
                scheme=enrolment.membership.scheme_id,
            )
        return response


# --- Audit ----------------------------------------------------------------------------------


class ReadOnlyAdmin(SchemeScopedAdmin):
    """Shown, never added, changed or deleted through the admin (not even by superusers)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are decided in the app (a dry run, re-authentication, a reason)."""

    list_display = ["requested_at", "source", "status", "person", "decided_at", "scheme"]
    list_filter = ["status", "source"]
    fields = [*list_display, "decided_by", "held", "legal_hold_reason", "removed_counts"]
    readonly_fields = fields


@admin.register(RetentionReview)
class RetentionReviewAdmin(ReadOnlyAdmin):
    list_display = ["prepared_at", "status", "confirmed_at", "scheme"]
    list_filter = ["status"]
    fields = [*list_display, "confirmed_by", "match_ids", "counts"]
    readonly_fields = fields


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is written by services and never edited, not even by superusers."""

    list_display = ["at", "verb", "actor", "object_type", "object_id", "scheme", "ip_address"]
    list_filter = ["verb"]
    list_select_related = ["actor__profile", "object_type", "scheme"]
    date_hierarchy = "at"
    fields = list_display + ["user_agent"]
    readonly_fields = fields
