import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from afterschool import enrolment, fees, lessons
from afterschool.models import (
    AfterschoolPolicy,
    Attendance,
    AttendanceChange,
    Bill,
    FeeRule,
    Lesson,
    Provider,
    ProviderContract,
    Settlement,
)
from portal.compliance import run_checks
from portal.models import Finding, SchoolStaff
from tests.afterschool.fees_helpers import balanced_ledger, during, early, paid_course, today  # noqa: F401
from tests.factories import SchoolStaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]


@pytest.fixture
def course(world):
    c = paid_course(world.school_a)
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=c.pk, now=early(c))
    return c


def admitted_contract(name, code, items, price, outside):
    """An admitted provider with a contract running around today."""
    provider = Provider.objects.create(name=name, credit_code=code, status=Provider.Status.ADMITTED)
    return ProviderContract.objects.create(
        provider=provider,
        items=items,
        price_per_lesson=Decimal(price),
        outside_price=Decimal(outside),
        start=today() - dt.timedelta(days=60),
        end=today() + dt.timedelta(days=60),
    )


def lesson_on(course, day):
    return Lesson.objects.get(offering=course, date=day)


def test_the_roll_must_cover_exactly_the_children_enrolled(world, course):
    lesson = lesson_on(course, today())
    now = during(lesson)
    with pytest.raises(ValidationError, match="不一致"):
        lessons.roll_submit(user=world.teacher_a, lesson_id=lesson.pk, marks={}, now=now)
    with pytest.raises(ValidationError, match="不一致"):
        lessons.roll_submit(
            user=world.teacher_a,
            lesson_id=lesson.pk,
            marks={world.child_a.pk: "present", world.child_b.pk: "present"},
            now=now,
        )
    lessons.roll_submit(
        user=world.teacher_a, lesson_id=lesson.pk, marks={world.child_a.pk: "absent"}, now=now
    )
    lesson.refresh_from_db()
    assert lesson.status == Lesson.Status.HELD and lesson.roll_by == world.teacher_a


def test_the_roll_opens_when_the_lesson_starts_and_only_for_the_courses_teachers(world, course):
    lesson = lesson_on(course, today())
    starts = during(lesson) - dt.timedelta(minutes=1)
    with pytest.raises(ValidationError, match="上课开始后开放"):
        lessons.roll_submit(
            user=world.teacher_a,
            lesson_id=lesson.pk,
            marks={world.child_a.pk: "present"},
            now=starts - dt.timedelta(seconds=1),
        )
    other = SchoolStaffFactory(school=world.school_a, name="别的老师").user
    for user in (other, world.principal_b, world.parent_a):
        with pytest.raises(PermissionDenied):
            lessons.roll_submit(
                user=user, lesson_id=lesson.pk, marks={world.child_a.pk: "present"}, now=starts
            )
    lessons.roll_submit(
        user=world.teacher_a, lesson_id=lesson.pk, marks={world.child_a.pk: "present"}, now=starts
    )


