"""Helpers of the sites part's tests (a community site, its operator, the partner school's
plan in effect for a term around today)."""

import datetime as dt

from afterschool.models import SchoolPlan
from tests.afterschool.fees_helpers import term_around_today
from tests.factories import CommunitySiteFactory, SiteOperatorFactory
from tests.post_routes import staff_of


def bureau_as(username="sites_bureau"):
    """Bureau staff of the 课后服务 line."""
    return staff_of("课后服务", username)


def site_for(school, **kw):
    return CommunitySiteFactory(partner_school=school, **kw)


def operator_of(site, username="site_op"):
    return SiteOperatorFactory(site=site, user__username=username).user


def plan_in_effect(school, weekdays=(0, 1, 2, 3, 4, 5, 6)):
    term = term_around_today(school.district)
    return SchoolPlan.objects.create(
        school=school, term=term, weekdays=list(weekdays), start_time=dt.time(15, 30),
        end_time=dt.time(17, 30), items="托管、阅读", status=SchoolPlan.Status.IN_EFFECT,
    )  # fmt: skip


def course_fields(**kw):
    from django.utils import timezone

    fields = {
        "name": "社区阅读", "grades": [3], "capacity": 10,
        "weekday": timezone.localdate().weekday(), "start": dt.time(15, 30),
        "end": dt.time(16, 30),
    }  # fmt: skip
    fields.update(kw)
    return fields
