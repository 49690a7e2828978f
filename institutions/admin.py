from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from institutions import services, uscc
from institutions.account_admin import *  # noqa: F401, F403
from institutions.claim_admin import *  # noqa: F401, F403
from institutions.complaint_admin import *  # noqa: F401, F403
from institutions.enforcement_admin import *  # noqa: F401, F403
from institutions.escrow_admin import *  # noqa: F401, F403  (the escrow's own admin)
from institutions.models import (
    AnnualReview,
    Course,
    CourseSlot,
    GovernanceStep,
    Institution,
    ListChange,
    PriceTier,
    SupervisedAccount,
    TrainingPolicy,
)
from institutions.refund_admin import *  # noqa: F401, F403
from institutions.sale_admin import *  # noqa: F401, F403
from portal.admin import AuditedAdmin, PolicyAdmin, ReadOnlyAdmin


class InstitutionForm(forms.ModelForm):
    class Meta:
        model = Institution
        fields = [
            "name", "credit_code", "credit_code_override", "credit_code_override_reason",
            "category", "subjects", "mode", "nature", "address", "district", "scale",
            "licence_number", "licence_issued", "licence_expires", "licence_revoked",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        code = (data.get("credit_code") or "").strip().upper()
        data["credit_code"] = code
        problem = uscc.problem(code)
        if problem and not data.get("credit_code_override"):
            self.add_error(
                "credit_code", f"{problem}如确为历史遗留代码，请勾选“校验位例外”并说明理由。"
            )
        if (
            data.get("credit_code_override")
            and not (data.get("credit_code_override_reason") or "").strip()
        ):
            self.add_error("credit_code_override_reason", "使用校验位例外时必须说明理由。")
        return data


class AnnualReviewInline(admin.TabularInline):
    model = AnnualReview
    extra = 0


class GovernanceStepInline(admin.TabularInline):
    model = GovernanceStep
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "date", "note", "actor", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class SupervisedAccountInline(admin.StackedInline):
    model = SupervisedAccount
    extra = 0


class GovernanceForm(forms.Form):
    to = forms.ChoiceField(label="变更为", choices=Institution.Governance.choices)
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", max_length=300)


class SuspendForm(forms.Form):
    reason = forms.CharField(label="暂停原因（为空则恢复）", max_length=300, required=False)


@admin.register(Institution)
class InstitutionAdmin(AuditedAdmin):
    form = InstitutionForm
    list_display = ["name", "credit_code", "category", "district", "governance",
                    "licence_expires", "actions_links"]  # fmt: skip
    list_filter = ["category", "governance", "district", "mode"]
    search_fields = ["name", "credit_code", "licence_number"]
    list_select_related = ["district"]
    inlines = [SupervisedAccountInline, AnnualReviewInline, GovernanceStepInline]

    @admin.display(description="办理")
    def actions_links(self, obj):
        return format_html(
            '<a href="{}">治理进度</a> · <a href="{}">暂停/恢复</a> · <a href="{}">课程</a>',
            reverse("admin:institutions_institution_governance", args=[obj.pk]),
            reverse("admin:institutions_institution_suspend", args=[obj.pk]),
            reverse("institutions:course_new", args=[obj.pk]),
        )

    # Every write goes through institutions.services, the same door as the Excel import and
    # the staff pages: registration with its checks, the audited change, the inlines with
    # the list colour they decide, the audited delete.

    def save_model(self, request, obj, form, change):
        if change:
            services.institution_change(
                actor=request.user, institution=obj, changed=form.changed_data
            )
            return
        data = {
            name: getattr(obj, name)
            for name in form.Meta.fields
            if name not in ("credit_code_override", "credit_code_override_reason")
        }
        services.institution_register(
            actor=request.user,
            instance=obj,
            override=obj.credit_code_override,
            override_reason=obj.credit_code_override_reason,
            **data,
        )

    def save_formset(self, request, form, formset, change):
        services.institution_inline_save(
            actor=request.user, institution=form.instance, formset=formset
        )

    def delete_model(self, request, obj):
        services.institutions_delete(actor=request.user, institution_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        services.institutions_delete(
            actor=request.user, institution_ids=list(queryset.values_list("pk", flat=True))
        )

    def get_urls(self):
        return [
            path("<int:pk>/governance/", self.admin_site.admin_view(self.governance_view),
                 name="institutions_institution_governance"),
            path("<int:pk>/suspend/", self.admin_site.admin_view(self.suspend_view),
                 name="institutions_institution_suspend"),
            *super().get_urls(),
        ]  # fmt: skip

    def _page(self, request, institution, form, title):
        return render(request, "admin/institutions/action.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "original": institution, "form": form, "title": title,
        })  # fmt: skip

    def governance_view(self, request, pk):
        institution = get_object_or_404(Institution, pk=pk)
        if not self.has_change_permission(request, institution):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = GovernanceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.governance_move(actor=request.user, institution_id=pk, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "治理进度已更新。")
                return redirect(reverse("admin:institutions_institution_change", args=[pk]))
        return self._page(request, institution, form, f"治理进度：{institution.name}")

    def suspend_view(self, request, pk):
        institution = get_object_or_404(Institution, pk=pk)
        if not self.has_change_permission(request, institution):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = SuspendForm(request.POST or None, initial={"reason": institution.suspended_reason})
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            if reason.strip():
                services.institution_suspend(actor=request.user, institution_id=pk, reason=reason)
                messages.success(request, "已暂停，白名单已随之更新。")
            else:
                services.institution_resume(actor=request.user, institution_id=pk)
                messages.success(request, "已恢复。")
            return redirect(reverse("admin:institutions_institution_change", args=[pk]))
        return self._page(request, institution, form, f"暂停办学：{institution.name}")


class CourseSlotInline(admin.TabularInline):
    model = CourseSlot
    extra = 0
    readonly_fields = ["weekday", "start", "end"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    """Courses are written through the course page, which checks prices and times."""

    list_display = ["name", "institution", "subject", "class_size", "price_per_lesson",
                    "edit_link"]  # fmt: skip
    list_select_related = ["institution"]
    search_fields = ["name", "institution__name"]
    inlines = [CourseSlotInline]

    @admin.display(description="修改")
    def edit_link(self, obj):
        return format_html(
            '<a href="{}">修改</a>', reverse("institutions:course_edit", args=[obj.pk])
        )


@admin.register(PriceTier)
class PriceTierAdmin(AuditedAdmin):
    list_display = ["min_size", "max_size", "cap"]


@admin.register(TrainingPolicy)
class TrainingPolicyAdmin(PolicyAdmin):
    pass


@admin.register(ListChange)
class ListChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "institution", "colour"]
    list_filter = ["colour"]
    list_select_related = ["institution"]
