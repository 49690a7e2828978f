"""The funding part in the admin: read-only (grants are posted and pay reported through the
pages and afterschool/funding.py, the one door that writes them)."""

from django.contrib import admin

from afterschool.funding_models import SubsidyGrant, TeacherPay
from portal.admin import ReadOnlyAdmin

__all__ = ["SubsidyGrantAdmin", "TeacherPayAdmin"]


@admin.register(SubsidyGrant)
class SubsidyGrantAdmin(ReadOnlyAdmin):
    list_display = ["school", "term", "pupils", "share_percent", "per_pupil_year", "amount"]
    list_select_related = ["school", "term"]
    list_filter = ["term"]


@admin.register(TeacherPay)
class TeacherPayAdmin(ReadOnlyAdmin):
    list_display = ["school", "staff", "month", "lessons", "amount", "reported_at"]
    list_select_related = ["school", "staff"]
    list_filter = ["month"]
