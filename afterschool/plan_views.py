"""Plan pages: a school files its plan (一校一案), the bureau's 课后服务 staff review it.

The forms live here rather than in forms.py because only these pages use them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from afterschool import plans
from afterschool.models import WEEKDAY_NAMES, AfterschoolPolicy, PlanItem, SchoolPlan
from portal import params
from portal.access import get_scoped_or_404, scope
from portal.models import SchoolPeriod
from portal.permissions import SCHOOL, bureau_required, kind_required, school_manager_required
from portal.views import errors_to_form

Status = SchoolPlan.Status


class PlanForm(forms.Form):
    term = forms.ModelChoiceField(
        label=_("学期或假期"), queryset=SchoolPeriod.objects.none(), empty_label="—",
        error_messages={"required": _("请选择学期。"),
                        "invalid_choice": _("请选择本区的学期或假期。")},
    )  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        label=_("服务日"),
        choices=[(i, f"周{name}") for i, name in enumerate(WEEKDAY_NAMES)],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请选择服务日。")},
    )
    start_time = forms.TimeField(
        label=_("每日开始"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": _("请填写开始时间。"), "invalid": _("时间格式如 15:30。")},
    )  # fmt: skip
    end_time = forms.TimeField(
        label=_("每日结束"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": _("请填写结束时间。"), "invalid": _("时间格式如 17:30。")},
    )  # fmt: skip
    items = forms.CharField(
        label=_("服务内容（作业辅导、托管、拓展课程等）"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, district_id, **kwargs):
        super().__init__(*args, **kwargs)
        # plans are filed only for a draft or active term or vacation (plans.FILING_TERMS):
        # a vacation's plan is the school's holiday care (afterschool.holiday)
        self.fields["term"].queryset = SchoolPeriod.objects.filter(
            district_id=district_id, status__in=plans.FILING_TERMS
        ).order_by("-start")


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip


class PlanItemForm(forms.Form):
    name = forms.CharField(
        label=_("服务项目"), max_length=100, error_messages={"required": _("请填写服务项目。")}
    )
    activity = forms.ChoiceField(
        label=_("活动类型"), choices=PlanItem.Activity.choices,
        error_messages={"required": _("请选择活动类型。"),
                        "invalid_choice": _("请选择活动类型。")},
    )  # fmt: skip
    teachers = forms.IntegerField(
        label=_("计划教师人数"), min_value=1, max_value=500, initial=1,
        error_messages={"required": _("请填写计划教师人数。"),
                        "min_value": _("计划教师人数至少为 1。")},
    )  # fmt: skip


def _initial(plan: SchoolPlan) -> dict:
    return {
        "term": plan.term_id, "weekdays": plan.weekdays, "start_time": plan.start_time,
        "end_time": plan.end_time, "items": plan.items,
    }  # fmt: skip


def _scoped_plans(user):
    return scope(SchoolPlan.objects.select_related("term", "school"), user)


# --- schools ------------------------------------------------------------------------------


@kind_required(SCHOOL)
def plan_list(request):
    rows = [(p, plans.weekdays_label(p.weekdays)) for p in _scoped_plans(request.user)]
    return render(
        request,
        "afterschool/plan_list.html",
        {"rows": rows, "can_edit": plans.may_edit(request.user)},
    )


@school_manager_required
def plan_new(request):
    staff = request.user.school_staff
    form = PlanForm(request.POST or None, district_id=staff.school.district_id)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plans.plan_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "方案已保存为草稿，核对无误后请提交。")
            return redirect("afterschool:plan_edit", pk=plan.pk)
    return render(
        request,
        "afterschool/plan_form.html",
        {"form": form, "plan": None, "policy": AfterschoolPolicy.current()},
    )


@kind_required(SCHOOL)
def plan_edit(request, pk):
    plan = get_scoped_or_404(
        SchoolPlan.objects.select_related("term", "school"), request.user, pk=pk
    )
    editable = plans.may_edit(request.user, plan) and plan.status in plans.EDITABLE
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = None
    if editable:
        form = PlanForm(
            request.POST or None, initial=_initial(plan), district_id=plan.school.district_id
        )
        if request.method == "POST" and form.is_valid():
            try:
                plans.plan_save(actor=request.user, plan_id=plan.pk, **form.cleaned_data)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, "方案已保存。")
                return redirect("afterschool:plan_edit", pk=plan.pk)
    return _plan_page(request, plan, form, editable, PlanItemForm() if editable else None)


def _plan_page(request, plan, form, editable, item_form):
    return render(
        request,
        "afterschool/plan_form.html",
        {
            "form": form,
            "plan": plan,
            "weekdays": plans.weekdays_label(plan.weekdays),
            "policy": AfterschoolPolicy.current(),
            "can_submit": editable,
            "items": plan.plan_items.order_by("pk"),
            "item_form": item_form,
            "morning": plans.holiday_morning(),
        },
    )


@require_POST
@school_manager_required
def plan_item_add(request, pk):
    """Add an activity to the plan (a vacation plan refuses 学科辅导)."""
    plan = get_scoped_or_404(
        SchoolPlan.objects.select_related("term", "school"), request.user, pk=pk
    )
    editable = plans.may_edit(request.user, plan) and plan.status in plans.EDITABLE
    if not editable:
        raise PermissionDenied
    item_form = PlanItemForm(request.POST)
    if item_form.is_valid():
        try:
            plans.plan_item_save(actor=request.user, plan_id=plan.pk, **item_form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(item_form, exc)
        else:
            messages.success(request, "已添加服务项目。")
            return redirect("afterschool:plan_edit", pk=plan.pk)
    form = PlanForm(initial=_initial(plan), district_id=plan.school.district_id)
    return _plan_page(request, plan, form, editable, item_form)


@require_POST
@school_manager_required
def plan_submit(request, pk):
    plan = get_scoped_or_404(SchoolPlan.objects.all(), request.user, pk=pk)
    try:  # plan_submit refuses (403) anyone but the plan's school's principal or 教导处
        plans.plan_submit(actor=request.user, plan_id=plan.pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"未能提交：{message}")
    else:
        messages.success(request, "方案已提交区教育局审核。")
    return redirect("afterschool:plan_edit", pk=plan.pk)


# --- bureau -------------------------------------------------------------------------------


# Bureau staff who may decide plans (the 课后服务 group); others 403, anonymous the login.
for_plan_reviewers = bureau_required(line="afterschool", perm=plans.DECIDE_PERM)


REVIEW_FILTERS = [Status.SUBMITTED, Status.APPROVED, Status.IN_EFFECT, Status.RETURNED]


@for_plan_reviewers
def plan_review_list(request):
    status = params.query_choice(request, "status", Status.values, default=Status.SUBMITTED)
    rows = (
        SchoolPlan.objects.filter(status=status)
        .select_related("school", "school__district", "term")
        .order_by("updated_at", "pk")
    )
    return render(
        request,
        "afterschool/plan_review_list.html",
        {
            "rows": [(p, plans.weekdays_label(p.weekdays)) for p in rows],
            "status": status,
            "filters": [(s.value, s.label) for s in REVIEW_FILTERS],
        },
    )


# The decisions staff may take on this page: POST "action" -> (service, kwargs).
ACTIONS = {
    "approve": (plans.plan_decide, {"approve": True}, "已批准。"),
    "return": (plans.plan_decide, {"approve": False}, "已退回学校。"),
    "start": (plans.plan_start, {}, "方案已开始实施。"),
    "close": (plans.plan_close, {}, "方案已结束。"),
}


@for_plan_reviewers
def plan_review(request, pk):
    plan = get_object_or_404(
        SchoolPlan.objects.select_related("school", "school__district", "term"), pk=pk
    )
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            form.add_error(None, "请选择批准、退回、开始实施或结束。")
        elif form.is_valid():
            service, kwargs, done = action
            if service is plans.plan_decide:
                kwargs = {**kwargs, "reason": form.cleaned_data["reason"]}
            try:
                service(actor=request.user, plan_id=plan.pk, **kwargs)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"{plan.school.name}：{done}")
                return redirect("afterschool:plan_review", pk=plan.pk)
    policy = AfterschoolPolicy.current()
    allowed = SchoolPlan.TRANSITIONS[Status(plan.status)]
    return render(
        request,
        "afterschool/plan_review.html",
        {
            "plan": plan,
            "form": form,
            "weekdays": plans.weekdays_label(plan.weekdays),
            "problems": [m for ms in plans.plan_problems(plan, policy).values() for m in ms],
            "can_approve": Status.APPROVED in allowed,
            "can_return": Status.RETURNED in allowed,
            "can_start": Status.IN_EFFECT in allowed,
            "can_close": Status.CLOSED in allowed,
        },
    )
