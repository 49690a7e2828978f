import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from homework.models import ParentReport, Survey, SurveyAnswer, SurveyBallot
from homework.selectors import board_for
from homework.services import homework_publish
from portal.models import SchoolStaff
from tests.homework.conftest import DAY, item_data

pytestmark = pytest.mark.django_db


def test_the_public_board_shows_the_day_and_no_pupil(world, client_for):
    homework_publish(
        user=world.teacher_a,
        school_class_id=world.class_a.pk,
        date=DAY,
        **item_data(content="口算题卡一页"),
    )
    board = board_for(world.class_a)
    page = client_for(None).get(
        reverse("homework:board", args=[board.token]), {"date": DAY.isoformat()}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "口算题卡一页" in html and "20 分钟" in html
    assert world.child_a.name not in html  # no pupil's name on a public page
    week = (
        client_for(None)
        .get(reverse("homework:board_week", args=[board.token]), {"date": DAY.isoformat()})
        .content.decode()
    )
    assert "口算题卡一页" in week and world.child_a.name not in week


def test_an_unknown_board_token_is_404(client, db):
    assert client.get(reverse("homework:board", args=["nope"])).status_code == 404


def test_the_qr_code_points_at_the_board(world, client_for):
    response = client_for(world.teacher_a).get(reverse("homework:qr", args=[world.class_a.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    poster = client_for(world.teacher_a).get(reverse("homework:poster", args=[world.class_a.pk]))
    assert board_for(world.class_a).token in poster.content.decode()


def test_a_parent_reports_their_own_childs_minutes(world, client_for):
    c = client_for(world.parent_a)
    data = {"child": world.child_a.pk, "date": DAY.isoformat(), "minutes": 45}
    assert c.post(reverse("homework:report"), data).status_code == 302
    c.post(reverse("homework:report"), {**data, "minutes": 50})  # a correction replaces it
    report = ParentReport.objects.get()
    assert (report.minutes, report.school_class) == (50, world.class_a)


def test_a_parent_cannot_report_for_another_child_or_the_future(world, client_for):
    c = client_for(world.parent_a)
    other = c.post(
        reverse("homework:report"),
        {"child": world.child_b.pk, "date": DAY.isoformat(), "minutes": 45},
    )
    assert other.status_code == 200 and "只能为自己的孩子反馈" in other.content.decode()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    html = c.post(
        reverse("homework:report"), {"child": world.child_a.pk, "date": future, "minutes": 45}
    ).content.decode()
    assert "不能反馈未来日期的用时" in html and 'value="45"' in html
    assert not ParentReport.objects.exists()


def test_report_page_refuses_school_staff_and_anonymous(world, client_for):
    url = reverse("homework:report")
    assert client_for(world.principal_a).get(url).status_code == 403
    assert client_for(world.bureau).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302


@pytest.fixture
def survey(world):
    today = dt.date.today()
    return Survey.objects.create(
        school_class=world.class_a, title="十一月作业量调查", start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=7), created_by=SchoolStaff.objects.get(user=world.teacher_a),
    )  # fmt: skip


def test_one_anonymous_answer_per_parent(world, survey, client_for):
    c = client_for(world.parent_a)
    url = reverse("homework:survey_answer", args=[survey.token])
    assert "谢谢" in c.post(url, {"load": "too_much", "typical_minutes": 70}).content.decode()
    again = c.post(url, {"load": "right", "typical_minutes": 40}).content.decode()
    assert "只能填写一次" in again
    assert SurveyAnswer.objects.count() == 1 and SurveyBallot.objects.count() == 1
    # the answer row names nobody
    assert {f.name for f in SurveyAnswer._meta.fields} == {
        "id",
        "survey",
        "load",
        "typical_minutes",
    }


def test_survey_results_are_aggregated_for_the_school_only(world, survey, client_for):
    SurveyAnswer.objects.create(survey=survey, load="too_much", typical_minutes=80)
    SurveyAnswer.objects.create(survey=survey, load="right", typical_minutes=40)
    url = reverse("homework:survey_results", args=[survey.pk])
    html = client_for(world.teacher_a).get(url).content.decode()
    assert "共 2 份回答" in html and "平均每天约 60 分钟" in html
    assert client_for(world.principal_b).get(url).status_code == 404
    assert client_for(world.parent_a).get(url).status_code == 403


def test_only_parents_of_the_class_answer(world, survey, client_for):
    from tests.factories import ParentFactory

    stranger = ParentFactory(user__username="stranger").user
    url = reverse("homework:survey_answer", args=[survey.token])
    assert (
        client_for(stranger).post(url, {"load": "right", "typical_minutes": 1}).status_code == 404
    )  # not a parent of the class: the survey is not there for them (issue 21)
    assert client_for(world.teacher_a).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    assert not SurveyAnswer.objects.exists()


def test_a_school_records_an_inspection_and_closes_its_issue(world, client_for):
    from homework.models import Inspection, InspectionIssue

    c = client_for(world.principal_a)
    response = c.post(reverse("homework:inspections"), {
        "date": DAY.isoformat(), "classes": [world.class_a.pk], "summary": "抽查三年级作业",
        "issues": "数学作业量偏大\n批改不及时",
    })  # fmt: skip
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.level == "school" and inspection.issues.count() == 2
    issue = inspection.issues.first()
    close = reverse("homework:issue_close", args=[issue.pk])
    c.post(close, {"follow_up": ""})
    assert InspectionIssue.objects.get(pk=issue.pk).closed_at is None
    c.post(close, {"follow_up": "已减少练习题数量"})
    assert InspectionIssue.objects.get(pk=issue.pk).closed_at is not None
    # another school can neither see nor close it
    other = client_for(world.principal_b)
    assert "抽查三年级作业" not in other.get(reverse("homework:inspections")).content.decode()
    assert other.post(close, {"follow_up": "x"}).status_code == 404


def test_survey_answers_outside_the_period_are_refused(world, survey):
    from homework.services import survey_answer

    survey.end = dt.date.today() - dt.timedelta(days=1)
    survey.save()
    with pytest.raises(ValidationError, match="不在填写期内"):
        survey_answer(user=world.parent_a, survey=survey, load="right", typical_minutes=30)


def test_the_grade_week_plan_and_the_holiday_daily_list(world, client_for):
    from portal.models import SchoolPeriod

    homework_publish(
        user=world.teacher_a, school_class_id=world.class_a.pk, date=DAY, **item_data(minutes=25)
    )
    c = client_for(world.teacher_a)
    html = c.get(reverse("homework:grade_week", args=[3, DAY.isoformat()])).content.decode()
    assert "三年级1班" in html and "25′" in html
    assert "乙小学" not in html
    SchoolPeriod.objects.create(
        district=world.school_a.district,
        kind="winter",
        name="2027年寒假",
        start=dt.date(2027, 1, 23),
        end=dt.date(2027, 2, 21),
    )
    homework_publish(
        user=world.teacher_a,
        school_class_id=world.class_a.pk,
        date=dt.date(2027, 1, 25),
        **item_data(content="寒假阅读一章", minutes=30),
    )
    daily = c.get(reverse("homework:daily", args=[world.class_a.pk])).content.decode()
    assert "2027年寒假" in daily and "寒假阅读一章" in daily and "01月25日" in daily
    assert (
        client_for(world.principal_b)
        .get(reverse("homework:daily", args=[world.class_a.pk]))
        .status_code
        == 404
    )
    assert (
        client_for(world.parent_a)
        .get(reverse("homework:grade_week", args=[3, DAY.isoformat()]))
        .status_code
        == 403
    )
