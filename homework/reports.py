"""The monthly homework report (月报), per school and grade: one SQL statement."""

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import connection

from homework.models import HomeworkPolicy
from portal.models import District, School
from portal.schoolcalendar import school_days


@dataclass
class ReportRow:
    school_id: int
    school: str
    grade: int
    classes: int
    class_days: int
    over_published: int
    over_reported: int
    not_published: int

    @property
    def over_published_share(self) -> float:
        return self.over_published / self.class_days if self.class_days else 0.0

    @property
    def over_reported_share(self) -> float:
        return self.over_reported / self.class_days if self.class_days else 0.0


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


SQL = """
WITH days AS (SELECT unnest(%(days)s::date[]) AS d),
cls AS (
    SELECT c.id, c.school_id, c.grade
    FROM portal_schoolclass c JOIN portal_school s ON s.id = c.school_id
    WHERE s.district_id = %(district)s AND (%(school)s::bigint IS NULL OR s.id = %(school)s)
),
pub AS (
    SELECT i.school_class_id AS class_id, i.date,
           COALESCE(SUM(i.minutes) FILTER (
               WHERE (i.required OR %(count_optional)s) AND (i.written OR %(count_non_written)s)
           ), 0) AS total
    FROM homework_homeworkitem i JOIN cls ON cls.id = i.school_class_id
    WHERE i.date = ANY(%(days)s::date[]) AND i.status = 'published'
    GROUP BY 1, 2
),
rep AS (
    SELECT r.school_class_id AS class_id, r.date, AVG(r.minutes) AS average, COUNT(*) AS n
    FROM homework_parentreport r JOIN cls ON cls.id = r.school_class_id
    WHERE r.date = ANY(%(days)s::date[])
    GROUP BY 1, 2
),
grid AS (
    SELECT cls.id, cls.school_id, cls.grade, pub.total, rep.average, rep.n,
           pub.class_id IS NOT NULL AS published,
           CASE WHEN cls.grade <= 2 THEN %(l12)s WHEN cls.grade <= 6 THEN %(l36)s
                ELSE %(l79)s END AS lim
    FROM cls CROSS JOIN days
    LEFT JOIN pub ON pub.class_id = cls.id AND pub.date = days.d
    LEFT JOIN rep ON rep.class_id = cls.id AND rep.date = days.d
)
SELECT school_id, grade, COUNT(DISTINCT id), COUNT(*),
       COUNT(*) FILTER (WHERE total > lim),
       COUNT(*) FILTER (WHERE n >= %(min_reports)s AND average > lim),
       COUNT(*) FILTER (WHERE NOT published AND grade >= 3)
FROM grid GROUP BY school_id, grade ORDER BY school_id, grade
"""


def monthly_report(*, district: District, month: str, school: School | None = None):
    start, end = month_bounds(month)
    days = school_days(district, start, end)
    policy = HomeworkPolicy.current()
    names = dict(School.objects.filter(district=district).values_list("id", "name"))
    if not days:
        return days, []
    with connection.cursor() as cursor:
        cursor.execute(
            SQL,
            {
                "days": days,
                "district": district.pk,
                "school": school.pk if school else None,
                "count_optional": policy.count_optional,
                "count_non_written": policy.count_non_written,
                "l12": policy.limit_grades_1_2,
                "l36": policy.limit_grades_3_6,
                "l79": policy.limit_grades_7_9,
                "min_reports": policy.min_reports,
            },
        )
        rows = [ReportRow(r[0], names.get(r[0], ""), *r[1:]) for r in cursor.fetchall()]
    return days, rows


HEADERS = ["学校", "年级", "班级数", "班级上学日", "公示超时（班·日）", "公示超时占比",
           "反馈超时（班·日）", "反馈超时占比", "未公示（班·日）"]  # fmt: skip


def report_xlsx(rows, *, title: str) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from portal.exports import xlsx_append  # school names as text, never formulas

    wb = Workbook()
    ws = wb.active
    ws.title = "作业月报"
    xlsx_append(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    xlsx_append(ws, HEADERS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        xlsx_append(ws, [r.school, f"{r.grade}年级", r.classes, r.class_days, r.over_published,
                   round(r.over_published_share, 4), r.over_reported,
                   round(r.over_reported_share, 4), r.not_published])  # fmt: skip
        ws.cell(ws.max_row, 6).number_format = "0.0%"
        ws.cell(ws.max_row, 8).number_format = "0.0%"
    ws.column_dimensions["A"].width = 24
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def snapshot_refresh(*, district: District, month: str):
    """Compute the district's report for ``month`` and keep it (the nightly task). A month
    the calendar cannot judge is kept too, with the reason, so that every view of it costs
    the same one query."""
    from django.utils import timezone

    from homework.models import ReportSnapshot
    from portal.schoolcalendar import CalendarUnknownDay

    try:
        days, rows = monthly_report(district=district, month=month)
        note = ""
    except CalendarUnknownDay as exc:
        days, rows, note = [], [], str(exc)
    snap, _created = ReportSnapshot.objects.update_or_create(
        district=district, month=month,
        defaults={"rows": [list(vars(r).values()) for r in rows], "days": len(days),
                  "note": note, "computed_at": timezone.now()},
    )  # fmt: skip
    return snap


def snapshot(*, district: District, month: str):
    """The kept report of ``month`` (computed now if there is none yet):
    (rows, computed_at, note)."""
    from homework.models import ReportSnapshot

    snap = ReportSnapshot.objects.filter(district=district, month=month).first()
    if snap is None:
        snap = snapshot_refresh(district=district, month=month)
    return [ReportRow(*r) for r in snap.rows], snap.computed_at, snap.note
