"""Holiday care's nightly checks and its dashboard panel."""

import datetime as dt

import pytest

from afterschool import holiday
from afterschool.holiday_dashboard import places
from afterschool.models import Offering, SchoolPlan
from portal.compliance import run_checks
from portal.dashboard import Filters
from portal.models import Finding
from tests.afterschool.test_holiday_helpers import WEEK_1, open_host

pytestmark = pytest.mark.django_db

NOT_READY = "afterschool.holiday.week_not_ready"
OVER = "afterschool.holiday.over_capacity"


def found(rule, for_date):
    run_checks(for_date=for_date, rules=[rule])
    return list(
        Finding.objects.filter(rule=rule, resolved_at__isnull=True).values_list(
            "message", flat=True
        )
    )


@pytest.mark.parametrize("days_before,flagged", [(3, True), (4, False)])
def test_a_week_about_to_start_without_its_plan_in_effect(world, days_before, flagged):
    _host, (block, _) = open_host(world)
    SchoolPlan.objects.filter(pk=block.plan_id).update(status=SchoolPlan.Status.APPROVED)
    messages = found(NOT_READY, WEEK_1 - dt.timedelta(days=days_before))
    assert bool(messages) is flagged
    if flagged:
        assert "乙小学的假期托管方案已批准" in messages[0]


def test_the_finding_resolves_once_the_plan_is_in_effect(world):
    _host, (block, _) = open_host(world)
    SchoolPlan.objects.filter(pk=block.plan_id).update(status=SchoolPlan.Status.APPROVED)
    day = WEEK_1 - dt.timedelta(days=1)
    assert found(NOT_READY, day)
    SchoolPlan.objects.filter(pk=block.plan_id).update(status=SchoolPlan.Status.IN_EFFECT)
    assert found(NOT_READY, day) == []


def test_places_above_capacity(world):
    from tests.afterschool.helpers import family

    _host, (block, _) = open_host(world, capacity=2)
    for user, child in family(world.class_a, 2, prefix="cap"):
        holiday.enrol_week(user=user, child_id=child.pk, offering_id=block.pk)
    day = WEEK_1 - dt.timedelta(days=5)
    assert found(OVER, day) == []
    Offering.objects.filter(pk=block.pk).update(capacity=1)  # lowered after the enrolments
    assert found(OVER, day) == ["乙小学2027-07-05起的托管周已报名2人，超过名额1人。"]


def test_the_panel_in_one_query(world, django_assert_num_queries):
    from tests.afterschool.helpers import family

    _host, (block, _) = open_host(world, capacity=3)
    for user, child in family(world.class_a, 2, prefix="pan"):
        holiday.enrol_week(user=user, child_id=child.pk, offering_id=block.pk)
    with django_assert_num_queries(1):
        panel = places(Filters(district=world.school_a.district, month="2027-07"))
    assert dict(panel.figures) == {"假期托管名额": "6", "已报名": "2", "使用率": "33.3%"}
