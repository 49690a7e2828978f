from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.models import (
    AuditLog,
    CalendarDay,
    CalendarYear,
    CheckRun,
    Child,
    District,
    Finding,
    Notice,
    Parent,
    School,
    SchoolClass,
    SchoolPeriod,
    SchoolStaff,
)
from portal.services import delete_audited, delete_audited_queryset, save_audited


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete in the admin goes through portal.services, which opens its own
    transaction and writes the audit row in it: the bulk delete action runs outside the
    admin's atomic change views, and audit_record refuses to run outside a transaction."""

    def save_model(self, request, obj, form, change):
        save_audited(actor=request.user, obj=obj, fields=form.changed_data, created=not change)

    def delete_model(self, request, obj):
        delete_audited(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        delete_audited_queryset(actor=request.user, queryset=queryset)


@admin.display(description=_("编号"), ordering="pk")
def row_number(obj):
    """The row's id as a list column: Django would head a bare "id" column "ID"."""
    return obj.pk


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(AuditedAdmin, UserAdmin):
    """Django's user admin, audited like the rest (who made whom staff, superuser, which
    groups), the password hash left out. Setting another user's password runs in one
    transaction with its audit row (portal.accounts audits every password change)."""

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ["code", "name"]
    search_fields = ["name", "code"]


class SchoolClassInline(admin.TabularInline):
    model = SchoolClass
    extra = 0
    fields = ["grade", "number", "head_teacher"]
    autocomplete_fields = ["head_teacher"]


@admin.register(School)
class SchoolAdmin(AuditedAdmin):
    list_display = ["code", "name", "stage", "district"]
    list_filter = ["district", "stage"]
    search_fields = ["name", "code"]
    list_select_related = ["district"]


@admin.register(SchoolClass)
class SchoolClassAdmin(AuditedAdmin):
    list_display = ["__str__", "school", "head_teacher"]
    list_filter = ["school__district", "grade"]
    search_fields = ["school__name"]
    list_select_related = ["school", "head_teacher"]
    autocomplete_fields = ["school", "head_teacher"]


@admin.register(SchoolStaff)
class SchoolStaffAdmin(AuditedAdmin):
    list_display = ["name", "role", "school", "user"]
    list_filter = ["role", "school__district"]
    search_fields = ["name", "user__username", "school__name"]
    list_select_related = ["school", "user"]
    autocomplete_fields = ["school"]
    raw_id_fields = ["user"]


class ParentAdminForm(forms.ModelForm):
    """The phone number is never a field of the form (its value would be in the page): a
    new number is typed in ``new_phone``, write-only, and the old one stays masked."""

    new_phone = forms.CharField(
        label=_("新手机号"),
        required=False,
        max_length=11,
        validators=Parent._meta.get_field("phone").validators,
        help_text=_("留空则不修改。原号码不在此显示；需要时请用“显示完整号码”（记入审计）。"),
    )

    class Meta:
        model = Parent
        fields = ["user", "name"]

    def clean_new_phone(self):
        phone = (self.cleaned_data.get("new_phone") or "").strip()
        if not phone and self.instance.pk is None:
            raise forms.ValidationError(_("请填写家长的手机号。"))
        return phone


@admin.register(Parent)
class ParentAdmin(AuditedAdmin):
    """Phones masked in the list and the change page (portal.privacy). Staff holding
    portal.view_parent_phone see a full number by a deliberate "show" (a link on the change
    page, or the list's action), audited before it is shown; searching by phone is not
    offered (it would reveal a number a digit at a time)."""

    form = ParentAdminForm
    list_display = ["name", "masked_phone", "user"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]
    actions = ["show_phones"]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return obj.masked_phone

    @admin.display(description=_("手机号"))
    def phone_with_show(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:portal_parent_phone", args=[obj.pk])
        return format_html('{} <a href="{}">{}</a>', obj.masked_phone, url, _("显示完整号码"))

    def get_fields(self, request, obj=None):
        return ["user", "name", *self.get_readonly_fields(request, obj), "new_phone"]

    def get_readonly_fields(self, request, obj=None):
        from portal.privacy import may_see_phone

        if obj is None:
            return []
        return ["phone_with_show" if may_see_phone(request.user) else "masked_phone"]

    def save_model(self, request, obj, form, change):
        fields = [f for f in form.changed_data if f != "new_phone"]
        if form.cleaned_data.get("new_phone"):
            obj.phone = form.cleaned_data["new_phone"]
            fields.append("phone")
        save_audited(actor=request.user, obj=obj, fields=fields, created=not change)

    def has_view_phone_permission(self, request):
        from portal.privacy import may_see_phone

        return may_see_phone(request.user)

    @admin.action(description=_("显示所选家长的完整手机号（记入审计）"), permissions=["view_phone"])
    def show_phones(self, request, queryset):
        from portal.privacy import parent_phones_show

        rows = parent_phones_show(
            actor=request.user, parent_ids=queryset.values_list("pk", flat=True)
        )
        return self._phones_page(request, rows)

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<int:object_id>/phone/",
                self.admin_site.admin_view(self.phone_view),
                name="portal_parent_phone",
            ),
            *super().get_urls(),
        ]

    def phone_view(self, request, object_id):
        """GET: the masked number and a button; POST: audit, then the full number (in the
        response only: no redirect carries it, nothing caches it)."""
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import get_object_or_404

        from portal.privacy import may_see_phone, parent_phones_show

        parent = get_object_or_404(Parent, pk=object_id)
        if not (self.has_view_permission(request, parent) and may_see_phone(request.user)):
            raise PermissionDenied
        if request.method == "POST":
            return self._phones_page(
                request, parent_phones_show(actor=request.user, parent_ids=[parent.pk])
            )
        return self._phones_page(request, [(parent, None)])

    def _phones_page(self, request, rows):
        from django.template.response import TemplateResponse
        from django.utils.cache import add_never_cache_headers

        response = TemplateResponse(request, "admin/portal/parent/phone.html", {
            **self.admin_site.each_context(request),
            "title": _("家长完整手机号"), "opts": self.model._meta, "rows": rows,
        })  # fmt: skip
        add_never_cache_headers(response)
        return response


