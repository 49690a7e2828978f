"""Admin of the exam calendars (考试安排) (imported by governance/admin.py).

Audited saves (portal.admin.AuditedAdmin) for the bureau's corrections; a row saved here is
not held to the entry rules of governance/exams.py, which is why the nightly check
(governance/exam_checks.py) reads every row with the same rules."""

from django.contrib import admin

from governance.exam_models import Exam
from portal.admin import AuditedAdmin

__all__: list[str] = []


@admin.register(Exam)
class ExamAdmin(AuditedAdmin):
    list_display = ["school", "date", "grade", "subject", "kind", "ranked"]
    list_filter = ["kind", "grade", "school__district"]
    search_fields = ["school__name", "subject"]
    list_select_related = ["school"]
    autocomplete_fields = ["school"]
    readonly_fields = ["created_by", "created_at"]
