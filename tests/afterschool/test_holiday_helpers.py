"""The holiday world (no tests here: shared by test_holiday*.py, the POST cases and the
journey). Summer 2027 of the world's district, active; 乙小学 (school_b) hosts, 甲小学's
pupils (child_a, parent_a) are served; the weeks are Mondays of July–September 2027."""

import datetime as dt
from decimal import Decimal

from afterschool import holiday
from afterschool.models import PlanItem, SchoolPlan
from portal.models import CalendarYear, SchoolPeriod
from tests.post_routes import staff_of

WEEK_1 = dt.date(2027, 7, 5)
WEEK_2 = dt.date(2027, 7, 12)
WEEK_ACROSS = dt.date(2027, 8, 30)  # Mon 30 Aug to Fri 3 Sep: one bill across the month


def summer(district, status="active"):
    for year in (2027,):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "staff"})
    return SchoolPeriod.objects.get_or_create(
        district=district,
        name="2027暑假",
        defaults={
            "kind": SchoolPeriod.Kind.SUMMER,
            "start": dt.date(2027, 7, 3),
            "end": dt.date(2027, 9, 5),
            "status": status,
        },
    )[0]


def vacation_plan(school, vacation, status=SchoolPlan.Status.IN_EFFECT, **kw):
    plan = SchoolPlan.objects.create(
        school=school,
        term=vacation,
        weekdays=kw.pop("weekdays", [0, 1, 2, 3, 4]),
        start_time=kw.pop("start_time", dt.time(8, 30)),
        end_time=kw.pop("end_time", dt.time(11, 30)),
        items="看护、自主学习、文体活动、阅读",
        status=status,
    )
    PlanItem.objects.create(plan=plan, name="看护", activity=PlanItem.Activity.CARE)
    PlanItem.objects.create(plan=plan, name="阅读", activity=PlanItem.Activity.READING)
    return plan


def bureau_as(username="bureau_holiday"):
    return staff_of("课后服务", username)


def designate(world, bureau, *, weeks=(WEEK_1, WEEK_2), capacity=2, fee="200", **kw):
    vacation = summer(world.school_a.district)
    return holiday.host_designate(
        actor=bureau,
        vacation_id=vacation.pk,
        school_id=kw.pop("school_id", world.school_b.pk),
        served_school_ids=kw.pop("served", [world.school_a.pk, world.school_b.pk]),
        weeks=list(weeks),
        capacity=capacity,
        fee_per_week=Decimal(fee),
        morning_start=kw.pop("morning_start", dt.time(8, 30)),
        morning_end=kw.pop("morning_end", dt.time(11, 30)),
        **kw,
    )


def open_host(world, bureau=None, **kw):
    """A host site at 乙小学 for summer 2027, its plan in effect, opened: (host, blocks)."""
    bureau = bureau or bureau_as()
    vacation = summer(world.school_a.district)
    if not SchoolPlan.objects.filter(school=world.school_b, term=vacation).exists():
        vacation_plan(world.school_b, vacation)
    host = designate(world, bureau, **kw)
    host = holiday.host_open(actor=bureau, host_id=host.pk)
    blocks = [b.offering for b in host.blocks.select_related("offering").order_by("week")]
    return host, blocks