def test_a_submitted_roll_is_locked_and_changes_only_by_an_approved_correction(world, course):
    lesson = lesson_on(course, today())
    lessons.roll_submit(
        user=world.teacher_a,
        lesson_id=lesson.pk,
        marks={world.child_a.pk: "absent"},
        now=during(lesson),
    )
    with pytest.raises(ValidationError, match="已提交并锁定"):
        lessons.roll_submit(
            user=world.teacher_a,
            lesson_id=lesson.pk,
            marks={world.child_a.pk: "present"},
            now=during(lesson),
        )
    mark = Attendance.objects.get(lesson=lesson)
    with pytest.raises(ValidationError) as exc:
        lessons.correction_request(
            user=world.teacher_a, attendance_id=mark.pk, mark="leave", reason=""
        )
    assert "reason" in exc.value.message_dict
    asked = lessons.correction_request(
        user=world.teacher_a, attendance_id=mark.pk, mark="leave", reason="家长补交假条"
    )
    assert Attendance.objects.get(pk=mark.pk).mark == "absent"  # not until approved
    with pytest.raises(PermissionDenied):  # the teacher does not approve their own
        lessons.correction_decide(user=world.teacher_a, request_id=asked.pk, approve=True)
    lessons.correction_decide(user=world.principal_a, request_id=asked.pk, approve=True)
    change = AttendanceChange.objects.get(attendance=mark)
    assert (change.old, change.new, change.reason) == ("absent", "leave", "家长补交假条")
    assert Attendance.objects.get(pk=mark.pk).mark == "leave"
    # a second correction keeps the first: the whole history stays
    lessons.attendance_correct(
        user=world.principal_a, attendance_id=mark.pk, mark="present", reason="核对签到表"
    )
    assert list(AttendanceChange.objects.filter(attendance=mark).values_list("old", "new")) == [
        ("absent", "leave"),
        ("leave", "present"),
    ]
    with pytest.raises(PermissionDenied):
        lessons.correction_request(
            user=world.principal_b, attendance_id=mark.pk, mark="absent", reason="x"
        )


def test_teacher_signs_in_and_out_on_the_day(world, course):
    lesson = lesson_on(course, today())
    with pytest.raises(ValidationError, match="先签到"):
        lessons.teacher_sign(user=world.teacher_a, lesson_id=lesson.pk, out=True)
    lessons.teacher_sign(user=world.teacher_a, lesson_id=lesson.pk)
    first = Lesson.objects.get(pk=lesson.pk).teacher_in_at
    lessons.teacher_sign(user=world.teacher_a, lesson_id=lesson.pk)  # a second press
    assert Lesson.objects.get(pk=lesson.pk).teacher_in_at == first
    lessons.teacher_sign(user=world.teacher_a, lesson_id=lesson.pk, out=True)
    assert Lesson.objects.get(pk=lesson.pk).teacher_out_at is not None


def test_lessons_follow_the_calendar_and_generate_once(world):
    from afterschool.models import Offering, SchoolPlan
    from portal.models import SchoolPeriod

    term = SchoolPeriod.objects.create(
        district=world.school_a.district,
        name="2026秋",
        kind="term",
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 10, 31),
        status="active",  # issue 13: lessons are generated only in an active term
    )
    plan = SchoolPlan.objects.create(
        school=world.school_a,
        term=term,
        weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(15, 30),
        end_time=dt.time(17, 30),
        items="托管",
        status="in_effect",
    )
    course = Offering.objects.create(
        school=world.school_a,
        plan=plan,
        name="书法",
        kind="care",
        grades=[3],
        capacity=5,
        weekday=3,
        start=dt.time(15, 30),
        end=dt.time(16, 30),
    )
    created, note = lessons.lessons_generate(course)
    dates = list(course.lessons.values_list("date", flat=True))
    # Thursdays of September and October 2026, less 国庆节 (2026-10-01 and -10-08 are holidays)
    assert dt.date(2026, 9, 3) in dates and dt.date(2026, 10, 1) not in dates
    assert created == len(dates) and note == ""
    assert lessons.lessons_generate(course) == (0, "")


def settle_ready(world, course, marks):
    """Every lesson of the term held, with these marks for the child (as at each lesson)."""
    for lesson, mark in zip(course.lessons.order_by("date"), marks, strict=True):
        lessons.roll_submit(
            user=world.teacher_a,
            lesson_id=lesson.pk,
            marks={world.child_a.pk: mark},
            now=during(lesson),
        )


