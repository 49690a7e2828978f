"""Admin of the institution's side (机构端): its staff accounts and the requests for a first
account. Nothing is written here: the action calls the services of institutions/accounts.py
(the same door as the staff pages under /org/bureau/)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from institutions import accounts
from institutions.account_models import AccountRequest, InstitutionStaff
from portal.admin import ReadOnlyAdmin

__all__ = ["AccountRequestAdmin", "InstitutionStaffAdmin"]


@admin.register(InstitutionStaff)
class InstitutionStaffAdmin(ReadOnlyAdmin):
    """Accounts are opened on /org/bureau/accounts/ (or by the action on requests) and
    managed by the institution's own 管理员."""

    list_display = ["name", "institution", "role", "active", "created_at"]
    list_filter = ["role", "active"]
    list_select_related = ["institution"]
    search_fields = ["name", "institution__name", "user__username"]
    fields = ["user", "institution", "role", "name", "active", "created_at"]


@admin.register(AccountRequest)
class AccountRequestAdmin(ReadOnlyAdmin):
    list_display = ["institution", "contact_name", "phone", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["institution"]
    search_fields = ["institution__name", "contact_name"]
    fields = ["institution", "contact_name", "phone", "note", "status", "reason",
              "created_at", "decided_at", "decided_by", "staff"]  # fmt: skip
    readonly_fields = ["phone"]
    actions = ["approve"]

    @admin.display(description=_("联系电话"))
    def phone(self, obj):
        return obj.masked_phone

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("批准并开通管理员账号（登录账号为统一社会信用代码）"))
    def approve(self, request, queryset):
        """Approve each open request through accounts.account_request_decide; the one-time
        passwords are on the page this action answers with, once."""
        created = []
        for row in queryset.select_related("institution").order_by("pk"):
            try:
                row, password = accounts.account_request_decide(
                    actor=request.user, request_id=row.pk, approve=True,
                    username=row.institution.credit_code,
                )  # fmt: skip
            except PermissionDenied:
                raise
            except ValidationError as exc:
                for msg in exc.messages:
                    self.message_user(request, f"{row.institution.name}：{msg}", messages.ERROR)
            else:
                created.append((row.staff, password))
        if not created:
            return None
        response = render(request, "institutions/org/admin_created.html", {"created": created})
        response["Cache-Control"] = "no-store"
        return response
