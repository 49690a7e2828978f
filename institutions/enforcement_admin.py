"""Admin of inspections (专项整治), 约谈, sanctions and 通报 (imported by institutions/admin.py;
registers on import, exports nothing).

Read-only: every write goes through institutions/enforcement.py from the staff pages at
/enforcement/staff/ (the checklist, the draw with its seed, a sanction's effect on the
institution's colour are the services' rules, which an edited row would skip)."""

from django.contrib import admin

from institutions.enforcement_models import (
    EnforcementNotice,
    InspectionRound,
    Interview,
    NoticeEntry,
    PatrolSite,
    Sanction,
    Visit,
    VisitItem,
)
from portal.admin import ReadOnlyAdmin

__all__ = []  # institutions/admin.py star-imports this module for its registrations only


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VisitItemInline(_ReadOnlyInline):
    model = VisitItem
    fields = ["item", "passed", "note"]


class NoticeEntryInline(_ReadOnlyInline):
    model = NoticeEntry
    fields = ["institution", "violation", "sanction", "outcome"]


@admin.register(InspectionRound)
class InspectionRoundAdmin(ReadOnlyAdmin):
    list_display = ["name", "starts_on", "ends_on", "draw_count", "draw_seed"]
    search_fields = ["name"]


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["institution", "date", "round", "inspector"]
    list_filter = ["round"]
    search_fields = ["institution__name"]
    date_hierarchy = "date"
    inlines = [VisitItemInline]


@admin.register(PatrolSite)
class PatrolSiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "address", "district", "found_on", "outcome", "handed_to"]
    list_filter = ["outcome", "district"]
    search_fields = ["name", "address"]


@admin.register(Interview)
class InterviewAdmin(ReadOnlyAdmin):
    list_display = ["institution", "date", "deadline", "follow_up_visit"]
    search_fields = ["institution__name"]


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ["institution", "kind", "decided_on", "deadline", "closed_on"]
    list_filter = ["kind", ("closed_on", admin.EmptyFieldListFilter)]
    search_fields = ["institution__name"]


@admin.register(EnforcementNotice)
class EnforcementNoticeAdmin(ReadOnlyAdmin):
    list_display = ["title", "date", "published_by"]
    inlines = [NoticeEntryInline]


InspectionRoundAdmin.list_display_links = ["name"]