def test_settlement_pays_delivered_lessons_and_balances_to_the_fee(world, course):
    from afterschool import payments

    FeeRule.objects.filter(school=world.school_a).update(subsidy_per_lesson=Decimal("5"))
    bill = Bill.objects.get(child=world.child_a)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    payments.notify("sandbox", *payments.PROVIDERS["sandbox"].notification(payment))
    with pytest.raises(ValidationError, match="未点名"):
        fees.settlement_post(actor=world.principal_a, term_id=course.plan.term_id)
    settle_ready(world, course, ["present", "leave", "absent"])  # the leave is refunded
    with pytest.raises(PermissionDenied):  # the principal confirms the settlement
        academic = SchoolStaffFactory(school=world.school_a, role=SchoolStaff.Role.ACADEMIC)
        fees.settlement_post(actor=academic.user, term_id=course.plan.term_id)
    s = fees.settlement_post(actor=world.principal_a, term_id=course.plan.term_id)
    assert fees.held(bill) == 0  # the leave refunded, the rest consumed
    assert (s.fees, s.providers, s.subsidies) == (40, 0, 15)  # 3 lessons held x 5 yuan
    assert s.pool == 25 and s.fees == s.providers + s.subsidies + s.pool
    assert fees.settlement_post(actor=world.principal_a, term_id=course.plan.term_id).pk == s.pk
    assert Settlement.objects.count() == 1
    mark = Attendance.objects.filter(lesson__offering=course).first()
    with pytest.raises(ValidationError, match="已结算"):
        lessons.attendance_correct(
            user=world.principal_a, attendance_id=mark.pk, mark="leave", reason="晚了"
        )


def test_a_providers_course_is_paid_per_child_lesson_at_the_contract_price(world):
    contract = admitted_contract("星火科创", "91110000MA0000001X", "编程", "30", "80")
    provider = contract.provider
    course = paid_course(world.school_a, fee="30.00", contract=contract)
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    fees.waiver_set(
        actor=world.principal_a,
        child_id=world.child_a.pk,
        term_id=course.plan.term_id,
        percent=100,
        reason="困难家庭",
    )
    settle_ready(world, course, ["present"] * 3)
    report = fees.settlement_report(world.school_a, course.plan.term)
    # the waived child paid nothing, yet the provider delivered three lessons to them
    assert report.fees == 0 and report.providers[provider] == {"lessons": 3, "amount": 90}
    assert report.pool == -90  # to be covered by the public subsidy (财政奖补)
    from openpyxl import load_workbook

    from afterschool.fee_views import settlement_xlsx

    wb = load_workbook(io.BytesIO(settlement_xlsx(report, None)))
    summary = [row for row in wb["汇总"].iter_rows(values_only=True)]
    assert summary[-1] == ("核对：机构 + 补助 + 绩效 − 费用", 0)
    assert wb["第三方机构"]["C2"].value == 90


@pytest.mark.parametrize("rate,found", [("49.99", True), ("50.00", False), ("50.01", False)])
def test_a_subsidy_under_the_floor_is_a_finding(world, rate, found):
    assert AfterschoolPolicy.current().teacher_subsidy_floor == 50
    FeeRule.objects.create(school=world.school_a, subsidy_per_lesson=Decimal(rate))
    run_checks(for_date=today(), rules=["afterschool.school.subsidy_under_floor"])
    assert Finding.objects.filter(rule="afterschool.school.subsidy_under_floor").exists() is found


def test_unpaid_bills_past_due_and_courses_over_capacity_are_findings(world, course):
    bill = Bill.objects.get(child=world.child_a)
    rules = ["afterschool.bill.overdue", "afterschool.offering.over_capacity"]
    run_checks(for_date=bill.due_on, rules=rules)  # due today: not yet overdue
    assert not Finding.objects.filter(rule__in=rules).exists()
    run_checks(for_date=bill.due_on + dt.timedelta(days=1), rules=rules)
    assert Finding.objects.get(rule="afterschool.bill.overdue").school == world.school_a
    course.capacity = 0  # staff lowered the places under those taken (admin, raw)
    type(course).objects.filter(pk=course.pk).update(capacity=0)
    run_checks(for_date=bill.due_on + dt.timedelta(days=1), rules=rules)
    assert Finding.objects.filter(rule="afterschool.offering.over_capacity").exists()


