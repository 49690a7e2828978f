"""Reads of the exam calendars (考试安排), already scoped (portal.access.scope)."""

from governance.exam_models import Exam
from portal.access import get_scoped_or_404, scope


def exams(user):
    return scope(Exam.objects.select_related("school"), user).order_by(
        "school__name", "date", "grade", "subject"
    )


def exam(user, pk) -> Exam:
    return get_scoped_or_404(Exam.objects.all(), user, pk=pk)
