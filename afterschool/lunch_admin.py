"""The lunch part in the admin: read-only (months are opened, and children enrolled and
taken out, through afterschool/lunch.py from the pages)."""

from django.contrib import admin

from afterschool.lunch_models import LunchChoice, LunchMonth

__all__: list[str] = []


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LunchMonth)
class LunchMonthAdmin(ReadOnly):
    list_display = ["school", "month", "beds", "fee_per_month", "offering"]
    list_filter = ["month"]
    search_fields = ["school__name"]
    list_select_related = ["school", "offering"]


@admin.register(LunchChoice)
class LunchChoiceAdmin(ReadOnly):
    list_display = ["enrolment", "arrangement", "days"]
    list_filter = ["arrangement"]
    list_select_related = ["enrolment__child", "enrolment__offering"]