@admin.register(Child)
class ChildAdmin(AuditedAdmin):
    list_display = ["name", "school", "school_class"]
    list_filter = ["school__district", "school"]
    search_fields = ["name"]
    list_select_related = ["school", "school_class"]
    autocomplete_fields = ["school", "school_class", "parents"]


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedAdmin):
    list_display = ["year", "source", "note"]


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind", "name"]
    date_hierarchy = "date"


@admin.register(SchoolPeriod)
class SchoolPeriodAdmin(AuditedAdmin):
    list_display = ["district", "kind", "name", "start", "end", "status"]
    list_filter = ["district", "kind", "status"]
    actions = ["make_active", "make_closed", "make_archived"]

    def get_readonly_fields(self, request, obj=None):
        from portal.terms import dates_fixed

        fixed = ["start", "end", "kind", "district"] if obj and dates_fixed(obj) else []
        return ["status", *fixed]  # the status moves by the actions below, one step at a time

    def _move(self, request, queryset, to):
        from django.contrib import messages
        from django.core.exceptions import ValidationError

        from portal.terms import term_move

        for term in queryset:
            try:
                term_move(actor=request.user, term_id=term.pk, to=to)
            except ValidationError as exc:
                self.message_user(request, f"{term.name}：{exc.messages[0]}", messages.ERROR)

    @admin.action(description="启用所选学期（草稿 → 进行中）")
    def make_active(self, request, queryset):
        self._move(request, queryset, SchoolPeriod.Status.ACTIVE)

    @admin.action(description="结束所选学期（进行中 → 已结束）")
    def make_closed(self, request, queryset):
        self._move(request, queryset, SchoolPeriod.Status.CLOSED)

    @admin.action(description="归档所选学期（已结束 → 已归档）")
    def make_archived(self, request, queryset):
        self._move(request, queryset, SchoolPeriod.Status.ARCHIVED)


class PolicyAdmin(AuditedAdmin):
    """A one-row policy: it can be changed, not added twice nor deleted."""

    def has_add_permission(self, request):
        return not self.model.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionFilter(admin.SimpleListFilter):
    """The actions in the log, by their words (portal.audit.ACTION_WORDS), not their codes."""

    title = _("动作")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        from portal.audit import action_display

        codes = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
        return [(code, action_display(code)) for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_repr", "action_words", "content_type", "object_repr"]
    list_filter = ["content_type", ActionFilter, "actor"]
    fields = ["at", "actor", "actor_repr", "action_words", "action", "content_type",
              "object_id", "object_repr", "old", "new"]  # fmt: skip
    readonly_fields = ["at", "action_words"]

    @admin.display(description=_("动作"), ordering="action")
    def action_words(self, obj):
        from portal.audit import action_display

        return action_display(obj.action)

    search_fields = ["object_repr", "object_id", "actor_repr", "action"]
    list_select_related = ["content_type", "actor"]
    date_hierarchy = "at"


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
    """One run at a time (portal.compliance): "run again" is refused while a run is
    running; a run whose worker died is marked failed by the periodic sweep after
    PORTAL_CHECK_RUN_TIMEOUT, or here at once by staff who know it is dead."""

    list_display = [
        "for_date",
        "started_at",
        "status",
        "trigger",
        "duration",
        "findings_seen",
        "findings_new",
        "findings_resolved",
    ]
    list_filter = ["status", "trigger"]
    actions = ["run_again", "mark_failed"]

    @admin.display(description=_("用时"))
    def duration(self, obj):
        return obj.duration

    def has_trigger_permission(self, request):
        from portal.compliance import may_trigger

        return may_trigger(request.user)

    @admin.action(description="按所选运行的检查日期重新运行全部检查", permissions=["trigger"])
    def run_again(self, request, queryset):
        from django.contrib import messages

        from portal.compliance import RunInProgress, run_request

        days = sorted(set(queryset.values_list("for_date", flat=True)))
        if len(days) != 1:
            self.message_user(request, "请只选择一个检查日期。", messages.ERROR)
            return
        try:
            run = run_request(actor=request.user, for_date=days[0])
        except RunInProgress as exc:
            self.message_user(request, str(exc).split(" / ")[0], messages.ERROR)
            return
        self.message_user(request, f"已开始检查 {run.for_date}（编号 {run.pk}），完成后在此查看。")

    @admin.action(
        description="将所选运行中的检查标记为失败（不消除任何检查发现）", permissions=["trigger"]
    )
    def mark_failed(self, request, queryset):
        from portal.compliance import run_mark_failed

        marked = [
            pk for pk in queryset.values_list("pk", flat=True)
            if run_mark_failed(actor=request.user, run_id=pk)
        ]  # fmt: skip
        self.message_user(request, f"已将 {len(marked)} 次运行标记为失败。")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = [
        "rule",
        "severity",
        "subject_repr",
        "school",
        "first_seen",
        "last_seen",
        "resolved_at",
    ]
    list_filter = ["severity", "rule", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject_repr", "message", "school__name"]
    list_select_related = ["school"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["user", "message", "created_at", "read_at"]
    search_fields = ["user__username", "message"]
    list_select_related = ["user"]
