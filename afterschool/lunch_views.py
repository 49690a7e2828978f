"""Pages of lunch-break care (午托), mounted at /lunch/ (namespace "lunch").

- School staff: the months of their school (seats, beds, waiting), a month's pupils and its
  breaks; the principal or 教导处 open a month and take a child out; the roll-call of a
  break (the principal, 教导处 or the month's duty teacher).
- Parents: each child's months, enrolment with days and arrangement, withdrawal.
- The principal, 教导处 (their school) and bureau staff of the after-school line (every
  school): the monthly report of pupils per arrangement, as a page and as Excel.

The doors stay thin: parse, call one service of afterschool/lunch.py, render or redirect.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from afterschool import lunch, lunch_exports
from afterschool import lunch_selectors as sel
from afterschool.lessons import may_take_roll, roll_open
from afterschool.lunch_forms import ChangeForm, EnrolForm, MonthForm, WithdrawForm
from afterschool.lunch_models import LunchMonth
from afterschool.models import Attendance, Enrolment, Room
from portal import params
from portal.access import get_scoped_or_404
from portal.models import SchoolStaff
from portal.permissions import is_school_manager, passes, school_manager_required
from portal.views import errors_to_form, messages_from

ERROR_STATUS = 400


@passes(sel.is_school_user)
def index(request):
    return render(request, "afterschool/lunch_index.html", {
        "months": sel.months(request.user),
        "manager": is_school_manager(request.user),
        "today_lessons": sel.lunch_lessons(request.user).filter(date=timezone.localdate()),
    })  # fmt: skip


def _month_form(request, data=None):
    school_id = request.user.school_staff.school_id
    return MonthForm(
        data,
        rooms=Room.objects.filter(school_id=school_id).order_by("name"),
        staff=SchoolStaff.objects.filter(school_id=school_id).order_by("name"),
    )


@school_manager_required
def month_open(request):
    if request.method != "POST":
        return render(request, "afterschool/lunch_open.html", {"form": _month_form(request)})
    form = _month_form(request, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            opened = lunch.month_open(
                user=request.user, month=d["month"], seats=d["seats"], beds=d["beds"],
                fee_per_month=d["fee_per_month"], days=d["days"], room_id=d["room"],
                start=d["start"], end=d["end"], teacher_id=d["teacher"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已开设{opened.offering.name}。")
            return redirect("lunch:month", pk=opened.pk)
    return render(request, "afterschool/lunch_open.html", {"form": form}, status=ERROR_STATUS)


@passes(sel.is_school_user)
def month(request, pk):
    lunch_month = get_scoped_or_404(sel.months(request.user), request.user, pk=pk)
    rows = list(sel.month_enrolments(lunch_month))
    return render(request, "afterschool/lunch_month.html", {
        "m": lunch_month, "enrolled": [e for e in rows if e.status == "enrolled"],
        "waiting": [e for e in rows if e.status == "waiting"],
        "lessons": sel.month_lessons(lunch_month), "manager": is_school_manager(
            request.user, lunch_month.school_id),
        "today": timezone.localdate(),
    })  # fmt: skip


@require_POST
@school_manager_required
def change(request, pk):
    lunch_month = get_scoped_or_404(LunchMonth.objects.all(), request.user, pk=pk)
    form = ChangeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        lunch.month_change(
            user=request.user,
            month_id=lunch_month.pk,
            seats=form.cleaned_data["seats"],
            beds=form.cleaned_data["beds"],
        )
        messages.success(request, "已调整名额和床位，候补名单按顺序递补。")
    except ValidationError as exc:
        messages_from(request, exc)
    return redirect("lunch:month", pk=lunch_month.pk)


@require_POST
@school_manager_required
def staff_withdraw(request, pk):
    e = get_scoped_or_404(
        Enrolment.objects.filter(offering__kind="lunch").select_related("offering__lunch_month"),
        request.user, pk=pk,
    )  # fmt: skip
    form = WithdrawForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("退出原因：最多 200 字。")
        lunch.withdraw_by_staff(
            user=request.user, enrolment_id=e.pk, reason=form.cleaned_data["reason"]
        )
        messages.success(request, "已办理退出，名额和床位按候补顺序递补。")
    except ValidationError as exc:
        messages_from(request, exc)
    return redirect("lunch:month", pk=e.offering.lunch_month.pk)


@passes(sel.is_school_user)
def roll(request, pk):
    lesson = get_scoped_or_404(sel.lunch_lessons(request.user), request.user, pk=pk)
    if not may_take_roll(request.user, lesson):
        raise PermissionDenied
    expected = lunch.expected(lesson)
    if request.method == "POST":
        marks = {e.child_id: request.POST.get(f"mark_{e.child_id}", "") for e in expected}
        try:
            lunch.roll_take(user=request.user, lesson_id=lesson.pk, marks=marks)
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            absent = sum(1 for m in marks.values() if m == Attendance.Mark.ABSENT)
            messages.success(request, f"点名已提交：应到 {len(marks)} 人，缺勤 {absent} 人。")
            return redirect("lunch:roll", pk=lesson.pk)
        lesson.refresh_from_db()
    marks = {a.child_id: a.get_mark_display() for a in lesson.attendance.all()}
    return render(request, "afterschool/lunch_roll.html", {
        "lesson": lesson, "m": lesson.offering.lunch_month,
        "rows": [(e, marks.get(e.child_id)) for e in expected],
        "marks": Attendance.Mark.choices, "can_roll": roll_open(lesson),
        "typed": request.POST if request.method == "POST" else {},
    })  # fmt: skip


@passes(sel.is_parent)
def parent(request):
    rows = sel.parent_view(request.user, timezone.localdate())
    return render(request, "afterschool/lunch_parent.html", {
        "rows": [(child, [(m, e, EnrolForm(initial={"child": child.pk, "days": m.days}),
                           lunch.waiting_reason(e) if e else "") for m, e in months])
                 for child, months in rows],
    })  # fmt: skip


@require_POST
@passes(sel.is_parent)
def enrol(request, pk):
    lunch_month = get_scoped_or_404(LunchMonth.objects.all(), request.user, pk=pk)
    form = EnrolForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            taken = lunch.enrol(
                user=request.user, child_id=d["child"], month_id=lunch_month.pk,
                arrangement=d["arrangement"], days=d["days"],
            )  # fmt: skip
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            if taken.status == Enrolment.Status.WAITING:
                messages.warning(request, lunch.waiting_reason(taken))
            else:
                messages.success(request, f"{taken.child.name}已报名{lunch_month.offering.name}。")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("lunch:parent")


@require_POST
@passes(sel.is_parent)
def withdraw(request, pk):
    e = get_scoped_or_404(Enrolment.objects.filter(offering__kind="lunch"), request.user, pk=pk)
    try:
        lunch.withdraw(user=request.user, enrolment_id=e.pk)
        messages.success(request, "已取消午托报名。")
    except ValidationError as exc:
        messages_from(request, exc)
    return redirect("lunch:parent")


def _report_month(request) -> dt.date:
    """?month=YYYY-MM (a malformed one is the Chinese 400 naming it); absent: this month."""
    raw = params.query_month(request, "month")
    if raw is None:
        return timezone.localdate().replace(day=1)
    return dt.datetime.strptime(raw, "%Y-%m").date()


@passes(sel.may_report)
def report(request):
    chosen = _report_month(request)
    rows = sel.report(request.user, chosen)
    totals = {k: sum(r[k] for r in rows) for k in ("seats", "beds", "bed", "desk", "total",
                                                   "waiting")}  # fmt: skip
    return render(request, "afterschool/lunch_report.html", {
        "rows": rows, "month": chosen, "totals": totals,
    })  # fmt: skip


@passes(sel.may_report)
def report_xlsx(request):
    chosen = _report_month(request)
    response = HttpResponse(
        lunch_exports.report_xlsx(request.user, chosen),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="lunch-{chosen:%Y-%m}.xlsx"'
    return response
