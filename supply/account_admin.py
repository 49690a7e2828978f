"""Organisations, their members and experts in the admin (imported by supply/admin.py).

Read-only lists; the bureau's writes go through supply/organisations.py (the pages at
/calls/bureau/organisations/ and /calls/bureau/experts/, and the action here)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from portal.admin import ReadOnlyAdmin
from supply import organisations
from supply.account_models import Expert, Organisation, OrganisationMember

__all__: list[str] = []


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "credit_code", "kind", "contact_name", "active", "provider"]
    list_filter = ["kind", "active"]
    list_select_related = ["provider"]
    search_fields = ["name", "credit_code"]
    exclude = ["contact_phone"]  # shown masked on the bureau's page


@admin.register(OrganisationMember)
class OrganisationMemberAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "role", "active", "created_at"]
    list_filter = ["role", "active"]
    list_select_related = ["organisation"]
    search_fields = ["name", "organisation__name", "user__username"]


@admin.register(Expert)
class ExpertAdmin(ReadOnlyAdmin):
    list_display = ["name", "field", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "field", "user__username"]
    actions = ["deactivate"]

    @admin.action(description="移出专家库")
    def deactivate(self, request, queryset):
        for expert in queryset:
            try:
                organisations.expert_deactivate(actor=request.user, expert_id=expert.pk)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{expert}：{exc}", messages.ERROR)
