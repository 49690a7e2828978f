"""Dashboard panel of the exam calendars (考试安排) (imported by governance/dashboard.py): the
month's exams in the district by kind, one query."""

from django.db.models import Count

from governance.exam_models import Exam
from portal.dashboard import Bar, Filters, Panel, Series, panel


@panel("governance.exams", title="本月考试安排（按类型）", line="governance", order=61, kept=True)
def exams(f: Filters) -> Panel:
    counts = dict(
        Exam.objects.filter(school__district=f.district, date__range=(f.start, f.end))
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    bars = [Bar(label, counts.get(value, 0), "/exams/") for value, label in Exam.Kind.choices]
    return Panel(title="", series=[Series("场次", bars)], unit="场")
