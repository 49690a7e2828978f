"""Holiday care in the admin: read-only lists of host sites and their week blocks, with the
actions that fit a list (开放, 关闭) calling afterschool/holiday.py. Designating a host site
(served schools, weeks, hours, fee under the cap) is done on the bureau's page
/holiday/hosts/new/, where the service validates and audits it."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from afterschool import holiday
from afterschool.holiday_models import HostSite, HostWeek
from portal.admin import ReadOnlyAdmin

__all__: list[str] = []


class HostWeekInline(admin.TabularInline):
    model = HostWeek
    extra = 0
    fields = readonly_fields = ["week", "offering"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HostSite)
class HostSiteAdmin(ReadOnlyAdmin):
    list_display = ["site", "vacation", "capacity", "fee_per_week", "status", "created_at"]
    list_filter = ["status", "vacation"]
    list_select_related = ["site", "vacation"]
    search_fields = ["site__name"]
    inlines = [HostWeekInline]
    actions = ["open_hosts", "close_hosts"]

    def _each(self, request, queryset, call, done_word):
        done = 0
        for host in queryset.order_by("pk"):
            try:
                call(host)
                done += 1
            except ValidationError as exc:
                for msg in exc.messages:
                    self.message_user(request, f"{host}：{msg}", messages.ERROR)
        self.message_user(request, f"已{done_word} {done} 个托管点。")

    @admin.action(description="开放所选托管点（按周生成托管课程）")
    def open_hosts(self, request, queryset):
        self._each(
            request, queryset,
            lambda h: holiday.host_open(actor=request.user, host_id=h.pk), "开放",
        )  # fmt: skip

    @admin.action(description="关闭所选托管点（未开始的托管周停止报名）")
    def close_hosts(self, request, queryset):
        self._each(
            request, queryset,
            lambda h: holiday.host_close(actor=request.user, host_id=h.pk,
                                         reason="教育局在管理后台关闭"),
            "关闭",
        )  # fmt: skip


@admin.register(HostWeek)
class HostWeekAdmin(ReadOnlyAdmin):
    list_display = ["host", "week", "offering"]
    list_select_related = ["host__site", "host__vacation", "offering"]
    search_fields = ["host__site__name"]
