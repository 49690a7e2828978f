"""Bureau staff's dashboard, the findings behind it, the monthly reports, and every user's
inbox."""

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from portal import dashboard, findings, params, services
from portal.dashboard import AGES, Filters
from portal.models import District, Finding
from portal.permissions import bureau_required
from portal.templatetags.nav import strip_refused_links

# The dashboard is for bureau staff (any line: each sees the district's figures); anonymous
# users get the portal's login, everyone else the portal's 403 page (portal.permissions).
bureau_only = bureau_required()

LINES = {
    "institutions": "校外培训与预收费监管",
    "homework": "作业管理（月报）",
    "afterschool": "课后服务",
    "checks": "夜间合规检查",
}


def _filters(request) -> Filters:
    districts = District.objects.order_by("code")
    district_id = params.query_id(request, "district")
    district = (district_id and districts.filter(pk=district_id).first()) or districts.first()
    if district is None:
        raise Http404("还没有区。")
    month = params.query_month(request, "month", default=f"{timezone.localdate():%Y-%m}")
    return Filters(district=district, month=month)


@bureau_only
def index(request):
    f = _filters(request)
    panels = dashboard.build(f, drawn_only=True)
    # a panel of one line links into that line's pages: staff of another line see the
    # figures without links they could not follow (issue 14)
    strip_refused_links(request.user, panels)
    return render(request, "portal/dashboard.html", {
        "panels": panels, "charts": [p.as_chart() for p in panels], "filters": f,
        "districts": District.objects.order_by("code"), "lines": LINES,
    })  # fmt: skip


@bureau_only
def report(request, line):
    """One line of work's monthly report as Excel: the dashboard's panels, a sheet each."""
    if line not in LINES:
        raise Http404
    f = _filters(request)
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from portal.exports import xlsx_append  # names are written as text, never formulas

    wb = Workbook()
    wb.remove(wb.active)
    for p in dashboard.build(f, line=line):
        ws = wb.create_sheet(p.title[:28].replace("/", "、").replace("（", "(").replace("）", ")"))
        xlsx_append(ws, [f"{f.district.name} {f.month} {p.title}"])
        ws["A1"].font = Font(bold=True, size=13)
        xlsx_append(
            ws, ["项目", *[f"{s.label}（{p.unit}）" if p.unit else s.label for s in p.series]]
        )
        for i, label in enumerate(p.labels):
            xlsx_append(ws, [label, *[s.bars[i].value for s in p.series]])
        for name, value in p.figures:
            xlsx_append(ws, [name, value])
        if p.note:
            xlsx_append(ws, [p.note])
        ws.column_dimensions["A"].width = 28
    if not wb.worksheets:
        wb.create_sheet("无数据")
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="report-{line}-{f.month}.xlsx"'
    return response


@bureau_only
def finding_list(request):
    """The rows behind the dashboard's findings charts: by district, severity, age, a night
    (open on that date), rule and handling."""
    g = request.GET
    qs = findings.in_reading_order(Finding.objects.select_related("school", "assigned_school"))
    district_id = params.query_id(request, "district")
    district = district_id and District.objects.filter(pk=district_id).first()
    if district:
        qs = qs.filter(pk__in=dashboard.findings_in(district).values("pk"))
    if g.get("severity") in Finding.Severity.values:
        qs = qs.filter(severity=g["severity"])
    if g.get("workflow") in Finding.Workflow.values:
        qs = qs.filter(workflow=g["workflow"])
    rule = params.query_text(request, "rule", max_length=Finding._meta.get_field("rule").max_length)
    if rule:
        qs = qs.filter(rule=rule)
    today = timezone.localdate()
    age = next((a for a in AGES if a[0] == g.get("age")), None)
    if age:
        label, lo, hi = age
        qs = qs.filter(resolved_at__isnull=True, first_seen__lte=today - dt.timedelta(days=lo))
        if hi is not None:
            qs = qs.filter(first_seen__gte=today - dt.timedelta(days=hi))
    day = params.query_date(request, "on")
    if day:
        qs = qs.filter(first_seen__lte=day).filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__date__gt=day)
        )
    elif not age and g.get("all") != "1":
        qs = qs.filter(resolved_at__isnull=True)
    return render(request, "portal/dashboard_findings.html", {
        "findings": qs[:500], "count": qs.count(), "query": g,
    })  # fmt: skip


@bureau_only
def finding_handle(request, pk):
    finding = get_object_or_404(Finding.objects.select_related("school", "assigned_school"), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "assign":
                school = request.POST.get("school") or None
                inst = request.POST.get("institution") or None
                findings.finding_assign(actor=request.user, finding_id=finding.pk,
                                        school_id=int(school) if school else None,
                                        institution_id=int(inst) if inst else None,
                                        note=request.POST.get("note", ""))  # fmt: skip
                messages.success(request, "已交办。")
            elif action == "close":
                findings.finding_close(actor=request.user, finding_id=finding.pk,
                                       note=request.POST.get("note", ""))  # fmt: skip
                messages.success(request, "已办结。")
            elif action == "close_unanswered":
                findings.finding_close_unanswered(actor=request.user, finding_id=finding.pk,
                                                  reason=request.POST.get("note", ""))  # fmt: skip
                messages.success(request, "已办结（未反馈整改）。")
            elif action == "answer":  # for an institution, with what it sent
                findings.finding_answer(actor=request.user, finding_id=finding.pk,
                                        answer=request.POST.get("answer", ""),
                                        files=request.FILES.getlist("files"))  # fmt: skip
                messages.success(request, "已代录机构整改反馈。")
            elif action == "return":
                findings.finding_return(actor=request.user, finding_id=finding.pk,
                                        note=request.POST.get("note", ""))  # fmt: skip
                messages.success(request, "已退回学校继续整改。")
            return redirect("dashboard:finding", pk=finding.pk)
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        except ValueError:
            messages.error(request, "请选择学校或填写机构编号。")
    return render(request, "portal/dashboard_finding.html", {
        "finding": finding, "steps": finding.steps.select_related("by"),
        "evidence": finding.evidence.all(),
        "can_handle": findings.may_handle(request.user, finding),
        "schools": findings.assignable_schools(finding), "post": request.POST,
    })  # fmt: skip


@login_required
def inbox(request):
    """What the portal told this user, and whether it went out by e-mail."""
    notices = request.user.notices.all()[:200]
    if request.method == "POST":
        services.inbox_mark_read(user=request.user)
        return redirect("inbox")
    return render(request, "portal/inbox.html", {"notices": notices})
