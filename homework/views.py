"""Homework pages: teachers publish (school login), parents read boards and report."""

import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from homework import design_selectors, reports, selectors, services
from homework.forms import (
    CloseIssueForm,
    HomeworkForm,
    InspectionForm,
    ReportForm,
    SurveyAnswerForm,
    SurveyForm,
)
from homework.models import (
    ClassBoard,
    HomeworkItem,
    HomeworkPolicy,
    Inspection,
    InspectionIssue,
    Survey,
    SurveyAnswer,
)
from portal import params
from portal.access import get_scoped_or_404, kind_of, scope
from portal.models import District, School, SchoolClass
from portal.permissions import BUREAU, PARENT, SCHOOL, is_bureau, kind_required
from portal.schoolcalendar import CalendarUnknownDay
from portal.views import errors_to_form


def _day(value: str | None) -> dt.date:
    """A date of the URL's path (absent: today); malformed or out of range → 404."""
    if not value:
        return timezone.localdate()
    return params.path_date(value)


def _query_day(request, name="date") -> dt.date:
    """A date of the query string (absent: today); malformed or out of range → 400."""
    return params.query_date(request, name, default=timezone.localdate())


# --- teachers ----------------------------------------------------------------------------


@kind_required(SCHOOL)
def class_list(request):
    day = _query_day(request)
    policy = HomeworkPolicy.current()
    grade = params.query_int(request, "grade", max_value=12)
    classes = selectors.classes_with_totals(request.user, day, policy, grade=grade)
    rows = [(c, c.total or 0, policy.limit_for(c.grade)) for c in classes]
    return render(request, "homework/class_list.html", {"rows": rows, "day": day, "grade": grade})


