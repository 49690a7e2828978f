"""Admin of 阳光分班 (imported by governance/admin.py). Read-only: every step is a service
(governance/draw.py) called from the staff pages (/draw/staff/), linked from each row. The
seed is shown only once the draw was run (before, it is the secret of the commitment)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from governance.draw_models import Draw, DrawPupil
from portal.admin import ReadOnlyAdmin

__all__: list[str] = []  # governance/admin.py star-imports this module for its registrations


class DrawPupilInline(admin.TabularInline):
    model = DrawPupil
    extra = 0
    can_delete = False
    fields = ["number", "name", "gender", "band", "class_number", "row"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "class_count", "status", "scheduled_at", "handle"]
    list_filter = ["status", "grade", "year"]
    list_select_related = ["school"]
    fields = ["school", "grade", "year", "class_count", "scheduled_at", "status", "use_bands",
              "teachers", "input_sha256", "seed_sha256", "revealed_seed", "published_at",
              "drawn_at", "supersedes", "redraw_reason", "handle"]  # fmt: skip
    readonly_fields = fields
    inlines = [DrawPupilInline]

    @admin.display(description=_("随机种子"))
    def revealed_seed(self, obj):
        return obj.seed if obj.seed_revealed else _("抽签时公开")

    @admin.display(description=_("办理"))
    def handle(self, obj):
        return format_html('<a href="{}">办理</a>', reverse("draw:detail", args=[obj.pk]))
