"""The after-school forms as production runs them: no ATOMIC_REQUESTS, so each request runs
outside any transaction and the service must open its own (``audit_record`` refuses to run
outside one). Rating a course and creating a room answered 500 here before they moved into
services. Each case: valid -> the row and its audit row; invalid or repeated -> a Chinese
message and nothing (more) written; refused -> 403 and nothing written."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from afterschool import enrolment
from afterschool.models import Offering, Rating, Room, TermSurvey
from portal.models import AuditLog
from tests.afterschool.fees_helpers import early, paid_course, today
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def audits(action):
    return AuditLog.objects.filter(action=action).count()


# --- rooms -----------------------------------------------------------------------------------


def test_a_principal_adds_a_room_outside_any_transaction(world, client_for):
    c = client_for(world.principal_a)
    r = c.post(
        reverse("afterschool:school_days"), {"action": "room", "name": "科技馆", "capacity": "40"}
    )
    assert r.status_code == 302
    room = Room.objects.get(school=world.school_a, name="科技馆")
    assert room.capacity == 40
    log = AuditLog.objects.get(action="afterschool.room.created")
    assert log.object_id == str(room.pk) and log.actor == world.principal_a


def test_a_second_room_of_the_same_name_is_refused_in_chinese(world, client_for):
    c = client_for(world.principal_a)
    data = {"action": "room", "name": "科技馆", "capacity": "40"}
    assert c.post(reverse("afterschool:school_days"), data).status_code == 302
    r = c.post(reverse("afterschool:school_days"), {**data, "capacity": "30"}, follow=True)
    assert r.status_code == 200 and "已有名为“科技馆”的教室" in r.content.decode()
    assert Room.objects.filter(school=world.school_a).count() == 1
    assert audits("afterschool.room.created") == 1


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "", "capacity": "40"}, "请填写教室名称和容纳人数"),
        ({"name": "礼堂", "capacity": "x"}, "请填写教室名称和容纳人数"),
        ({"name": "操场", "capacity": "40000"}, "容纳人数最多"),
        ({"name": "长" * 51, "capacity": "40"}, "教室名称最多 50 个字"),
    ],
)
def test_an_invalid_room_writes_nothing_and_says_why(world, client_for, data, message):
    c = client_for(world.principal_a)
    r = c.post(reverse("afterschool:school_days"), {"action": "room", **data}, follow=True)
    assert r.status_code == 200 and message in r.content.decode()
    assert not Room.objects.exists() and audits("afterschool.room.created") == 0


def test_a_teacher_cannot_add_a_room(world, client_for):
    r = client_for(world.teacher_a).post(
        reverse("afterschool:school_days"), {"action": "room", "name": "科技馆", "capacity": "40"}
    )
    assert r.status_code == 403
    assert not Room.objects.exists() and audits("afterschool.room.created") == 0


# --- ratings and term surveys -------------------------------------------------------------------


@pytest.fixture
def ended(world):
    """A course child_a took, ended yesterday (its lessons from today on never held)."""
    course = paid_course(world.school_a, fee="0", weeks=(-2, -1, 0))
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    course.lessons.filter(date__gte=today()).delete()
    return course


def test_a_parent_rates_a_course_outside_any_transaction(world, client_for, ended):
    c = client_for(world.parent_a)
    r = c.post(reverse("afterschool:rate", args=[ended.pk]), {"stars": "4", "comment": "很好"})
    assert r.status_code == 302
    rating = Rating.objects.get(offering=ended)
    assert (rating.stars, rating.comment) == (4, "很好")
    log = AuditLog.objects.get(action="afterschool.rating.given")
    assert log.object_id == str(rating.pk) and log.new == {"stars": 4, "comment": "很好"}


def test_a_second_rating_is_refused_with_a_message(world, client_for, ended):
    c = client_for(world.parent_a)
    url = reverse("afterschool:rate", args=[ended.pk])
    assert c.post(url, {"stars": "5"}).status_code == 302
    r = c.post(url, {"stars": "1"})
    assert r.status_code == 200 and "您已评价过这门课程" in r.content.decode()
    assert list(Rating.objects.values_list("stars", flat=True)) == [5]
    assert audits("afterschool.rating.given") == 1


def test_an_invalid_or_refused_rating_writes_nothing(world, client_for, ended):
    url = reverse("afterschool:rate", args=[ended.pk])
    r = client_for(world.parent_a).post(url, {"stars": "6", "comment": "好"})
    assert r.status_code == 200 and "请选择 1 至 5 星" in r.content.decode()
    assert client_for(world.principal_a).post(url, {"stars": "5"}).status_code == 403
    assert not Rating.objects.exists() and audits("afterschool.rating.given") == 0


def test_a_parent_answers_the_term_survey_once_outside_any_transaction(world, client_for, ended):
    c = client_for(world.parent_a)
    key = f"{world.school_a.pk}:{ended.plan.term_id}"
    r = c.post(reverse("afterschool:survey"), {"pair": key, "answer": "very", "suggestion": "好"})
    assert r.status_code == 302
    survey = TermSurvey.objects.get()
    assert AuditLog.objects.get(action="afterschool.survey.answered").object_id == str(survey.pk)
    r = c.post(reverse("afterschool:survey"), {"pair": key, "answer": "neutral"})
    assert r.status_code == 200 and "本学期已经填写过问卷" in r.content.decode()
    r = c.post(reverse("afterschool:survey"), {"pair": "x:y", "answer": "neutral"})
    assert r.status_code == 200 and "请选择学校和学期" in r.content.decode()
    assert list(TermSurvey.objects.values_list("answer", flat=True)) == ["very"]
    assert audits("afterschool.survey.answered") == 1
    refused = client_for(world.principal_a).post(
        reverse("afterschool:survey"), {"pair": key, "answer": "neutral"}
    )
    assert refused.status_code == 403 and TermSurvey.objects.count() == 1


# --- a course ----------------------------------------------------------------------------------


def _offering_form(world, plan, room):
    return {
        "plan": plan.pk,
        "name": "围棋",
        "kind": "enrichment",
        "teacher": world.teacher_a.school_staff.pk,
        "grades": ["3"],
        "capacity": "20",
        "weekday": "1",
        "start": "15:30",
        "end": "16:30",
        "room": room.pk,
        "fee_per_lesson": "15.00",
    }


def test_school_staff_create_a_course_outside_any_transaction(world, client_for):
    existing = paid_course(world.school_a, fee="0")
    form = _offering_form(world, existing.plan, existing.room)
    r = client_for(world.teacher_a).post(reverse("afterschool:offerings"), form)
    assert r.status_code == 302
    course = Offering.objects.get(name="围棋")
    assert course.school == world.school_a and course.status == Offering.Status.DRAFT
    log = AuditLog.objects.get(action="afterschool.offering.created")
    assert log.object_id == str(course.pk) and log.new["capacity"] == 20


def test_an_invalid_or_refused_course_writes_nothing(world, client_for):
    existing = paid_course(world.school_a, fee="0")
    form = _offering_form(world, existing.plan, existing.room)
    r = client_for(world.teacher_a).post(reverse("afterschool:offerings"), {**form, "end": "15:00"})
    assert r.status_code == 200 and "结束时间应晚于开始时间" in r.content.decode()
    assert client_for(world.parent_a).post(reverse("afterschool:offerings"), form).status_code == (
        403
    )
    # another school's principal: the plan and room of school A are not theirs to choose
    r = client_for(world.principal_b).post(reverse("afterschool:offerings"), form)
    assert r.status_code == 200
    assert not Offering.objects.filter(name="围棋").exists()
    assert audits("afterschool.offering.created") == 0


# --- the bureau's page: the portal's login and 403, never the admin's login -------------


def test_the_rates_page_is_for_after_school_staff(world, client_for):
    url = reverse("afterschool:rates")
    anonymous = client_for(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert client_for(world.principal_a).get(url).status_code == 403
    assert client_for(world.bureau).get(url).status_code == 403  # bureau, another line
    staff = UserFactory(username="as_rates", is_staff=True)
    staff.groups.add(Group.objects.get(name="课后服务"))
    assert client_for(staff).get(url).status_code == 200


def test_closing_a_day_through_the_page_is_audited(world, client_for):
    day = today() + dt.timedelta(days=1)
    r = client_for(world.principal_a).post(
        reverse("afterschool:school_days"),
        {"action": "close", "date": day.isoformat(), "reason": "台风"},
    )
    assert r.status_code == 302
    assert AuditLog.objects.filter(action="afterschool.day.closed").count() == 1
