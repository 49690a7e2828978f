"""The course catalogue (公益课程包) in the admin (imported by supply/admin.py).

Read-only lists; the writes are the services of supply/catalogue.py: dispatch (派单) a
package, set schools rural or not (the dispatch rule's key). Publishing, ordering and
recording visits happen on the pages at /catalogue/."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal.admin import ReadOnlyAdmin
from supply import catalogue
from supply.catalogue_models import (
    CatalogueOrder,
    CataloguePackage,
    CatalogueVisit,
    SchoolLocality,
)

__all__: list[str] = []


def _run(modeladmin, request, rows, call, done):
    n = 0
    for row in rows:
        try:
            call(row)
        except ValidationError as exc:
            for msg in exc.messages:
                modeladmin.message_user(request, f"{row}：{msg}", messages.ERROR)
        else:
            n += 1
    if n:
        modeladmin.message_user(request, done.format(n=n), messages.SUCCESS)


@admin.register(CataloguePackage)
class CataloguePackageAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "term", "visits", "places_per_visit", "mode",
                    "status", "created_at"]  # fmt: skip
    list_filter = ["status", "kind", "mode"]
    list_select_related = ["organisation", "term__district"]
    search_fields = ["title", "organisation__name"]
    actions = ["dispatch"]

    @admin.action(description=_("按规则派单（农村、小规模学校优先，再按点单先后）"))
    def dispatch(self, request, queryset):
        _run(self, request, queryset.order_by("pk"),
             lambda p: catalogue.dispatch(actor=request.user, package_id=p.pk),
             "已派单 {n} 个课程包。")  # fmt: skip


@admin.register(CatalogueOrder)
class CatalogueOrderAdmin(ReadOnlyAdmin):
    list_display = ["package", "school", "pupils", "status", "rank", "granted_visits",
                    "granted_places", "ordered_at"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["package", "school"]
    search_fields = ["package__title", "school__name"]


@admin.register(CatalogueVisit)
class CatalogueVisitAdmin(ReadOnlyAdmin):
    list_display = ["order", "date", "pupils_reached", "rating", "confirmed_at"]
    list_select_related = ["order__package", "order__school"]


@admin.register(SchoolLocality)
class SchoolLocalityAdmin(ReadOnlyAdmin):
    list_display = ["school", "rural", "set_by", "set_at"]
    list_filter = ["rural"]
    list_select_related = ["school", "set_by"]
    actions = ["set_rural", "set_urban"]

    @admin.action(description=_("设为农村学校"))
    def set_rural(self, request, queryset):
        _run(self, request, queryset.order_by("pk"),
             lambda r: catalogue.locality_set(actor=request.user, school_id=r.school_id,
                                              rural=True),
             "已设置 {n} 所学校。")  # fmt: skip

    @admin.action(description=_("设为城镇学校"))
    def set_urban(self, request, queryset):
        _run(self, request, queryset.order_by("pk"),
             lambda r: catalogue.locality_set(actor=request.user, school_id=r.school_id,
                                              rural=False),
             "已设置 {n} 所学校。")  # fmt: skip
