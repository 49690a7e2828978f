"""Issue 13, item 3: a child's clash is judged on the real lessons of the term (after moves
and cancellations, only those not yet held) against the lessons of the course to join;
the lessons of another term never clash. The refusal names the date and the other course,
the same on the menu as on an attempt."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from afterschool import enrolment, lessons, operations
from afterschool.models import Enrolment, Lesson, Offering, Room, SchoolPlan
from portal.models import SchoolPeriod
from tests.afterschool.fees_helpers import balanced_ledger, early, paid_course, today  # noqa: F401
from tests.factories import SchoolStaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]


def open_day_after(school, first: dt.date) -> dt.date:
    """The first day the school is open from ``first`` on (not today's weekday, so that the
    weekly patterns differ)."""
    day = first
    while not lessons.is_open(school, day) or day.weekday() == today().weekday():
        day += dt.timedelta(days=1)
    return day


def course_at(school, term, day, start, end, *, name, weeks=(0,)):
    """A free course with its own teacher and room, lessons on ``day`` and weeks after."""
    plan = SchoolPlan.objects.get(school=school, term=term)
    teacher = SchoolStaffFactory(school=school, name=f"{name}老师")
    room = Room.objects.create(school=school, name=f"{name}教室", capacity=40)
    course = Offering.objects.create(
        school=school, plan=plan, name=name, kind="enrichment", teacher=teacher, grades=[3],
        capacity=5, weekday=day.weekday(), start=start, end=end, room=room,
        status=Offering.Status.PUBLISHED,
    )  # fmt: skip
    for n in weeks:
        d = day + dt.timedelta(weeks=n)
        Lesson.objects.create(offering=course, planned_date=d, date=d, start=start, end=end,
                              room=room)  # fmt: skip
    return course


@pytest.fixture
def setup(world):
    """child_a holds a place in 创意美术 (today's weekday 15:30-16:30, three weeks);
    围棋 meets on another open day at 15:40-16:40."""
    art = paid_course(world.school_a, fee="0")
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=art.pk,
                    now=early(art))  # fmt: skip
    day = open_day_after(world.school_a, today() + dt.timedelta(days=1))
    go = course_at(world.school_a, art.plan.term, day, dt.time(15, 40), dt.time(16, 40),
                   name="围棋")  # fmt: skip
    return art, go, day


def move(world, art, day, start, end):
    lesson = art.lessons.order_by("date").last()
    return operations.lesson_move(user=world.principal_a, lesson_id=lesson.pk, day=day,
                                  start=start, end=end, room_id=None, reason="场地调整",
                                  now=early(art))  # fmt: skip


def test_the_weekly_patterns_differ_so_no_clash_until_a_lesson_moves_onto_it(world, setup):
    art, go, day = setup
    assert enrolment.why_not(world.child_a, go, now=early(art)) is None
    move(world, art, day, dt.time(15, 40), dt.time(16, 40))
    problem = enrolment.why_not(world.child_a, go, now=early(art))
    assert problem == f"{day:%Y-%m-%d} 15:40-16:40 与已报名的“创意美术”（15:40-16:40）时间冲突。"
    with pytest.raises(ValidationError, match=f"{day:%Y-%m-%d} 15:40-16:40 与已报名的“创意美术”"):
        enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=go.pk,
                        now=early(art))  # fmt: skip
    assert not Enrolment.objects.filter(offering=go).exists()


@pytest.mark.parametrize("end, clash", [(dt.time(15, 40), False), (dt.time(15, 41), True)])
def test_a_moved_lesson_one_minute_apart(world, setup, end, clash):
    # boundary: the moved lesson ends as 围棋 starts (no clash) or one minute after (clash)
    art, go, day = setup
    move(world, art, day, dt.time(14, 40), end)
    problem = enrolment.why_not(world.child_a, go, now=early(art))
    assert (problem is not None) is clash
    if clash:
        assert "与已报名的“创意美术”（14:40-15:41）时间冲突" in problem


def test_the_same_weekly_time_clashes_only_on_lessons_not_cancelled(world, setup):
    art, _go, _day = setup
    later = today() + dt.timedelta(weeks=1)
    chess = course_at(world.school_a, art.plan.term, later, dt.time(16, 0), dt.time(17, 0),
                      name="象棋")  # fmt: skip
    assert "“创意美术”（15:30-16:30）" in enrolment.why_not(world.child_a, chess, now=early(art))
    clashing = art.lessons.get(date=later)
    lessons.lesson_cancel(user=world.principal_a, lesson_id=clashing.pk, reason="春游")
    assert enrolment.why_not(world.child_a, chess, now=early(art)) is None


def test_lessons_of_another_term_never_clash(world, setup):
    # last term: the same weekly time, the child still listed, lessons never rolled
    art, _go, _day = setup
    district = world.school_a.district
    last_term = SchoolPeriod.objects.create(
        district=district, name="上学期", kind="term", status="active",
        start=today() - dt.timedelta(days=200), end=today() - dt.timedelta(days=30),
    )  # fmt: skip
    SchoolPlan.objects.create(
        school=world.school_a, term=last_term, weekdays=[0, 1, 2, 3, 4, 5, 6],
        start_time=dt.time(15, 30), end_time=dt.time(17, 30), items="社团", status="in_effect",
    )  # fmt: skip
    old_day = today() - dt.timedelta(weeks=6)
    old = course_at(world.school_a, last_term, old_day, dt.time(15, 30), dt.time(16, 30),
                    name="上学期围棋", weeks=(0, 1))  # fmt: skip
    Enrolment.objects.create(offering=old, child=world.child_a, status="enrolled",
                             by=world.parent_a)  # fmt: skip
    new = course_at(world.school_a, art.plan.term, today() + dt.timedelta(weeks=3),
                    dt.time(15, 30), dt.time(16, 30), name="本学期围棋")  # fmt: skip
    assert enrolment.why_not(world.child_a, new, now=early(art)) is None


def test_the_last_day_of_the_term_counts(world, setup):
    # boundary: a lesson on the term's last day still clashes within the term
    art, _go, _day = setup
    term = art.plan.term
    last_day = open_day_after(world.school_a, term.end - dt.timedelta(days=6))
    SchoolPeriod.objects.filter(pk=term.pk).update(end=last_day)
    Lesson.objects.create(offering=art, planned_date=last_day, date=last_day,
                          start=dt.time(15, 30), end=dt.time(16, 30))  # fmt: skip
    closing = course_at(world.school_a, term, last_day, dt.time(16, 0), dt.time(17, 0),
                        name="期末展示")  # fmt: skip
    assert f"{last_day:%Y-%m-%d} 16:00-17:00" in enrolment.why_not(
        world.child_a, closing, now=early(art)
    )


def test_moving_a_lesson_onto_a_childs_other_lesson_stays_refused(world, setup):
    art, go, day = setup
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=go.pk,
                    now=early(art))  # fmt: skip
    with pytest.raises(ValidationError, match="已报名的学生甲同学在该时段另有课"):
        move(world, art, day, dt.time(16, 39), dt.time(17, 30))  # one minute over 围棋


def test_the_menu_gives_the_same_reason_as_the_attempt(world, setup, client_for):
    art, go, day = setup
    move(world, art, day, dt.time(15, 40), dt.time(16, 40))
    c = client_for(world.parent_a)
    menu = c.get(reverse("afterschool:menu")).content.decode()
    words = f"{day:%Y-%m-%d} 15:40-16:40 与已报名的“创意美术”（15:40-16:40）时间冲突。"
    assert words in menu
    r = c.post(reverse("afterschool:enrol"), {"child": world.child_a.pk, "offering": go.pk},
               follow=True)  # fmt: skip
    assert words in r.content.decode()
    assert not Enrolment.objects.filter(offering=go).exists()
