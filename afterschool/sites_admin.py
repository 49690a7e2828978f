"""The sites part in the admin: read-only lists of the community sites, their safety checks
and operators, with the one action that fits a list (停用 operators) calling the service.
Creating and changing sites, recording checks (with their evidence file) and opening
accounts (a one-time password shown once) are done on the bureau's pages at /sites/, where
the services validate and audit them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from afterschool import sites
from afterschool.models import CareSite, SiteOperator, SiteSafetyCheck
from portal.admin import ReadOnlyAdmin

__all__: list[str] = []


@admin.register(CareSite)
class CareSiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "district", "partner_school", "capacity",
                    "safety_checked_on", "active"]  # fmt: skip
    list_filter = ["kind", "active", "district"]
    search_fields = ["name", "street", "community"]
    exclude = ["contact_phone"]  # shown masked on the site's page only


@admin.register(SiteSafetyCheck)
class SiteSafetyCheckAdmin(ReadOnlyAdmin):
    list_display = ["site", "checked_on", "checked_by", "file_name", "recorded_by", "created_at"]
    list_filter = ["checked_on"]
    search_fields = ["site__name", "checked_by"]
    exclude = ["file_path"]


@admin.register(SiteOperator)
class SiteOperatorAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "site", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "user__username", "site__name"]
    actions = ["deactivate"]

    @admin.action(description="停用所选账号")
    def deactivate(self, request, queryset):
        done = 0
        for operator in queryset:
            try:
                sites.operator_deactivate(actor=request.user, operator_id=operator.pk)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{operator}：{exc}", messages.ERROR)
        self.message_user(request, f"已停用 {done} 个账号。")
