"""Admin of complaints (举报/投诉) and their handling (imported by institutions/admin.py).

Read-only: every step of the handling is a service (institutions/complaints.py) called from
the staff pages (/complaints/staff/), linked from each row. The complainant's name and phone
appear masked only; the tracking code is stored nowhere (a digest, not shown)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from institutions import complaints
from institutions.complaint_models import Complaint, ComplaintStep
from portal.admin import ReadOnlyAdmin

__all__ = []  # institutions/admin.py star-imports this module for its registrations only


class ComplaintStepInline(admin.TabularInline):
    model = ComplaintStep
    extra = 0
    can_delete = False
    fields = ["at", "status", "note", "by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "line", "status", "subject", "received_at", "contact", "handle"]
    list_filter = ["line", "status", "category"]
    date_hierarchy = "received_at"
    fields = ["category", "line", "status", "district", "institution", "institution_name",
              "institution_address", "school", "text", "happened_on", "contact",
              "received_at", "group_head", "assigned_school", "answer", "reply", "closed_at",
              "handle"]  # fmt: skip
    readonly_fields = fields
    inlines = [ComplaintStepInline]

    def get_queryset(self, request):
        lines = complaints.handled_lines(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(line__in=lines)
            .select_related("institution", "school")
        )

    @admin.display(description=_("对象"))
    def subject(self, obj):
        return obj.subject_name

    @admin.display(description=_("举报人（已隐去）"))
    def contact(self, obj):
        return f"{obj.masked_name or '匿名'} {obj.masked_phone}".strip()

    @admin.display(description=_("办理"))
    def handle(self, obj):
        return format_html(
            '<a href="{}">办理</a>', reverse("complaints:staff_detail", args=[obj.pk])
        )
