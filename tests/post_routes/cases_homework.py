"""POST cases of homework: teachers publish, change and withdraw items; surveys and
inspections; parents report minutes and answer surveys."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from homework.models import (
    HomeworkItem,
    Inspection,
    InspectionIssue,
    ParentReport,
    Survey,
    SurveyAnswer,
)
from homework.services import homework_publish
from portal.models import SchoolStaff
from tests.post_routes import Case, case

DAY = dt.date(2026, 11, 23)  # a Monday of the autumn term, in the calendar package's years

ITEM = {"subject": "数学", "content": "练习册第12页", "minutes": "20", "kind": "basic",
        "required": "1", "written": "1", "layer": ""}  # fmt: skip
SCHOOL_REFUSED = ("anonymous", "other_school", "parent")
# the pages read the homework policy, whose default row is made on first read
LAZY = frozenset({"homework.HomeworkPolicy"})


def _item(w):
    return homework_publish(
        user=w.teacher_a, school_class_id=w.class_a.pk, date=DAY,
        **{**ITEM, "minutes": 20, "required": True, "written": True},
    )  # fmt: skip


@case("homework:day", refused=SCHOOL_REFUSED)
def publish(w):
    return Case(
        url=reverse("homework:day", args=[w.class_a.pk, DAY.isoformat()]),
        user=w.teacher_a,
        valid=ITEM,
        state=lambda: list(
            HomeworkItem.objects.filter(school_class=w.class_a).values_list("subject", "minutes")
        ),
        audit="homework.item.published",
        invalid={**ITEM, "subject": "", "minutes": "abc"},
        error="预计用时应为整数分钟",
        ignore=LAZY,
    )


@case("homework:edit", refused=SCHOOL_REFUSED)
def edit(w):
    item = _item(w)
    return Case(
        url=reverse("homework:edit", args=[item.pk]),
        user=w.teacher_a,
        valid={**ITEM, "content": "练习册第13页"},
        state=lambda: HomeworkItem.objects.values_list("content", "minutes").get(pk=item.pk),
        audit="homework.item.changed",
        invalid={**ITEM, "content": "", "minutes": "0"},
        error="预计用时至少1分钟",
        ignore=LAZY,
    )


@case("homework:withdraw", refused=SCHOOL_REFUSED)
def withdraw(w):
    item = _item(w)
    return Case(
        url=reverse("homework:withdraw", args=[item.pk]),
        user=w.teacher_a,
        valid={},
        state=lambda: HomeworkItem.objects.values_list("status", flat=True).get(pk=item.pk),
        audit="homework.item.withdrawn",
        no_invalid="a button without fields",
    )


@case("homework:report", refused=("anonymous", "school", "bureau_homework"))
def report(w):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    future = timezone.localdate() + dt.timedelta(days=3)
    return Case(
        url=reverse("homework:report"),
        user=w.parent_a,
        valid={"child": w.child_a.pk, "date": yesterday.isoformat(), "minutes": "45"},
        state=lambda: list(ParentReport.objects.values_list("child_id", "minutes")),
        audit="homework.report.",
        invalid={"child": w.child_a.pk, "date": future.isoformat(), "minutes": "45"},
        error="不能反馈未来日期的用时",
        # the page lists each child's class board, made on first sight
        ignore=frozenset({"homework.ClassBoard"}),
    )


def _survey(w):
    today = timezone.localdate()
    return Survey.objects.create(
        school_class=w.class_a, title="十一月作业量调查", start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=7), created_by=SchoolStaff.objects.get(user=w.teacher_a),
    )  # fmt: skip


# another school's principal may create surveys: for class_a the form refuses the class
@case("homework:surveys", refused=("anonymous", "parent", "bureau_homework"))
def survey_create(w):
    today = timezone.localdate()
    return Case(
        url=reverse("homework:surveys"),
        user=w.teacher_a,
        valid={"school_class": w.class_a.pk, "title": "十二月作业量调查",
               "start": today.isoformat(), "end": (today + dt.timedelta(days=7)).isoformat()},
        state=lambda: list(Survey.objects.values_list("title", flat=True)),
        audit="homework.survey.created",
        invalid={"school_class": w.class_a.pk, "title": "十二月作业量调查",
                 "start": today.isoformat(), "end": (today - dt.timedelta(days=7)).isoformat()},
        error="结束日期不能早于开始日期",
    )  # fmt: skip


@case("homework:survey_answer", refused=("anonymous", "school", "stranger_parent"))
def survey_answer(w):
    survey = _survey(w)
    return Case(
        url=reverse("homework:survey_answer", args=[survey.token]),
        user=w.parent_a,
        valid={"load": "too_much", "typical_minutes": "70"},
        state=lambda: SurveyAnswer.objects.filter(survey=survey).count(),
        audit="homework.survey.answered",
        invalid={"load": "", "typical_minutes": "70"},
        error="请选择作业量感受",
    )


@case("homework:inspections", refused=("anonymous", "parent", "bureau_homework"))
def inspection(w):
    return Case(
        url=reverse("homework:inspections"),
        user=w.principal_a,
        valid={"date": DAY.isoformat(), "classes": [w.class_a.pk], "summary": "抽查三年级作业",
               "issues": "数学作业量偏大\n批改不及时"},
        state=lambda: (Inspection.objects.count(), InspectionIssue.objects.count()),
        audit="homework.inspection.recorded",
        invalid={"date": DAY.isoformat(), "classes": [w.class_a.pk], "summary": "",
                 "issues": "数学作业量偏大"},
        error="请填写检查情况",
    )  # fmt: skip


@case("homework:issue_close", refused=SCHOOL_REFUSED)
def issue_close(w):
    issue = InspectionIssue.objects.get(inspection=_inspection(w))
    return Case(
        url=reverse("homework:issue_close", args=[issue.pk]),
        user=w.principal_a,
        valid={"follow_up": "已减少练习题数量"},
        state=lambda: InspectionIssue.objects.values_list("closed_at", flat=True).get(pk=issue.pk),
        audit="homework.inspection_issue.closed",
        invalid={"follow_up": ""},
        error="关闭问题前请填写整改情况",
    )


def _inspection(w):
    inspection = Inspection.objects.create(
        school=w.school_a, level=Inspection.Level.SCHOOL, date=DAY, summary="抽查三年级作业",
        recorded_by=w.principal_a,
    )  # fmt: skip
    InspectionIssue.objects.create(inspection=inspection, description="数学作业量偏大")
    return inspection
