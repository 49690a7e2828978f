"""Admin of the escrow (imported by institutions/admin.py; registers on import, exports
nothing).

Bureau staff set the policy and the release rules here (audited). Purchases, the ledger and
bank statements are read-only in the admin: money moves only through the services
(institutions/escrow.py) and the staff pages, never by editing a row."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from institutions.escrow_models import (
    BankStatementImport,
    BankStatementLine,
    EscrowEntry,
    EscrowPolicy,
    EscrowTransaction,
    Purchase,
    ReleaseRule,
)
from portal.admin import AuditedAdmin, PolicyAdmin, ReadOnlyAdmin, row_number

__all__ = []  # institutions/admin.py star-imports this module for its registrations only


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EscrowPolicy)
class EscrowPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "deposit_per_student", "deposit_minimum", "yellow_below_percent",
                    "red_below_percent", "release_kind"]  # fmt: skip
    fieldsets = [
        ("风险保证金", {"fields": ["deposit_per_student", "deposit_minimum"]}),
        ("预警线", {"fields": ["yellow_below_percent", "red_below_percent"]}),
        ("默认释放规则", {"fields": ["release_kind", "tranche_1_percent", "tranche_2_percent",
                                     "delay_days"]}),
    ]  # fmt: skip


@admin.register(ReleaseRule)
class ReleaseRuleAdmin(AuditedAdmin):
    list_display = ["institution", "kind", "tranche_1_percent", "tranche_2_percent", "delay_days"]
    list_filter = ["kind"]
    raw_id_fields = ["institution"]
    search_fields = ["institution__name"]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = [row_number, "institution", "course", "parent", "amount", "lessons",
                    "lessons_consumed", "lessons_confirmed", "status", "dispute_open",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "supervision", "release_kind", "dispute_open"]
    search_fields = ["idempotency_key", "institution__name", "course__name"]
    list_select_related = ["institution", "course"]
    exclude = ["parent_name", "parent_phone"]
    readonly_fields = ["parent", "staff_page"]
    date_hierarchy = "created_at"

    @admin.display(description="家长")
    def parent(self, obj):
        return f"{obj.masked_name} {obj.masked_phone}"

    @admin.display(description="处理页面")
    def staff_page(self, obj):
        url = reverse("institutions:escrow_purchase", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, "打开（争议、释放、退费）")


class EntryInline(ReadOnlyInline):
    model = EscrowEntry
    fields = ["account", "amount"]


@admin.register(EscrowTransaction)
class EscrowTransactionAdmin(ReadOnlyAdmin):
    list_display = [row_number, "kind", "institution", "purchase", "idempotency_key", "reverses",
                    "memo", "created_at"]  # fmt: skip
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo", "institution__name"]
    list_select_related = ["institution", "purchase", "reverses"]
    inlines = [EntryInline]
    date_hierarchy = "created_at"


class LineInline(ReadOnlyInline):
    model = BankStatementLine
    fields = ["row_number", "date", "amount", "reference", "counterparty", "match", "transaction"]


@admin.register(BankStatementImport)
class BankStatementImportAdmin(ReadOnlyAdmin):
    list_display = ["filename", "account", "lines_imported", "lines_skipped", "uploaded_by",
                    "uploaded_at"]  # fmt: skip
    list_select_related = ["account__institution", "uploaded_by"]
    inlines = [LineInline]
