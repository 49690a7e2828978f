"""The homework design library in the admin: read-only (reviewing and sharing happen on the
library's pages, /homework/designs/, through homework/designs.py)."""

from django.contrib import admin

from homework.design_models import HomeworkDesign
from portal.admin import ReadOnlyAdmin

__all__ = ["HomeworkDesignAdmin"]


@admin.register(HomeworkDesign)
class HomeworkDesignAdmin(ReadOnlyAdmin):
    list_display = ["title", "school", "grade", "subject", "unit", "status", "shared_on"]
    list_filter = ["status", "subject", "grade"]
    search_fields = ["title", "unit"]
    exclude = ["search_title", "search_body", "search_length"]
