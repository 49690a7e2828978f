"""Homework's school forms as production runs them (no ATOMIC_REQUESTS: every request runs
outside a transaction, so the service must open its own and audit inside it). Surveys and
inspections were written in the views; they now go through homework.services. Each case:
allowed -> the rows and the audit row; refused -> 403/404 and nothing written; invalid -> a
Chinese message and nothing written."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from homework import services
from homework.models import Inspection, InspectionIssue, ParentReport, Survey
from portal.models import AuditLog
from tests.factories import SchoolClassFactory
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = timezone.localdate


def audits(action: str) -> int:
    return AuditLog.objects.filter(action=action).count()


def survey_data(for_class, **overrides):
    data = {
        "school_class": for_class.pk,
        "title": "十二月作业量调查",
        "start": TODAY().isoformat(),
        "end": (TODAY() + dt.timedelta(days=7)).isoformat(),
    }
    data.update(overrides)
    return data


# --- surveys -----------------------------------------------------------------------------


def test_a_teacher_creates_a_survey_with_its_audit_row(world, client_for):
    response = client_for(world.teacher_a).post(
        reverse("homework:surveys"), survey_data(world.class_a)
    )
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("homework:survey_results", args=[survey.pk])
    assert survey.school_class == world.class_a and survey.title == "十二月作业量调查"
    log = AuditLog.objects.get(action="homework.survey.created")
    assert log.actor == world.teacher_a and log.object_id == str(survey.pk)
    assert log.new["school_class"] == world.class_a.pk


@pytest.mark.parametrize("who", ["parent_a", "bureau"])
def test_parents_and_bureau_staff_cannot_create_a_survey(world, client_for, who):
    response = client_for(getattr(world, who)).post(
        reverse("homework:surveys"), survey_data(world.class_a)
    )
    assert response.status_code == 403
    assert not Survey.objects.exists() and audits("homework.survey.created") == 0


def test_anonymous_visitors_get_the_portal_login(world, client_for):
    response = client_for(None).post(reverse("homework:surveys"), survey_data(world.class_a))
    assert response.status_code == 302 and "/admin/" not in response["Location"]
    assert not Survey.objects.exists()


def test_another_schools_class_is_refused_by_the_form_and_the_service(world, client_for):
    html = (
        client_for(world.principal_b)
        .post(reverse("homework:surveys"), survey_data(world.class_a))
        .content.decode()
    )
    assert "只能为本校的班级发起问卷" in html
    with pytest.raises(PermissionDenied):
        services.survey_create(
            user=world.principal_b, school_class_id=world.class_a.pk, title="x",
            start=TODAY(), end=TODAY(),
        )  # fmt: skip
    assert not Survey.objects.exists() and audits("homework.survey.created") == 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"end": (TODAY() - dt.timedelta(days=1)).isoformat()}, "结束日期不能早于开始日期"),
        ({"title": ""}, "请填写问卷标题"),
        ({"school_class": ""}, "请选择班级"),
    ],
)
def test_an_invalid_survey_says_why_and_writes_nothing(world, client_for, overrides, message):
    response = client_for(world.teacher_a).post(
        reverse("homework:surveys"), survey_data(world.class_a, **overrides)
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not Survey.objects.exists() and audits("homework.survey.created") == 0


# --- inspections -------------------------------------------------------------------------


def inspection_data(*classes, **overrides):
    data = {
        "date": "2026-11-23",
        "classes": [c.pk for c in classes],
        "summary": "抽查三年级作业",
        "issues": "数学作业量偏大\n\n批改不及时\n",
    }
    data.update(overrides)
    return data


def test_a_principal_records_an_inspection_with_its_issues_and_audit_row(world, client_for):
    grade4 = SchoolClassFactory(school=world.school_a, grade=4, number=1)
    response = client_for(world.principal_a).post(
        reverse("homework:inspections"), inspection_data(world.class_a, grade4)
    )
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.school == world.school_a and inspection.level == "school"
    assert inspection.recorded_by == world.principal_a
    assert set(inspection.classes.all()) == {world.class_a, grade4}
    assert sorted(i.description for i in inspection.issues.all()) == [
        "批改不及时",
        "数学作业量偏大",
    ]
    log = AuditLog.objects.get(action="homework.inspection.recorded")
    assert log.actor == world.principal_a and log.object_id == str(inspection.pk)
    assert log.new["issues"] == 2


@pytest.mark.parametrize("who", ["parent_a", "bureau"])
def test_parents_and_bureau_staff_cannot_record_a_school_inspection(world, client_for, who):
    response = client_for(getattr(world, who)).post(
        reverse("homework:inspections"), inspection_data(world.class_a)
    )
    assert response.status_code == 403
    assert not Inspection.objects.exists() and not InspectionIssue.objects.exists()
    assert audits("homework.inspection.recorded") == 0


def test_another_schools_class_cannot_be_inspected(world, client_for):
    html = (
        client_for(world.principal_a)
        .post(reverse("homework:inspections"), inspection_data(world.class_b))
        .content.decode()
    )
    assert "只能选择本校的班级" in html
    with pytest.raises(PermissionDenied):
        services.inspection_record(
            user=world.principal_a, date=dt.date(2026, 11, 23), summary="x",
            class_ids=[world.class_b.pk],
        )  # fmt: skip
    assert not Inspection.objects.exists() and audits("homework.inspection.recorded") == 0


def test_an_inspection_without_a_summary_says_why_and_writes_nothing(world, client_for):
    response = client_for(world.principal_a).post(
        reverse("homework:inspections"), inspection_data(world.class_a, summary="")
    )
    html = response.content.decode()
    assert response.status_code == 200 and "请填写检查情况" in html
    assert "数学作业量偏大" in html  # what was typed is kept
    assert not Inspection.objects.exists() and not InspectionIssue.objects.exists()


# --- closing an issue: bureau staff of the homework line, not of any line -------------------


def _issue(world):
    return services.inspection_record(
        user=world.principal_a, date=dt.date(2026, 11, 23), summary="抽查", issues="作业量偏大"
    ).issues.get()


def test_bureau_staff_of_the_homework_line_close_an_issue(world):
    issue = _issue(world)
    services.inspection_issue_close(user=world.bureau, issue_id=issue.pk, follow_up="已整改")
    issue.refresh_from_db()
    assert issue.closed_at is not None
    assert AuditLog.objects.get(action="homework.inspection_issue.closed").actor == world.bureau


def test_bureau_staff_of_another_line_cannot_close_an_issue(world):
    issue = _issue(world)
    other = staff_of("案例库", "cases_editor")
    with pytest.raises(PermissionDenied):
        services.inspection_issue_close(user=other, issue_id=issue.pk, follow_up="已整改")
    issue.refresh_from_db()
    assert issue.closed_at is None and audits("homework.inspection_issue.closed") == 0


# --- a parent's report is audited now (it was written without a transaction) ----------------


def test_a_parents_report_and_its_correction_are_audited(world, client_for):
    c = client_for(world.parent_a)
    yesterday = (TODAY() - dt.timedelta(days=1)).isoformat()
    for minutes in ("45", "50"):
        response = c.post(
            reverse("homework:report"),
            {"child": world.child_a.pk, "date": yesterday, "minutes": minutes},
        )
        assert response.status_code == 302
    assert ParentReport.objects.get().minutes == 50
    assert audits("homework.report.created") == 1 and audits("homework.report.changed") == 1


def test_a_parent_cannot_report_for_another_child(world, client_for):
    response = client_for(world.parent_a).post(
        reverse("homework:report"),
        {"child": world.child_b.pk, "date": TODAY().isoformat(), "minutes": "30"},
    )
    assert response.status_code == 200 and "只能为自己的孩子反馈" in response.content.decode()
    with pytest.raises(PermissionDenied):
        services.report_minutes(
            user=world.parent_a, child_id=world.child_b.pk, date=TODAY(), minutes=30
        )
    assert not ParentReport.objects.exists() and audits("homework.report.created") == 0


# --- the monthly report: bureau staff of the homework line only -----------------------------


def test_the_monthly_report_refuses_bureau_staff_of_another_line(world, client_for):
    assert (
        client_for(staff_of("案例库", "cases_editor")).get(reverse("homework:monthly")).status_code
        == 403
    )
    assert client_for(world.parent_a).get(reverse("homework:monthly")).status_code == 403
