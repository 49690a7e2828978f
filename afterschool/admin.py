"""The bureau's door (课后服务 staff): the district's numbers, plans, providers, the menu.

Plans and provider status move only through their services (plans.py, providers.py), so
here they are read-mostly: status fields are read-only and every save is audited.
"""

from django import forms
from django.contrib import admin

from afterschool import providers
from afterschool.models import (
    AfterschoolPolicy,
    Attendance,
    Bill,
    ClosedDay,
    CorrectionRequest,
    Enrolment,
    FeeEntry,
    FeeRule,
    FeeTransaction,
    LeaveRequest,
    Lesson,
    LessonMove,
    Offering,
    Payment,
    PaymentEvent,
    PlanItem,
    Provider,
    ProviderContract,
    ProviderReview,
    Rating,
    Room,
    SchoolPlan,
    Settlement,
    TermSurvey,
    Waiver,
)
from portal.admin import AuditedAdmin, PolicyAdmin, ReadOnlyAdmin, row_number


@admin.register(AfterschoolPolicy)
class AfterschoolPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "min_days", "min_minutes_per_day", "off_work_time",
                    "teacher_subsidy_floor", "attendance_threshold"]  # fmt: skip


class PlanItemInline(admin.TabularInline):
    model = PlanItem
    extra = 0
    fields = readonly_fields = ["name", "teachers"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SchoolPlan)
class SchoolPlanAdmin(ReadOnlyAdmin):
    """Read here; approve and return on the review pages, where the rules and audit run."""

    list_display = ["school", "term", "status", "start_time", "end_time", "updated_at"]
    list_filter = ["status", "school__district", "term"]
    search_fields = ["school__name", "school__code"]
    list_select_related = ["school", "term", "term__district"]
    inlines = [PlanItemInline]


class ContractInline(admin.TabularInline):
    model = ProviderContract
    extra = 0
    fields = ["items", "price_per_lesson", "outside_price", "start", "end"]


class ReviewInline(admin.TabularInline):
    model = ProviderReview
    extra = 0
    fields = ["year", "passed", "date", "note"]


class ProviderForm(forms.ModelForm):
    class Meta:
        model = Provider
        fields = providers.PROVIDER_FIELDS

    def clean_credit_code(self):
        from institutions import uscc

        code = (self.cleaned_data.get("credit_code") or "").strip().upper()
        problem = uscc.problem(code)
        if problem:
            raise forms.ValidationError(problem)
        return code

    def clean(self):
        data = super().clean()
        if data.get("staff_vetted") and not (data.get("vetting_note") or "").strip():
            self.add_error(
                "vetting_note", "请填写人员审查记录（如无犯罪记录查询情况、审查人、日期）。"
            )
        return data


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    form = ProviderForm
    list_display = ["name", "credit_code", "status", "admitted_on", "exited_on"]
    list_filter = ["status"]
    search_fields = ["name", "credit_code"]
    autocomplete_fields = ["institution"]
    # status moves (admission, exit) go through afterschool.providers, which checks the
    # qualification, the contract and the institution's colour, and closes offerings
    readonly_fields = ["status", "admitted_on", "exited_on", "exit_reason"]
    inlines = [ContractInline, ReviewInline]

    def save_model(self, request, obj, form, change):
        # through the service: a new provider is an application (its code checked), a
        # change is audited
        providers.provider_save(actor=request.user, provider=obj)

    def save_formset(self, request, form, formset, change):
        providers.provider_inlines_save(actor=request.user, formset=formset)


