from django.contrib import admin

from buddyscheme.admin import SchemeScopedAdmin

from .models import Contract, ContractSettings


@admin.register(Contract)
class ContractAdmin(SchemeScopedAdmin):
    """Read-only: contracts are made and signed through their pages, and never edited."""

    coordinator_can_add = False
    list_display = ["pk", "title", "state", "created_at", "signed_at"]
    list_filter = ["kind", "state"]
    readonly_fields = [f.name for f in Contract._meta.fields]


@admin.register(ContractSettings)
class ContractSettingsAdmin(SchemeScopedAdmin):
    coordinator_can_add = False
    list_display = [
        "scheme",
        "match_needs_signed_contract",
        "buddy_needs_volunteer_agreement",
        "discreet_pdf",
    ]
