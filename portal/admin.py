from django.contrib import admin
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from portal.audit import audit_record
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


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete in the admin leaves an audit row in the same transaction
    (the admin wraps its change views in transaction.atomic)."""

    def _action(self, verb):
        meta = self.model._meta
        return f"{meta.app_label}.{meta.model_name}.{verb}"

    def save_model(self, request, obj, form, change):
        old = None
        if change and obj.pk:
            before = type(obj).objects.filter(pk=obj.pk).first()
            old = {k: model_to_dict(before).get(k) for k in form.changed_data} if before else None
        super().save_model(request, obj, form, change)
        new = {k: model_to_dict(obj).get(k) for k in form.changed_data}
        audit_record(
            actor=request.user,
            action=self._action("changed" if change else "created"),
            obj=obj,
            old=old,
            new=new,
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user, action=self._action("deleted"), obj=obj, old=model_to_dict(obj)
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=request.user,
                action=self._action("deleted"),
                obj=obj,
                old=model_to_dict(obj),
            )
        super().delete_queryset(request, queryset)


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


@admin.register(Parent)
class ParentAdmin(AuditedAdmin):
    list_display = ["name", "masked_phone", "user"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return obj.masked_phone


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


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_repr", "action", "content_type", "object_repr"]
    list_filter = ["content_type", "action", "actor"]
    search_fields = ["object_repr", "object_id", "actor_repr", "action"]
    list_select_related = ["content_type", "actor"]
    date_hierarchy = "at"


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
    list_display = [
        "for_date",
        "started_at",
        "status",
        "duration",
        "findings_seen",
        "findings_new",
        "findings_resolved",
    ]
    list_filter = ["status", "trigger"]


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
