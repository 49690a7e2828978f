from django.contrib import admin

from homework.models import (
    HomeworkItem,
    HomeworkPolicy,
    HomeworkRevision,
    Inspection,
    InspectionIssue,
    ParentReport,
    Survey,
)
from portal.admin import AuditedAdmin, PolicyAdmin, ReadOnlyAdmin


@admin.register(HomeworkPolicy)
class HomeworkPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "limit_grades_1_2", "limit_grades_3_6", "limit_grades_7_9",
                    "count_optional", "count_non_written", "min_reports"]  # fmt: skip


@admin.register(HomeworkItem)
class HomeworkItemAdmin(ReadOnlyAdmin):
    list_display = ["date", "school_class", "subject", "minutes", "required", "written", "status"]
    list_filter = ["status", "subject", "school_class__school__district"]
    date_hierarchy = "date"
    list_select_related = ["school_class", "school_class__school"]
    search_fields = ["school_class__school__name", "content"]


@admin.register(HomeworkRevision)
class HomeworkRevisionAdmin(ReadOnlyAdmin):
    list_display = ["item", "changed_by", "changed_at"]
    list_select_related = ["item", "changed_by"]


class InspectionIssueInline(admin.TabularInline):
    model = InspectionIssue
    extra = 1
    fields = ["description", "follow_up", "closed_at"]


@admin.register(Inspection)
class InspectionAdmin(AuditedAdmin):
    list_display = ["date", "school", "level", "recorded_by"]
    list_filter = ["level", "school__district"]
    date_hierarchy = "date"
    inlines = [InspectionIssueInline]
    autocomplete_fields = ["school"]
    filter_horizontal = ["classes"]
    exclude = ["recorded_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ParentReport)
class ParentReportAdmin(ReadOnlyAdmin):
    list_display = ["date", "school_class", "minutes"]
    list_select_related = ["school_class"]
    date_hierarchy = "date"


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["title", "school_class", "start", "end"]
    list_select_related = ["school_class"]


from homework.design_admin import *  # noqa: E402, F401, F403
