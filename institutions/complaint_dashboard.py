"""Dashboard panels of complaints (举报/投诉) and their handling (imported by
institutions/dashboard.py). On the training line's page and its monthly Excel report
(portal.dashboard writes the report from the panels). Each panel costs a fixed number of
queries whatever the number of complaints."""

from django.db.models import Count
from django.utils import timezone

from institutions.complaint_models import Complaint
from institutions.complaints import received_on
from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from portal.schoolcalendar import CalendarUnknownDay, WorkingDays

STAFF_URL = "/complaints/staff/"
# open for how many working days (issue 15): ≤1, 2–5, 6–15, >15
AGES = [("1 个工作日内", 0, 1), ("2-5 个工作日", 2, 5), ("6-15 个工作日", 6, 15),
        ("超过 15 个工作日", 16, None)]  # fmt: skip


def _of(f: Filters):
    return Complaint.objects.filter(district=f.district)


@panel("institutions.complaints_category", title="本月举报投诉（按类别）", line="institutions",
       order=20)  # fmt: skip
def by_category(f: Filters) -> Panel:
    counts = dict(
        _of(f)
        .filter(received_at__date__range=(f.start, f.end))
        .values_list("category")
        .annotate(n=Count("pk"))
    )
    bars = [
        Bar(label, counts.get(value, 0), link(STAFF_URL, category=value))
        for value, label in Complaint.Category.choices
    ]
    return Panel(
        title="", series=[Series("件数", bars)], unit="件",
        figures=[("本月收到", str(sum(counts.values())))],
    )  # fmt: skip


@panel("institutions.complaints_status", title="举报投诉办理状态", line="institutions", order=21)
def by_status(f: Filters) -> Panel:
    counts = dict(_of(f).values_list("status").annotate(n=Count("pk")))
    bars = [
        Bar(label, counts.get(value, 0), link(STAFF_URL, status=value))
        for value, label in Complaint.Status.choices
    ]
    return Panel(title="", series=[Series("件数", bars)], unit="件")


@panel("institutions.complaints_age", title="未办结举报投诉（按已用工作日）", line="institutions",
       order=22)  # fmt: skip
def by_age(f: Filters) -> Panel:
    today = timezone.localdate()
    rows = list(
        _of(f).filter(status__in=Complaint.OPEN).only("received_at").order_by("received_at")
    )
    counts = {label: 0 for label, _lo, _hi in AGES}
    note = ""
    if rows:
        try:
            days = WorkingDays(received_on(rows[0]), today)
        except CalendarUnknownDay as exc:
            days, note = None, str(exc)
        for complaint in rows if days else []:
            n = days.between(received_on(complaint), today)
            for label, lo, hi in AGES:
                if n >= lo and (hi is None or n <= hi):
                    counts[label] += 1
    bars = [Bar(label, counts[label], link(STAFF_URL)) for label, _lo, _hi in AGES]
    return Panel(title="", series=[Series("件数", bars)], unit="件", note=note)