@admin.register(Offering)
class OfferingAdmin(ReadOnlyAdmin):
    list_display = ["name", "school", "kind", "weekday", "start", "end", "capacity", "status"]
    list_filter = ["status", "kind", "school__district"]
    search_fields = ["name", "school__name"]
    list_select_related = ["school"]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ["child", "offering", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["child__name", "offering__name"]
    list_select_related = ["child", "offering", "offering__school"]


@admin.register(FeeRule)
class FeeRuleAdmin(AuditedAdmin):
    """Each school's billing and refund rule (a school without one: monthly, refund of
    lessons not held and on leave, 10 days to pay, 50元 subsidy)."""

    list_display = ["school", "period", "refund", "due_days", "subsidy_per_lesson"]
    list_filter = ["period", "refund", "school__district"]
    search_fields = ["school__name"]
    list_select_related = ["school"]
    autocomplete_fields = ["school"]


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    """Bills, payments and the ledger are written by their services only (afterschool.fees,
    afterschool.payments); here they are read."""

    list_display = ["child", "school", "period_start", "period_end", "amount", "status", "due_on"]
    list_filter = ["status", "kind", "school__district"]
    search_fields = ["child__name", "school__name"]
    list_select_related = ["child", "school"]
    date_hierarchy = "period_start"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "provider", "amount", "status", "created_at", "paid_at"]
    list_filter = ["status", "provider"]
    search_fields = ["reference", "note"]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_id", "payment", "outcome", "received_at"]
    list_filter = ["provider", "outcome"]
    search_fields = ["event_id"]


class FeeEntryInline(admin.TabularInline):
    model = FeeEntry
    extra = 0
    can_delete = False
    fields = readonly_fields = ["account", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FeeTransaction)
class FeeTransactionAdmin(ReadOnlyAdmin):
    list_display = [row_number, "kind", "school", "bill", "created_at", "memo"]
    list_filter = ["kind"]
    list_select_related = ["school", "bill"]
    inlines = [FeeEntryInline]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["school", "term", "fees", "providers", "subsidies", "pool", "posted_at"]
    list_select_related = ["school", "term"]


@admin.register(Waiver)
class WaiverAdmin(ReadOnlyAdmin):
    list_display = ["child", "term", "percent", "reason", "created_at"]
    list_select_related = ["child", "term"]


@admin.register(Lesson)
class LessonAdmin(ReadOnlyAdmin):
    list_display = ["offering", "date", "status", "teacher_in_at", "teacher_out_at"]
    list_filter = ["status", "offering__school__district"]
    list_select_related = ["offering"]
    date_hierarchy = "date"


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ["lesson", "child", "mark", "recorded_at"]
    list_filter = ["mark"]
    list_select_related = ["lesson__offering", "child"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["offering", "stars", "at"]
    list_select_related = ["offering"]


@admin.register(TermSurvey)
class TermSurveyAdmin(ReadOnlyAdmin):
    list_display = ["school", "term", "answer", "at"]
    list_filter = ["answer"]
    list_select_related = ["school", "term"]


@admin.register(Room)
class RoomAdmin(ReadOnlyAdmin):
    list_display = ["school", "name", "capacity"]
    list_select_related = ["school"]
    search_fields = ["name", "school__name"]


@admin.register(ClosedDay)
class ClosedDayAdmin(ReadOnlyAdmin):
    list_display = ["school", "date", "reason", "created_at"]
    list_select_related = ["school"]
    date_hierarchy = "date"


@admin.register(LessonMove)
class LessonMoveAdmin(ReadOnlyAdmin):
    list_display = ["lesson", "from_date", "to_date", "to_start", "reason", "at", "undone_at"]
    list_select_related = ["lesson__offering"]


@admin.register(LeaveRequest)
class LeaveRequestAdmin(ReadOnlyAdmin):
    list_display = ["lesson", "child", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["lesson__offering", "child"]


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnlyAdmin):
    list_display = ["attendance", "mark", "status", "reason", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["attendance__lesson__offering", "attendance__child"]


# care beyond the school day and funding, one admin module per part
from afterschool.funding_admin import *  # noqa: E402,F401,F403
from afterschool.holiday_admin import *  # noqa: E402,F401,F403
from afterschool.lunch_admin import *  # noqa: E402,F401,F403
from afterschool.people_admin import *  # noqa: E402,F401,F403
from afterschool.sites_admin import *  # noqa: E402,F401,F403
