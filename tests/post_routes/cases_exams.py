"""POST cases of the exam calendars (考试安排, /exams/): a school's manager enters and removes
its exams; the rules refuse at entry, naming the rule."""

import datetime as dt

from django.urls import reverse

from governance import exams
from governance.exam_models import Exam
from tests.governance.pledge_helpers import term
from tests.post_routes import Case, case

DAY = dt.date(2026, 12, 20)


def _rows():
    return list(Exam.objects.values_list("school_id", "grade", "subject", "kind").order_by("pk"))


@case(
    "exam:calendar",
    refused=("anonymous", "teacher", "parent", "bureau_homework", "staff_without_group"),
)
def calendar(w):
    term(w.school_a.district)
    return Case(
        url=reverse("exam:calendar"),
        user=w.principal_a,
        valid={"subject": "数学", "grade": 3, "kind": "final", "date": DAY.isoformat()},
        state=_rows,
        audit="governance.exam.created",
        invalid={
            "subject": "数学",
            "grade": 3,
            "kind": "final",
            "date": DAY.isoformat(),
            "ranked": "on",
        },
        error="考试结果实行等级评价，不得按排名公布成绩。",
    )


@case("exam:delete", refused=("anonymous", "teacher", "parent", "other_school", "bureau_homework"))
def delete(w):
    term(w.school_a.district)
    exam = exams.exam_create(actor=w.principal_a, subject="数学", grade=3, kind="final", date=DAY)
    return Case(
        url=reverse("exam:delete", args=[exam.pk]),
        user=w.principal_a,
        valid={},
        state=_rows,
        audit="governance.exam.deleted",
        no_invalid="a button without fields: the exam is the URL's, another school's a 404",
    )
