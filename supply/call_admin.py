"""The call part in the admin (imported by supply/admin.py).

Read-only: a call is opened, scored and admitted through supply/calls.py (the pages at
/calls/bureau/); the admin shows what was decided, with the scores of each expert."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin
from supply.call_models import Call, CallApplication, CallCriterion, CallScore

__all__: list[str] = []


class CriterionInline(admin.TabularInline):
    model = CallCriterion
    extra = 0
    can_delete = False
    fields = ["name", "weight", "position"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["title", "deadline", "admit_count", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    inlines = [CriterionInline]


@admin.register(CallApplication)
class CallApplicationAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "call", "submitted_at", "status", "rank", "total"]
    list_filter = ["status", "call"]
    list_select_related = ["organisation", "call"]
    search_fields = ["organisation__name", "organisation__credit_code"]


@admin.register(CallScore)
class CallScoreAdmin(ReadOnlyAdmin):
    list_display = ["application", "expert", "criterion", "value", "scored_at"]
    list_filter = ["application__call"]
    list_select_related = ["application__organisation", "application__call", "expert",
                           "criterion"]  # fmt: skip
