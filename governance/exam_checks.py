"""Nightly check of the exam calendars (考试安排): what slipped past the entry rules (rows
entered in the admin, or kept under rules since changed) is a finding of the 基础教育 line,
one per exam, with the same rules as the entry (governance/exams.py ``problems``)."""

from collections import defaultdict

from governance.exam_models import Exam
from governance.exams import problems, term_of
from portal.compliance import Found, register
from portal.models import Finding, SchoolPeriod


@register(
    "governance.exam.rules",
    title="考试安排不符合考试管理规定",
    severity=Finding.Severity.WARNING,
    over=lambda: Exam.objects.all(),
)
def exam_rules(for_date, exams):
    rows = list(exams.select_related("school"))
    if not rows:
        return
    districts = {e.school.district_id for e in rows}
    terms = list(
        SchoolPeriod.objects.filter(district_id__in=districts, kind=SchoolPeriod.Kind.TERM)
    )
    # the counts run over every exam of the schools, not only this chunk's
    schools = {e.school_id for e in rows}
    order = defaultdict(list)
    everything = Exam.objects.filter(school_id__in=schools).select_related("school")
    for e in everything.order_by("date", "pk"):
        term = term_of(e.school, e.date, terms)
        if term is not None:
            order[(e.school_id, e.grade, e.subject, e.kind, term.pk)].append(e.pk)
    for exam in rows:
        term = term_of(exam.school, exam.date, terms)
        before = 0
        if term is not None:
            group = order[(exam.school_id, exam.grade, exam.subject, exam.kind, term.pk)]
            before = group.index(exam.pk)
        found = problems(
            grade=exam.grade, kind=exam.kind, ranked=exam.ranked, term=term, same_before=before
        )
        if found:
            yield Found(
                subject=exam, school=exam.school, message=f"{exam.school}{exam}：" + "".join(found)
            )
