"""Holiday care on the engine: the vacation plan's rules, host sites, week blocks, enrolment,
bills per block, the waiting list; each rule at its boundary with its refusal."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from afterschool import enrolment, fees, holiday, lessons, plans
from afterschool.holiday_models import HostSite
from afterschool.models import (
    Bill,
    CareSite,
    Enrolment,
    Lesson,
    Offering,
    PlanItem,
    SchoolPlan,
    Waiver,
)
from portal.models import AuditLog, CalendarDay, CalendarYear, SchoolPeriod
from tests.afterschool.test_holiday_helpers import (
    WEEK_1,
    WEEK_ACROSS,
    bureau_as,
    designate,
    open_host,
    summer,
    vacation_plan,
)
from tests.factories import ChildFactory, SchoolClassFactory, SchoolFactory

NOW = timezone.make_aware(dt.datetime(2027, 6, 20, 9, 0))


# --- the vacation plan ------------------------------------------------------------------------


def _plan(world, **kw):
    return vacation_plan(
        world.school_a, summer(world.school_a.district), status=SchoolPlan.Status.DRAFT, **kw
    )


def test_vacation_plan_rules_replace_5_plus_2(world):
    plan = _plan(world)  # Mon–Fri 8:30–11:30: 3 hours, ends before off-work time: fine
    assert plans.plan_problems(plan) == {}
    plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    assert SchoolPlan.objects.get(pk=plan.pk).status == SchoolPlan.Status.SUBMITTED


@pytest.mark.parametrize(
    "field,kw,ok",
    [
        ("weekdays", {"weekdays": [0, 1, 2, 3, 4]}, True),
        ("weekdays", {"weekdays": [4, 5]}, False),
        ("start_time", {"start_time": dt.time(8, 30)}, True),
        ("start_time", {"start_time": dt.time(8, 31)}, False),
        ("end_time", {"end_time": dt.time(11, 30)}, True),
        ("end_time", {"end_time": dt.time(11, 29)}, False),
    ],
)
def test_vacation_plan_boundaries(world, field, kw, ok):
    problems = plans.plan_problems(_plan(world, **kw))
    assert (field not in problems) is ok
    if not ok:
        assert "假期托管" in problems[field][0]


def test_saturday_named(world):
    problems = plans.plan_problems(_plan(world, weekdays=[0, 5]))
    assert problems["weekdays"] == ["假期托管只在周一、周二、周三、周四、周五开展，方案中有周六。"]


def test_subject_item_refused_in_a_vacation_plan(world):
    plan = _plan(world)
    with pytest.raises(ValidationError) as exc:
        plans.plan_item_save(
            actor=world.principal_a, plan_id=plan.pk, name="数学", activity="subject"
        )
    assert "假期托管不得组织集体补课" in exc.value.message_dict["activity"][0]
    assert not plan.plan_items.filter(name="数学").exists()
    item = plans.plan_item_save(
        actor=world.principal_a, plan_id=plan.pk, name="球类", activity="sports_arts"
    )
    assert item.activity == "sports_arts"
    # one slipped in elsewhere (the admin): the plan cannot be submitted
    PlanItem.objects.create(plan=plan, name="语文", activity=PlanItem.Activity.SUBJECT)
    with pytest.raises(ValidationError) as exc:
        plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    assert "假期托管不得组织集体补课：服务项目“语文”为学科辅导。" in exc.value.messages


def test_a_term_plan_may_still_hold_a_subject_item(world):
    from tests.afterschool.helpers import live_plan

    plan = live_plan(world.school_a, status=SchoolPlan.Status.DRAFT)
    item = plans.plan_item_save(
        actor=world.principal_a, plan_id=plan.pk, name="数学答疑", activity="subject"
    )
    assert item.pk


def test_plan_save_accepts_a_vacation(world):
    vacation = summer(world.school_a.district)
    plan = plans.plan_save(
        actor=world.principal_a, term=vacation, weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(8, 0), end_time=dt.time(12, 0), items="看护",
    )  # fmt: skip
    assert plan.term == vacation


# --- the engine's wording for a vacation ----------------------------------------------------


def test_term_plan_problem_says_holiday(world):
    _host, blocks = open_host(world)
    block = blocks[0]
    assert lessons.term_plan_problem(block) is None
    SchoolPlan.objects.filter(pk=block.plan_id).update(status=SchoolPlan.Status.APPROVED)
    block.refresh_from_db()
    problem = lessons.term_plan_problem(Offering.objects.get(pk=block.pk))
    assert problem == "乙小学2027暑假的假期托管方案已批准，尚未实施，假期托管暂不开放报名。"


# --- designation ------------------------------------------------------------------------------


def test_designate_makes_the_school_site(world):
    host = designate(world, bureau_as())
    assert host.site.kind == CareSite.Kind.SCHOOL and host.site.school == world.school_b
    assert host.status == HostSite.Status.DRAFT
    assert AuditLog.objects.filter(action="afterschool.holiday.designated").count() == 1


@pytest.mark.parametrize("fee,ok", [("250", True), ("250.01", False)])
def test_fee_cap_per_week(world, fee, ok):
    if ok:
        assert designate(world, bureau_as(), fee=fee).fee_per_week == Decimal(fee)
        return
    with pytest.raises(ValidationError) as exc:
        designate(world, bureau_as(), fee=fee)
    assert exc.value.message_dict["fee_per_week"] == [
        "每周收费250.01元超过本区上限250元（每生每周）。"
    ]
    assert not HostSite.objects.exists()


def test_fee_cap_is_a_setting(world, settings):
    settings.HOLIDAY_CARE_FEE_CAP_PER_WEEK = 100
    with pytest.raises(ValidationError):
        designate(world, bureau_as(), fee="100.01")


@pytest.mark.parametrize(
    "kw,field,message",
    [
        ({"weeks": [dt.date(2027, 7, 6)]}, "weeks", "2027-07-06 不是周一：托管周以周一为第一天。"),  # noqa: E501
        ({"weeks": [dt.date(2027, 9, 6)]}, "weeks", "2027-09-06 这一周不在2027暑假（2027-07-03至2027-09-05）内。"),  # noqa: E501
        ({"days": [0, 5]}, "days", "假期托管只在周一、周二、周三、周四、周五开展，不能安排周六。"),  # noqa: E501
        ({"morning_start": dt.time(8, 31)}, "morning_start", "上午应不晚于08:30开始（本区假期托管规定）。"),  # noqa: E501
        ({"morning_end": dt.time(11, 29)}, "morning_end", "上午应至少持续到11:30（本区假期托管规定）。"),  # noqa: E501
        ({"served": []}, "served_schools", "请选择托管点服务的学校。"),  # noqa: E501
        ({"afternoon_start": dt.time(14, 0)}, "afternoon_end", "下午托管请同时填写开始和结束时间，不开展则都不填。"),  # noqa: E501
    ],
)  # fmt: skip
def test_designation_refusals(world, kw, field, message):
    with pytest.raises(ValidationError) as exc:
        designate(world, bureau_as(), **kw)
    assert message in exc.value.message_dict[field]
    assert not HostSite.objects.exists()


def test_capacity_within_the_site(world):
    bureau = bureau_as()
    designate(world, bureau, capacity=2)  # the school's site is made with capacity 2
    site = CareSite.objects.get(school=world.school_b)
    vacation = summer(world.school_a.district)
    winter = SchoolPeriod.objects.create(
        district=vacation.district, name="2027寒假", kind="winter",
        start=dt.date(2027, 1, 23), end=dt.date(2027, 2, 20), status="active",
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        holiday.host_designate(
            actor=bureau, vacation_id=winter.pk, site_id=site.pk,
            served_school_ids=[world.school_a.pk], weeks=[dt.date(2027, 1, 25)], capacity=3,
            fee_per_week=Decimal("0"), morning_start=dt.time(8), morning_end=dt.time(12),
        )  # fmt: skip
    assert exc.value.message_dict["capacity"] == ["每周名额3人超过乙小学的容纳人数2人。"]


def test_only_bureau_of_afterschool_designates(world):
    with pytest.raises(PermissionDenied):
        designate(world, world.bureau)  # the homework line
    with pytest.raises(PermissionDenied):
        designate(world, world.principal_a)


# --- opening ----------------------------------------------------------------------------------


def test_open_refused_without_an_approved_plan(world):
    bureau = bureau_as()
    host = designate(world, bureau)
    with pytest.raises(ValidationError) as exc:
        holiday.host_open(actor=bureau, host_id=host.pk)
    assert exc.value.messages == ["乙小学没有经批准的2027暑假假期托管方案，托管点不能开放。"]
    vacation_plan(world.school_b, host.vacation, status=SchoolPlan.Status.SUBMITTED)
    with pytest.raises(ValidationError) as exc:
        holiday.host_open(actor=bureau, host_id=host.pk)
    assert "乙小学的方案已提交，没有经批准的" in exc.value.messages[0]
    assert not Offering.objects.exists()
    assert HostSite.objects.get(pk=host.pk).status == HostSite.Status.DRAFT


def test_open_refused_with_a_subject_item(world):
    bureau = bureau_as()
    host = designate(world, bureau)
    plan = vacation_plan(world.school_b, host.vacation)
    PlanItem.objects.create(plan=plan, name="数学", activity=PlanItem.Activity.SUBJECT)
    with pytest.raises(ValidationError) as exc:
        holiday.host_open(actor=bureau, host_id=host.pk)
    assert exc.value.messages == ["假期托管不得组织集体补课：乙小学方案中的“数学”为学科辅导。"]
    assert not Offering.objects.exists()


def test_open_refused_when_no_week_has_a_care_day_and_the_calendar_is_unknown(world):
    """A vacation of a year whose holidays nobody has entered: no day is guessed (春节 could
    fall in it), so no week can open, and the refusal says what to enter."""
    bureau = bureau_as()
    host = designate(world, bureau)
    vacation_plan(world.school_b, host.vacation)
    CalendarYear.objects.filter(year=2027).delete()
    with pytest.raises(ValidationError) as exc:
        holiday.host_open(actor=bureau, host_id=host.pk)
    assert exc.value.messages[0].startswith("没有可开放的托管周：")
    assert "录入该年的节假日安排" in exc.value.messages[0]
    assert not Offering.objects.exists()
    assert HostSite.objects.get(pk=host.pk).status == HostSite.Status.DRAFT


def test_open_makes_one_block_a_week_with_its_lessons(world):
    CalendarDay.objects.get_or_create(
        date=dt.date(2027, 7, 14), defaults={"kind": "holiday", "name": "测试节日"}
    )
    host, blocks = open_host(world, fee="200")
    assert host.status == HostSite.Status.OPEN
    assert [(b.starts_on, b.ends_on) for b in blocks] == [
        (dt.date(2027, 7, 5), dt.date(2027, 7, 9)),
        (dt.date(2027, 7, 12), dt.date(2027, 7, 16)),
    ]
    first, second = blocks
    assert first.kind == Offering.Kind.HOLIDAY and first.school == world.school_b
    assert set(first.served_schools.all()) == {world.school_a, world.school_b}
    assert first.lessons.count() == 5 and first.fee_per_lesson == Decimal("40.00")
    # the statutory holiday is closed: four days, 200 / 4 a day
    assert sorted(second.lessons.values_list("date", flat=True)) == [
        dt.date(2027, 7, 12), dt.date(2027, 7, 13), dt.date(2027, 7, 15), dt.date(2027, 7, 16)
    ]  # fmt: skip
    assert second.fee_per_lesson == Decimal("50.00")
    # generating again adds nothing
    assert lessons.lessons_generate(first) == (0, "")
    assert Lesson.objects.filter(offering=first).count() == 5


def test_block_fee_never_above_the_week(world):
    CalendarDay.objects.get_or_create(date=dt.date(2027, 7, 7), defaults={"kind": "holiday"})
    CalendarDay.objects.get_or_create(date=dt.date(2027, 7, 8), defaults={"kind": "holiday"})
    _host, (block, _second) = open_host(world, fee="200")
    assert block.lessons.count() == 3
    assert block.fee_per_lesson == Decimal("66.66")  # 199.98 ≤ 200


def test_close_stops_enrolment(world):
    bureau = bureau_as()
    host, blocks = open_host(world, bureau)
    holiday.host_close(actor=bureau, host_id=host.pk, reason="场地维修")
    assert set(
        Offering.objects.filter(pk__in=[b.pk for b in blocks]).values_list("status", flat=True)
    ) == {"closed"}  # noqa: E501
    with pytest.raises(ValidationError) as exc:
        holiday.host_close(actor=bureau, host_id=host.pk, reason="")
    assert exc.value.message_dict["reason"] == ["关闭托管点必须说明原因。"]


# --- parents ----------------------------------------------------------------------------------


def test_enrol_across_schools_and_bill_per_block(world):
    _host, (block, _) = open_host(world)
    e = holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    assert e.status == Enrolment.Status.ENROLLED
    bill = Bill.objects.get(enrolment=e)
    assert (bill.period_start, bill.period_end, bill.lessons, bill.amount) == (
        dt.date(2027, 7, 5),
        dt.date(2027, 7, 9),
        5,
        Decimal("200.00"),
    )
    assert bill.school_id == world.school_b.pk  # the host school's collection account


def test_one_bill_across_a_month_end(world):
    _host, (block,) = open_host(world, weeks=[WEEK_ACROSS])
    assert (block.starts_on, block.ends_on) == (dt.date(2027, 8, 30), dt.date(2027, 9, 3))
    e = holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    bills = list(Bill.objects.filter(enrolment=e))
    assert len(bills) == 1
    assert (bills[0].period_start, bills[0].period_end, bills[0].amount) == (
        dt.date(2027, 8, 30),
        dt.date(2027, 9, 3),
        Decimal("200.00"),
    )
    # the school's monthly run for September issues nothing for the block
    assert fees.bills_issue(actor=world.principal_b, period_start=dt.date(2027, 9, 1),
                            today=dt.date(2027, 8, 25)) == 0  # fmt: skip


def test_waiver_of_the_term_applies_to_the_vacation(world):
    term = SchoolPeriod.objects.create(
        district=world.school_a.district, name="2027春季学期", kind="term",
        start=dt.date(2027, 2, 21), end=dt.date(2027, 7, 2), status="active",
    )  # fmt: skip
    Waiver.objects.create(
        child=world.child_a, term=term, percent=50, reason="困难", by=world.principal_a
    )
    _host, (block, _) = open_host(world)
    e = holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    bill = Bill.objects.get(enrolment=e)
    assert (bill.gross, bill.waived, bill.amount) == (
        Decimal("200.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    )


def test_unserved_school_refused_nothing_written(world):
    _host, (block, _) = open_host(world, served=[world.school_b.pk])
    with pytest.raises(ValidationError) as exc:
        holiday.enrol_week(
            user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
        )
    assert exc.value.message_dict["offering"] == [
        "乙小学的假期托管只服务指定学校的学生，甲同学所在的甲小学不在其中。"
    ]
    assert not Enrolment.objects.exists() and not Bill.objects.exists()
    # the engine's own door says the same
    with pytest.raises(ValidationError):
        enrolment.enrol(
            user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
        )


def test_full_week_puts_the_child_on_the_waiting_list(world):
    from tests.afterschool.helpers import family

    _host, (block, _) = open_host(world, capacity=1)
    ((other, other_child),) = family(world.class_a, 1, prefix="hol")
    holiday.enrol_week(user=other, child_id=other_child.pk, offering_id=block.pk, now=NOW)
    e = holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    assert e.status == Enrolment.Status.WAITING
    assert not Bill.objects.filter(enrolment=e).exists()  # a waiting place is never billed
    assert enrolment.waiting_position(e) == 1
    # the first withdraws before the week begins: the waiting child moves up and is billed
    first = Enrolment.objects.get(child=other_child)
    holiday.withdraw_week(user=other, enrolment_id=first.pk, now=NOW)
    e.refresh_from_db()
    assert e.status == Enrolment.Status.ENROLLED
    assert Bill.objects.filter(enrolment=e, amount=Decimal("200.00")).exists()


def test_enrol_refused_when_the_plan_gets_a_subject_item(world):
    _host, (block, _) = open_host(world)
    PlanItem.objects.create(plan=block.plan, name="英语", activity=PlanItem.Activity.SUBJECT)
    with pytest.raises(ValidationError) as exc:
        holiday.enrol_week(
            user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
        )
    assert "假期托管不得组织集体补课" in exc.value.message_dict["offering"][0]
    assert not Enrolment.objects.exists()


def test_community_site_serves_its_district(world):
    from tests.factories import CommunitySiteFactory

    site = CommunitySiteFactory(district=world.school_a.district, partner_school=world.school_a)
    vacation_plan(world.school_a, summer(world.school_a.district))
    _host, blocks = open_host(world, school_id=None, site_id=site.pk, served=[world.school_b.pk])
    block = blocks[0]
    # a community site takes pupils of every school of its district (the engine's rule)
    assert enrolment.may_serve(block, world.school_b.pk)
    elsewhere = SchoolFactory(name="外区小学")
    assert not enrolment.may_serve(block, elsewhere.pk)
    child = ChildFactory(school_class=SchoolClassFactory(school=elsewhere, grade=3))
    assert enrolment.whose_pupils(block, child) == f"{site.name}只服务本区学校的学生。"


def test_a_term_course_still_refuses_another_school(world):
    from tests.afterschool.helpers import offering

    course = offering(world.school_b)
    assert enrolment.whose_pupils(course, world.child_a) == "只能报名孩子所在学校的课程。"


def test_enrolling_twice_says_so_and_changes_nothing(world):
    _host, (block, _) = open_host(world)
    holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    with pytest.raises(enrolment.AlreadyEnrolled):
        holiday.enrol_week(
            user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
        )
    assert Enrolment.objects.count() == 1 and Bill.objects.count() == 1


def test_two_host_sites_the_same_week_clash(world):
    bureau = bureau_as()
    _host, (block, _) = open_host(world, bureau)
    school_c = SchoolFactory(name="丙小学", district=world.school_a.district)
    vacation_plan(school_c, summer(world.school_a.district))
    other = designate(world, bureau, school_id=school_c.pk, weeks=[WEEK_1])
    other = holiday.host_open(actor=bureau, host_id=other.pk)
    elsewhere = other.blocks.get().offering
    holiday.enrol_week(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=block.pk, now=NOW
    )
    with pytest.raises(ValidationError) as exc:
        holiday.enrol_week(
            user=world.parent_a, child_id=world.child_a.pk, offering_id=elsewhere.pk, now=NOW
        )
    assert "时间冲突" in exc.value.message_dict["offering"][0]


def test_parents_see_a_week_as_the_enrolment_rule_serves_them(world):
    """Offering's parent scope follows may_serve: a school host site's week reaches the
    parents of the schools it serves only; a community site's course every school's of its
    district."""
    from portal.access import scope
    from tests.factories import CommunitySiteFactory, ParentFactory

    _host, (block, _) = open_host(world, served=[world.school_b.pk])  # 乙小学 serves itself
    outsider = ParentFactory()  # 丙小学 of the same district, not served
    school_c = SchoolFactory(name="丙小学", district=world.school_a.district)
    ChildFactory(school_class=SchoolClassFactory(school=school_c, grade=3)).parents.add(outsider)
    assert not enrolment.may_serve(block, school_c.pk)
    assert not scope(Offering.objects.filter(pk=block.pk), outsider.user).exists()
    assert not scope(Offering.objects.filter(pk=block.pk), world.parent_a).exists()
    site = CommunitySiteFactory(district=world.school_a.district, partner_school=world.school_a)
    community = Offering.objects.filter(pk=block.pk)
    community.update(site=site)
    assert enrolment.may_serve(community.get(), school_c.pk)
    assert scope(Offering.objects.filter(pk=block.pk), outsider.user).exists()