def test_the_nightly_task_adds_the_lessons_of_a_year_entered_later(world):
    from afterschool.models import Offering, SchoolPlan
    from afterschool.tasks import lessons_extend
    from portal.models import CalendarDay, CalendarYear, SchoolPeriod

    year = max(CalendarYear.objects.values_list("year", flat=True)) + 1
    term = SchoolPeriod.objects.create(
        district=world.school_a.district,
        name="跨年学期",
        kind="term",
        start=dt.date(year - 1, 12, 1),
        end=dt.date(year, 1, 15),
        status="active",  # issue 13: lessons are generated only in an active term
    )
    plan = SchoolPlan.objects.create(
        school=world.school_a,
        term=term,
        weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(15, 30),
        end_time=dt.time(17, 30),
        items="托管",
        status="in_effect",
    )
    course = Offering.objects.create(
        school=world.school_a,
        plan=plan,
        name="书法",
        kind="care",
        grades=[3],
        capacity=5,
        weekday=4,
        start=dt.time(15, 30),
        end=dt.time(16, 30),
        status="published",
    )
    created, note = lessons.lessons_generate(course)
    assert f"{year} 年" in note
    assert not course.lessons.filter(date__year=year).exists()
    CalendarYear.objects.create(year=year, source="staff")
    CalendarDay.objects.create(date=dt.date(year, 1, 1), kind="holiday", name="元旦")
    fridays = [dt.date(year, 1, d) for d in range(2, 16) if dt.date(year, 1, d).weekday() == 4]
    assert lessons_extend(today=f"{year - 1}-12-01") >= len(fridays)
    assert sorted(course.lessons.filter(date__year=year).values_list("date", flat=True)) == fridays


def test_a_providers_exit_cancels_its_future_lessons_and_their_fee_goes_back(world):
    from django.contrib.auth.models import Group

    from afterschool import payments, providers
    from tests.factories import UserFactory

    contract = admitted_contract("启航体育", "91110000MA0000002X", "篮球", "20", "60")
    provider = contract.provider
    course = paid_course(world.school_a, contract=contract)
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    bill = Bill.objects.get(child=world.child_a)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    payments.notify("sandbox", *payments.PROVIDERS["sandbox"].notification(payment))
    staff = UserFactory(username="as_exit", is_staff=True)
    staff.groups.add(Group.objects.get(name="课后服务"))
    providers.provider_exit(actor=staff, provider_id=provider.pk, reason="年审不合格")
    future = course.lessons.filter(date__gt=today())
    assert {lesson.status for lesson in future} == {Lesson.Status.CANCELLED}
    assert fees.refunds_run(actor=world.principal_a) == (1, Decimal("40.00"))
    assert fees.held(bill) == 20  # today's lesson is still the provider's to give


def test_a_parent_rates_a_course_once_it_has_ended(world, client_for):
    from django.urls import reverse

    from afterschool.models import Rating

    course = paid_course(world.school_a, weeks=(-2, -1, 0))
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    c = client_for(world.parent_a)
    assert c.get(reverse("afterschool:rate", args=[course.pk])).status_code == 403  # not over
    course.lessons.filter(date__gte=today()).delete()  # as if the term had run out
    r = c.post(reverse("afterschool:rate", args=[course.pk]), {"stars": "6", "comment": "好"})
    assert "1 至 5 星" in r.content.decode() and ">好</textarea>" in r.content.decode()
    c.post(reverse("afterschool:rate", args=[course.pk]), {"stars": "5"})
    c.post(reverse("afterschool:rate", args=[course.pk]), {"stars": "1"})
    assert list(Rating.objects.values_list("stars", flat=True)) == [5]
    stranger = client_for(world.principal_a)
    assert stranger.get(reverse("afterschool:rate", args=[course.pk])).status_code == 403
