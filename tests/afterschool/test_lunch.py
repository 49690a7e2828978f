"""Lunch-break care (午托): the school's month, parents' enrolment with beds as a capacity
beside seats, the waiting list that moves up by the bed rule, the roll-call of a break, the
monthly report, the nightly check and the dashboard panel."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from afterschool import enrolment as engine
from afterschool import lunch
from afterschool import lunch_selectors as sel
from afterschool.lunch_checks import beds as beds_check
from afterschool.lunch_dashboard import lunch_by_arrangement
from afterschool.lunch_models import LunchChoice, LunchMonth
from afterschool.models import Attendance, Bill, Enrolment, Lesson, Offering
from portal.dashboard import Filters
from portal.models import AuditLog
from tests.afterschool.lunch_helpers import (
    families,
    lunch_plan,
    lunch_term,
    nap_room,
    next_month,
    open_month,
)

pytestmark = pytest.mark.django_db

BED, DESK = LunchChoice.Arrangement.BED, LunchChoice.Arrangement.DESK


def _nothing_opened():
    return LunchMonth.objects.count() == 0 and Offering.objects.count() == 0


def _open(w, **kw):
    lunch_plan(w.school_a)
    args = {"user": w.principal_a, "month": next_month(), "seats": 3, "beds": 1,
            "fee_per_month": Decimal("150"), "days": [0, 1, 2, 3, 4],
            "room_id": nap_room(w.school_a).pk} | kw  # fmt: skip
    return lunch.month_open(**args)


# --- the school's month -----------------------------------------------------------------------


def test_month_opens_offering_and_a_break_each_open_day_of_the_weekdays_offered(world):
    m = _open(world, days=[0, 2, 4], fee_per_month=Decimal("100"))
    o = m.offering
    assert o.kind == Offering.Kind.LUNCH and o.capacity == 3 and o.status == "published"
    dates = list(Lesson.objects.filter(offering=o).values_list("date", flat=True))
    assert dates and all(d.weekday() in (0, 2, 4) for d in dates)
    assert all(d.month == next_month().month for d in dates)
    # the per-day fee never bills above the month's fee (rounded down to the cent)
    assert o.fee_per_lesson == (Decimal("100") / len(dates)).quantize(Decimal("0.01"), "ROUND_DOWN")
    assert o.fee_per_lesson * len(dates) <= Decimal("100")
    assert AuditLog.objects.filter(action="afterschool.lunch.month_opened").count() == 1


def test_fee_at_the_cap_is_accepted(world, settings):
    settings.LUNCH_FEE_CAP_PER_MONTH = 200
    assert _open(world, fee_per_month=Decimal("200")).fee_per_month == Decimal("200")


def test_fee_one_cent_over_the_cap_is_refused_and_nothing_written(world, settings):
    settings.LUNCH_FEE_CAP_PER_MONTH = 200
    with pytest.raises(ValidationError) as exc:
        _open(world, fee_per_month=Decimal("200.01"))
    assert exc.value.message_dict["fee_per_month"] == [
        "每月收费：200.01 元超过本区午托收费上限每生每月 200 元（LUNCH_FEE_CAP_PER_MONTH）。"
    ]
    assert _nothing_opened()


def test_beds_below_zero_refused_zero_accepted(world):
    with pytest.raises(ValidationError) as exc:
        _open(world, beds=-1)
    assert exc.value.message_dict["beds"] == ["床位数：不能小于 0。"]
    assert _nothing_opened()
    assert _open(world, beds=0).beds == 0


def test_beds_up_to_the_seats_accepted_one_more_refused(world):
    with pytest.raises(ValidationError) as exc:
        _open(world, seats=3, beds=4)
    assert exc.value.message_dict["beds"] == ["床位数：4 张多于名额 3 个，床位只给有名额的学生。"]
    assert _nothing_opened()
    assert _open(world, seats=3, beds=3).beds == 3


def test_month_outside_the_term_refused(world):
    lunch_plan(world.school_a)
    after = lunch_term(world.school_a).end + dt.timedelta(days=40)
    with pytest.raises(ValidationError) as exc:
        _open(world, month=after)
    label = f"{after.year}年{after.month}月"
    assert exc.value.message_dict["month"] == [
        f"月份：{label}不在本校实施中的课后服务方案的学期内。"
    ]
    assert _nothing_opened()


def test_month_opened_twice_refused(world):
    _open(world)
    with pytest.raises(ValidationError) as exc:
        _open(world)
    assert "午托已开设" in exc.value.message_dict["month"][0]
    assert LunchMonth.objects.count() == 1


def test_room_smaller_than_the_seats_refused(world):
    lunch_plan(world.school_a)
    small = nap_room(world.school_a, capacity=2)
    small.capacity = 2
    small.save()
    with pytest.raises(ValidationError) as exc:
        _open(world, seats=3, room_id=small.pk)
    assert exc.value.message_dict["room"] == ["午休场地：午休室只能容纳 2 人，少于名额 3 个。"]


def test_only_the_principal_or_academic_office_opens_a_month(world):
    lunch_plan(world.school_a)
    with pytest.raises(PermissionDenied):
        _open(world, user=world.teacher_a)
    assert _nothing_opened()


# --- enrolment, beds and the waiting list -----------------------------------------------------


def _enrol(user, child, m, arrangement=BED, days=(0, 1, 2, 3, 4)):
    return lunch.enrol(user=user, child_id=child.pk, month_id=m.pk, arrangement=arrangement,
                       days=list(days))  # fmt: skip


def test_last_bed_taken_then_next_bed_request_waits_and_a_desk_still_gets_a_seat(world):
    m = open_month(world, seats=3, beds=1)
    (p1, c1), (p2, c2), (p3, c3) = families(world.class_a, 3)
    first = _enrol(p1, c1, m, BED)
    assert first.status == Enrolment.Status.ENROLLED and first.lunch_choice.arrangement == BED
    second = _enrol(p2, c2, m, BED)
    assert second.status == Enrolment.Status.WAITING
    assert lunch.waiting_reason(second) == (
        f"床位已满（共 1 张），{c2.name}已进入候补名单第 1 位，有空位时按报名先后递补。"
    )
    third = _enrol(p3, c3, m, DESK)
    assert third.status == Enrolment.Status.ENROLLED
    assert lunch.beds_taken(m.offering_id) == 1


def test_seats_full_puts_the_next_child_on_the_waiting_list(world):
    m = open_month(world, seats=1, beds=1)
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    _enrol(p1, c1, m, DESK)
    waiting = _enrol(p2, c2, m, DESK)
    assert waiting.status == Enrolment.Status.WAITING
    assert lunch.waiting_reason(waiting).startswith("名额已满（共 1 个）")


def test_a_freed_bed_moves_the_child_waiting_for_a_bed_up(world):
    m = open_month(world, seats=3, beds=1)
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    first = _enrol(p1, c1, m, BED)
    waiting = _enrol(p2, c2, m, BED)
    lunch.withdraw(user=p1, enrolment_id=first.pk)
    waiting.refresh_from_db()
    assert waiting.status == Enrolment.Status.ENROLLED
    assert lunch.beds_taken(m.offering_id) == 1


def test_a_freed_seat_without_a_free_bed_skips_the_bed_request(world):
    m = open_month(world, seats=2, beds=1)
    (p1, c1), (p2, c2), (p3, c3), (p4, c4) = families(world.class_a, 4)
    _enrol(p1, c1, m, BED)
    desk = _enrol(p2, c2, m, DESK)
    bed_waiting = _enrol(p3, c3, m, BED)  # first on the list, but no bed
    desk_waiting = _enrol(p4, c4, m, DESK)
    lunch.withdraw(user=p2, enrolment_id=desk.pk)
    bed_waiting.refresh_from_db()
    desk_waiting.refresh_from_db()
    assert bed_waiting.status == Enrolment.Status.WAITING
    assert desk_waiting.status == Enrolment.Status.ENROLLED
    assert lunch.beds_taken(m.offering_id) == 1


def test_days_not_offered_and_no_arrangement_refused_nothing_written(world):
    m = open_month(world, days=(0, 2))
    with pytest.raises(ValidationError) as exc:
        lunch.enrol(user=world.parent_a, child_id=world.child_a.pk, month_id=m.pk,
                    arrangement="floor", days=[1])  # fmt: skip
    assert exc.value.message_dict == {
        "arrangement": ["午休方式：请选择平躺睡（床位）或趴睡（课桌）。"],
        "days": ["午托日：请在本月开放的周一、周三中至少选择一天。"],
    }
    assert Enrolment.objects.count() == 0 and LunchChoice.objects.count() == 0


def test_enrolling_twice_is_refused(world):
    m = open_month(world)
    _enrol(world.parent_a, world.child_a, m)
    with pytest.raises(engine.AlreadyEnrolled):
        _enrol(world.parent_a, world.child_a, m, DESK)
    assert Enrolment.objects.count() == 1


def test_a_month_of_another_school_is_refused(world):
    open_month(world)
    other = open_month(world, school=world.school_b, user=world.principal_b)
    with pytest.raises(PermissionDenied):
        _enrol(world.parent_a, world.child_a, other)
    assert Enrolment.objects.count() == 0


def test_a_place_is_billed_per_break_day_within_the_month_fee(world):
    m = open_month(world, fee="150")
    e = _enrol(world.parent_a, world.child_a, m)
    bill = Bill.objects.get(enrolment=e)
    breaks = Lesson.objects.filter(offering=m.offering).count()
    assert bill.lessons == breaks and bill.amount <= Decimal("150")
    assert bill.amount == m.offering.fee_per_lesson * breaks


def test_a_waiting_place_is_not_billed(world):
    m = open_month(world, seats=1, beds=1)
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    _enrol(p1, c1, m, DESK)
    waiting = _enrol(p2, c2, m, DESK)
    assert not Bill.objects.filter(enrolment=waiting).exists()


# --- the roll-call of a break -----------------------------------------------------------------


def test_roll_call_expects_only_the_children_who_chose_the_weekday(world):
    m = open_month(world, seats=3, beds=3)
    lesson = Lesson.objects.filter(offering=m.offering).order_by("date").first()
    weekday = lesson.date.weekday()
    other_day = [d for d in range(5) if d != weekday][:1]
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    _enrol(p1, c1, m, BED, days=[weekday])
    _enrol(p2, c2, m, DESK, days=other_day)
    assert [e.child_id for e in lunch.expected(lesson)] == [c1.pk]
    during = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.start)) + dt.timedelta(
        minutes=1
    )
    lunch.roll_take(user=world.principal_a, lesson_id=lesson.pk,
                    marks={c1.pk: Attendance.Mark.PRESENT}, now=during)  # fmt: skip
    marks = dict(Attendance.objects.filter(lesson=lesson).values_list("child_id", "mark"))
    assert marks == {c1.pk: "present", c2.pk: "leave"}
    lesson.refresh_from_db()
    assert lesson.status == Lesson.Status.HELD


def test_roll_call_before_the_break_starts_is_refused(world):
    m = open_month(world)
    _enrol(world.parent_a, world.child_a, m)
    lesson = Lesson.objects.filter(offering=m.offering).order_by("date").first()
    with pytest.raises(ValidationError):
        lunch.roll_take(user=world.principal_a, lesson_id=lesson.pk,
                        marks={world.child_a.pk: "present"})  # fmt: skip
    assert not Attendance.objects.exists()


def test_a_teacher_not_on_duty_cannot_take_the_roll(world):
    m = open_month(world)
    lesson = Lesson.objects.filter(offering=m.offering).first()
    with pytest.raises(PermissionDenied):
        lunch.roll_take(user=world.teacher_a, lesson_id=lesson.pk, marks={})


# --- report, check, panel ---------------------------------------------------------------------


def _two_schools(world):
    m = open_month(world, seats=3, beds=1)
    (p1, c1), (p2, c2), (p3, c3) = families(world.class_a, 3)
    _enrol(p1, c1, m, BED)
    _enrol(p2, c2, m, BED)  # waits for a bed
    _enrol(p3, c3, m, DESK)
    open_month(world, school=world.school_b, user=world.principal_b, seats=5, beds=2)
    return m


def test_report_counts_pupils_per_arrangement_per_school(world, superuser):
    _two_schools(world)
    rows = sel.report(superuser, next_month())
    assert [(r["school"], r["bed"], r["desk"], r["total"], r["waiting"]) for r in rows] == [
        ("乙小学", 0, 0, 0, 0),
        ("甲小学", 1, 1, 2, 1),
    ]
    # a principal sees their own school only
    assert [r["school"] for r in sel.report(world.principal_a, next_month())] == ["甲小学"]


def test_check_finds_beds_given_above_the_beds_and_resolves(world):
    m = _two_schools(world)
    month_end = next_month().replace(day=28)
    assert list(beds_check(month_end, LunchMonth.objects.all())) == []
    LunchMonth.objects.filter(pk=m.pk).update(beds=0)
    found = list(beds_check(month_end, LunchMonth.objects.all()))
    assert [f.message for f in found] == [f"甲小学{m.offering.name}平躺睡 1 人，超过床位 0 张。"]


def test_check_finds_a_free_bed_with_a_bed_request_waiting(world):
    m = _two_schools(world)
    LunchMonth.objects.filter(pk=m.pk).update(beds=2)  # a bed added without a move up
    found = list(beds_check(next_month(), LunchMonth.objects.all()))
    assert len(found) == 1 and "没有递补" in found[0].message


def test_dashboard_panel_in_one_query(world):
    _two_schools(world)
    f = Filters(district=world.school_a.district, month=f"{next_month():%Y-%m}")
    with CaptureQueriesContext(connection) as queries:
        panel = lunch_by_arrangement(f)
    assert len(queries) == 1
    bars = {s.label: {b.label: b.value for b in s.bars} for s in panel.series}
    assert bars["平躺睡"]["甲小学"] == 1 and bars["趴睡"]["甲小学"] == 1
    assert ("床位使用", "1/3") in panel.figures


def test_demo_builds_a_month_through_the_services_once(world):
    from afterschool import lunch_demo

    lunch_plan(world.school_a)
    done = lunch_demo.build(principal_username="pa", child_name="甲同学")
    assert done and done[0].startswith("午托：甲小学")
    assert LunchMonth.objects.filter(school=world.school_a).count() == 1
    assert Enrolment.objects.filter(child=world.child_a).exists()
    assert lunch_demo.build(principal_username="pa", child_name="甲同学") == []


# --- changing a month's seats and beds --------------------------------------------------------


def test_more_beds_move_the_children_waiting_for_a_bed_up(world):
    m = open_month(world, seats=3, beds=1)
    (p1, c1), (p2, c2), (p3, c3) = families(world.class_a, 3)
    _enrol(p1, c1, m, BED)
    second = _enrol(p2, c2, m, BED)
    third = _enrol(p3, c3, m, BED)
    lunch.month_change(user=world.principal_a, month_id=m.pk, seats=3, beds=2)
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, third.status) == ("enrolled", "waiting")
    assert lunch.beds_taken(m.offering_id) == 2
    assert AuditLog.objects.filter(action="afterschool.lunch.month_changed").count() == 1


def test_beds_down_to_the_beds_taken_accepted_one_fewer_refused(world):
    m = open_month(world, seats=3, beds=2)
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    _enrol(p1, c1, m, BED)
    _enrol(p2, c2, m, BED)
    with pytest.raises(ValidationError) as exc:
        lunch.month_change(user=world.principal_a, month_id=m.pk, seats=3, beds=1)
    assert exc.value.message_dict == {"beds": ["床位数：不能少于已在平躺睡的 2 人。"]}
    m.refresh_from_db()
    assert m.beds == 2
    lunch.month_change(user=world.principal_a, month_id=m.pk, seats=2, beds=2)
    m.refresh_from_db()
    assert (m.beds, m.offering.capacity) == (2, 2)


def test_seats_below_the_places_taken_refused(world):
    m = open_month(world, seats=3, beds=1)
    (p1, c1), (p2, c2) = families(world.class_a, 2)
    _enrol(p1, c1, m, DESK)
    _enrol(p2, c2, m, DESK)
    with pytest.raises(ValidationError) as exc:
        lunch.month_change(user=world.principal_a, month_id=m.pk, seats=1, beds=1)
    assert exc.value.message_dict == {"seats": ["名额：不能少于已报名的 2 人。"]}


def test_another_schools_month_cannot_be_changed(world):
    m = open_month(world)
    with pytest.raises(PermissionDenied):
        lunch.month_change(user=world.principal_b, month_id=m.pk, seats=5, beds=1)


def test_a_lunch_month_is_never_entered_or_left_by_a_course_switch_nor_the_menu_enrol(world):
    """The general enrolment and the switch would give a place without days, arrangement or
    the bed rule: both refuse a lunch month, naming the page to use, and write nothing."""
    m = open_month(world, seats=3, beds=1)
    with pytest.raises(ValidationError) as exc:
        engine.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=m.offering_id)
    assert "午托请在午托页面报名" in exc.value.messages[0]
    place = lunch.enrol(
        user=world.parent_a, child_id=world.child_a.pk, month_id=m.pk, arrangement="desk",
        days=[0, 1],
    )  # fmt: skip
    club = Offering.objects.create(
        school=world.school_a, plan=m.offering.plan, name="趣味编程", kind="enrichment",
        grades=[1, 2, 3, 4, 5, 6], capacity=5, weekday=2, start=dt.time(15, 30),
        end=dt.time(16, 30), status=Offering.Status.PUBLISHED,
    )  # fmt: skip
    before = list(Enrolment.objects.values_list("pk", "offering_id", "status"))
    with pytest.raises(ValidationError) as exc:  # out of the lunch month
        engine.switch(user=world.parent_a, enrolment_id=place.pk, to_offering_id=club.pk)
    assert "假期托管和午托不能换课" in exc.value.messages[0]
    assert list(Enrolment.objects.values_list("pk", "offering_id", "status")) == before
