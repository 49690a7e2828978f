"""Admin of refunds (退费) (imported by institutions/admin.py).

Read-only: every step is a service (institutions/refunds.py) called from the pages at
/refunds/ (the bureau's queue and decisions, the batch refund), linked from each row.
Parents' names and phones appear masked only."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from institutions.refund_models import RefundBatch, RefundBatchLine, RefundRequest
from portal.admin import ReadOnlyAdmin

__all__ = []  # institutions/admin.py star-imports this module for its registrations only


@admin.register(RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "institution", "parent", "status", "asked_at", "deadline",
                    "refund_amount", "handle"]  # fmt: skip
    list_filter = ["status"]
    date_hierarchy = "asked_at"
    fields = ["purchase", "parent", "reason", "asked_at", "deadline", "status", "answered_at",
              "answer_reason", "escalated_at", "decided_at", "decision_reason", "refund_amount",
              "transaction", "handle"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("purchase__institution")

    @admin.display(description=_("机构"))
    def institution(self, obj):
        return obj.purchase.institution.name

    @admin.display(description=_("家长（已隐去）"))
    def parent(self, obj):
        return f"{obj.purchase.masked_name} {obj.purchase.masked_phone}"

    @admin.display(description=_("办理"))
    def handle(self, obj):
        return format_html('<a href="{}">办理</a>', reverse("refunds:decide", args=[obj.pk]))


class RefundBatchLineInline(admin.TabularInline):
    model = RefundBatchLine
    extra = 0
    can_delete = False
    fields = ["purchase", "supervision", "paid", "unconsumed", "refunded", "shortfall", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefundBatch)
class RefundBatchAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "institution", "run_at", "run_by", "purchases", "result"]
    fields = ["institution", "reason", "run_at", "run_by", "purchases", "failed", "result"]
    readonly_fields = fields
    inlines = [RefundBatchLineInline]

    @admin.display(description=_("结果"))
    def result(self, obj):
        return format_html(
            '<a href="{}">查看结果</a>', reverse("refunds:batch_result", args=[obj.pk])
        )