@kind_required(SCHOOL)
def class_day(request, pk, date):
    day = _day(date)
    school_class = get_scoped_or_404(
        design_selectors.with_designs_flag(SchoolClass.objects.select_related("school")),
        request.user,
        pk=pk,
    )
    # the design layers the teacher may pick (作业设计库): approved designs of the class's
    # grade, read only when the class's own query says there are some (no extra query else)
    layers = []
    if school_class.has_designs:
        layers = list(design_selectors.usable_layers(school_class.school, grade=school_class.grade))
    form = HomeworkForm(request.POST or None, layers=layers)
    if request.method == "POST" and form.is_valid():
        try:
            services.homework_publish(
                user=request.user, school_class_id=school_class.pk, date=day, **form.cleaned_data
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已公示：{form.cleaned_data['subject']}")
            return redirect("homework:day", pk=school_class.pk, date=day.isoformat())
    policy = HomeworkPolicy.current()
    items = list(selectors.items_for(school_class, [day]))
    total = services.day_total(school_class, day, policy)
    staff = request.user.school_staff
    rows = [(item, services.may_edit(staff, item)) for item in items]
    return render(
        request,
        "homework/class_day.html",
        {
            "school_class": school_class,
            "day": day,
            "rows": rows,
            "total": total,
            "form": form,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
        },
    )


@kind_required(SCHOOL)
def item_edit(request, pk):
    item = get_scoped_or_404(
        HomeworkItem.objects.select_related("school_class", "school_class__school"),
        request.user, pk=pk,
    )  # fmt: skip
    if not services.may_edit(request.user.school_staff, item):
        raise PermissionDenied
    initial = {k: getattr(item, k) for k in services.ITEM_FIELDS}
    initial["required"] = "1" if item.required else "0"
    initial["written"] = "1" if item.written else "0"
    form = HomeworkForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.homework_update(user=request.user, item_id=item.pk, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已修改，原内容保留在修改记录中。")
            return redirect("homework:day", pk=item.school_class_id, date=item.date.isoformat())
    revisions = item.revisions.select_related("changed_by").order_by("-changed_at")
    return render(
        request, "homework/item_edit.html", {"item": item, "form": form, "revisions": revisions}
    )


@require_POST
@kind_required(SCHOOL)
def item_withdraw(request, pk):
    item = get_scoped_or_404(HomeworkItem.objects.all(), request.user, pk=pk)
    services.homework_withdraw(user=request.user, item_id=item.pk)
    messages.success(request, "已撤回。")
    return redirect("homework:day", pk=item.school_class_id, date=item.date.isoformat())


@kind_required(SCHOOL)
def class_week(request, pk, date):
    school_class = get_scoped_or_404(SchoolClass.objects.all(), request.user, pk=pk)
    day = _day(date)
    days, rows, totals, limit = selectors.week_grid(school_class, day)
    return render(request, "homework/week.html", {
        "school_class": school_class, "days": days, "rows": rows, "totals": totals,
        "limit": limit, "public": False,
        "prev": days[0] - dt.timedelta(days=7), "next": days[0] + dt.timedelta(days=7),
    })  # fmt: skip


@kind_required(SCHOOL)
def class_poster(request, pk):
    """The page teachers print for the classroom: the board's QR code and link."""
    school_class = get_scoped_or_404(
        SchoolClass.objects.select_related("school"), request.user, pk=pk
    )
    board = selectors.board_for(school_class)
    url = request.build_absolute_uri(reverse("homework:board", args=[board.token]))
    return render(
        request, "homework/poster.html", {"school_class": school_class, "board": board, "url": url}
    )


@kind_required(SCHOOL)
def class_qr(request, pk):
    import qrcode
    import qrcode.image.svg

    school_class = get_scoped_or_404(SchoolClass.objects.all(), request.user, pk=pk)
    board = selectors.board_for(school_class)
    url = request.build_absolute_uri(reverse("homework:board", args=[board.token]))
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    out = io.BytesIO()
    image.save(out)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


# --- public boards: no login, nothing about pupils ----------------------------------------


def board(request, token):
    board = get_object_or_404(
        ClassBoard.objects.select_related("school_class__school"), token=token
    )
    school_class = board.school_class
    day = _query_day(request)
    policy = HomeworkPolicy.current()
    items = list(selectors.items_for(school_class, [day]))
    total = services.day_total(school_class, day, policy)
    return render(request, "homework/board.html", {
        "board": board, "school_class": school_class, "day": day, "items": items,
        "total": total, "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
    })  # fmt: skip


def board_week(request, token):
    board = get_object_or_404(
        ClassBoard.objects.select_related("school_class__school"), token=token
    )
    days, rows, totals, limit = selectors.week_grid(board.school_class, _query_day(request))
    return render(request, "homework/week.html", {
        "school_class": board.school_class, "days": days, "rows": rows, "totals": totals,
        "limit": limit, "public": True, "board": board,
        "prev": days[0] - dt.timedelta(days=7), "next": days[0] + dt.timedelta(days=7),
    })  # fmt: skip


# --- parents -----------------------------------------------------------------------------


@kind_required(PARENT)
def report(request):
    children = scope(request.user.parent.children.select_related("school_class"), request.user)
    form = ReportForm(
        request.POST or None, children=children, initial={"date": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.report_minutes(
                user=request.user,
                child_id=form.cleaned_data["child"].pk,
                date=form.cleaned_data["date"],
                minutes=form.cleaned_data["minutes"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "谢谢，已记录。")
            return redirect("homework:report")
    boards = [(c, selectors.board_for(c.school_class)) for c in children]
    return render(request, "homework/report.html", {"form": form, "boards": boards})


@kind_required(PARENT)
def survey_answer(request, token):
    # only a parent of a child in the survey's class sees it; anyone else: 404 (the link
    # alone is no permission, and a 404 does not say the survey exists)
    survey = get_object_or_404(
        Survey.objects.select_related("school_class__school")
        .filter(school_class__children__parents__user=request.user)
        .distinct(),
        token=token,
    )
    form = SurveyAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_answer(user=request.user, survey=survey, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return render(request, "homework/survey_done.html", {"survey": survey})
    return render(request, "homework/survey_answer.html", {"survey": survey, "form": form})


# --- surveys and inspections (school staff) -------------------------------------------------


@kind_required(SCHOOL)
def surveys(request):
    classes = scope(SchoolClass.objects.all(), request.user).order_by("grade", "number")
    form = SurveyForm(request.POST or None, classes=classes)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            survey = services.survey_create(
                user=request.user, school_class_id=data.pop("school_class").pk, **data
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            return redirect("homework:survey_results", pk=survey.pk)
    listing = scope(Survey.objects.select_related("school_class"), request.user).order_by("-start")
    return render(request, "homework/surveys.html", {"form": form, "surveys": listing})


@kind_required(SCHOOL)
def survey_results(request, pk):
    from django.db.models import Avg, Count

    survey = get_scoped_or_404(Survey.objects.select_related("school_class"), request.user, pk=pk)
    answers = SurveyAnswer.objects.filter(survey=survey)
    by_load = dict(answers.values_list("load").annotate(n=Count("pk")))
    summary = answers.aggregate(n=Count("pk"), average=Avg("typical_minutes"))
    loads = [(label, by_load.get(value, 0)) for value, label in SurveyAnswer.Load.choices]
    url = request.build_absolute_uri(reverse("homework:survey_answer", args=[survey.token]))
    return render(
        request,
        "homework/survey_results.html",
        {"survey": survey, "loads": loads, "summary": summary, "url": url},
    )


@kind_required(SCHOOL)
def inspections(request):
    classes = scope(SchoolClass.objects.all(), request.user).order_by("grade", "number")
    form = InspectionForm(request.POST or None, classes=classes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.inspection_record(
                user=request.user,
                date=data["date"],
                summary=data["summary"],
                class_ids=[c.pk for c in data["classes"]],
                issues=data["issues"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已记录本次自查。")
            return redirect("homework:inspections")
    listing = (
        scope(Inspection.objects.all(), request.user)
        .prefetch_related("issues", "classes")
        .order_by("-date")
    )
    return render(
        request,
        "homework/inspections.html",
        {"form": form, "inspections": listing, "close_form": CloseIssueForm()},
    )


@require_POST
@kind_required(SCHOOL)
def issue_close(request, pk):
    issue = get_scoped_or_404(InspectionIssue.objects.all(), request.user, pk=pk)
    form = CloseIssueForm(request.POST)
    if form.is_valid():
        services.inspection_issue_close(
            user=request.user, issue_id=issue.pk, follow_up=form.cleaned_data["follow_up"]
        )
        messages.success(request, "问题已关闭。")
    else:
        messages.error(request, "关闭问题前请填写整改情况。")
    return redirect("homework:inspections")


# --- the monthly report --------------------------------------------------------------------


def _report_context(request):
    """School staff see their school; bureau staff of the homework line any district."""
    user = request.user
    if kind_of(user) == SCHOOL:
        school = School.objects.select_related("district").get(pk=user.school_staff.school_id)
        district = school.district
    elif is_bureau(user, line="homework"):
        districts = District.objects.order_by("code")
        district_id = params.query_id(request, "district")
        district = (district_id and districts.filter(pk=district_id).first()) or districts.first()
        school_id = params.query_id(request, "school")
        school = (
            School.objects.filter(pk=school_id, district=district).first() if school_id else None
        )
    else:
        raise PermissionDenied  # bureau staff of another line
    month = params.query_month(request, "month", default=timezone.localdate().strftime("%Y-%m"))
    return district, school, month


@kind_required(SCHOOL, BUREAU)
def monthly(request):
    district, school, month = _report_context(request)
    error = None
    days, rows = [], []
    if district is not None:
        try:
            days, rows = reports.monthly_report(district=district, month=month, school=school)
        except CalendarUnknownDay as exc:
            error = str(exc)
    chart = sorted(rows, key=lambda r: -r.over_published_share)[:15]
    return render(request, "homework/monthly.html", {
        "district": district, "school": school, "month": month, "days": days, "rows": rows,
        "chart": chart, "error": error, "query": request.GET.urlencode(),
        "districts": (
            District.objects.order_by("code") if is_bureau(request.user, line="homework") else []
        ),
    })  # fmt: skip


@kind_required(SCHOOL, BUREAU)
def monthly_xlsx(request):
    district, school, month = _report_context(request)
    try:
        _days, rows = reports.monthly_report(district=district, month=month, school=school)
    except CalendarUnknownDay as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    title = f"{school.name if school else district.name} {month} 作业月报"
    response = HttpResponse(
        reports.report_xlsx(rows, title=title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="homework-{month}.xlsx"'
    return response


@kind_required(SCHOOL)
def grade_week(request, grade, date):
    if not 1 <= grade <= 9:
        raise Http404
    days, rows, limit = selectors.grade_week(request.user, grade, _day(date))
    return render(request, "homework/grade_week.html", {
        "grade": grade, "days": days, "rows": rows, "limit": limit,
        "prev": days[0] - dt.timedelta(days=7), "next": days[0] + dt.timedelta(days=7),
    })  # fmt: skip


@kind_required(SCHOOL)
def class_daily_list(request, pk):
    """假期作业天天清: a vacation (or any span up to 62 days) as a list, day by day."""
    from portal.models import SchoolPeriod

    school_class = get_scoped_or_404(
        SchoolClass.objects.select_related("school"), request.user, pk=pk
    )
    today = timezone.localdate()
    start, end = params.query_date(request, "from"), params.query_date(request, "to")
    period = None
    if not (start and end):
        period = (
            SchoolPeriod.objects.filter(district_id=school_class.school.district_id, end__gte=today)
            .exclude(kind=SchoolPeriod.Kind.TERM)
            .order_by("start")
            .first()
        )
        start, end = (period.start, period.end) if period else (today, today)
    if end < start or (end - start).days > 62:
        raise Http404
    return render(request, "homework/daily_list.html", {
        "school_class": school_class, "period": period, "start": start, "end": end,
        "days": selectors.daily_list(school_class, start, end),
    })  # fmt: skip
