"""POST cases of holiday care (/holiday/, issue 17 part 1): parents enrol and withdraw per
week block; the bureau designates, opens and closes host sites; a school adds a plan item."""

import datetime as dt

from django.urls import reverse

from afterschool import holiday
from afterschool.holiday_models import HostSite
from afterschool.models import Enrolment, PlanItem, SchoolPlan
from tests.afterschool.test_holiday_helpers import (
    WEEK_1,
    bureau_as,
    designate,
    open_host,
    summer,
    vacation_plan,
)
from tests.factories import SchoolFactory
from tests.post_routes import Case, case

PARENT_REFUSED = ("anonymous", "other_school", "school", "teacher", "stranger_parent",
                  "bureau_afterschool")  # fmt: skip
BUREAU_REFUSED = ("anonymous", "school", "teacher", "parent", "bureau_homework",
                  "staff_without_group", "other_site")  # fmt: skip
POLICY = frozenset({"afterschool.AfterschoolPolicy"})


def _enrolments():
    return list(Enrolment.objects.order_by("pk").values_list("offering_id", "child_id", "status"))


def _hosts():
    return list(HostSite.objects.order_by("pk").values_list("site_id", "status", "capacity"))


@case("holiday:enrol", refused=PARENT_REFUSED)
def enrol(w):
    bureau = bureau_as()
    _host, (block, _) = open_host(w, bureau)
    # a host site serving only 乙小学: 甲小学's pupil is refused with the reason
    school_c = SchoolFactory(name="丙小学", district=w.school_a.district)
    vacation_plan(school_c, summer(w.school_a.district))
    other = designate(w, bureau, school_id=school_c.pk, served=[w.school_b.pk])
    other = holiday.host_open(actor=bureau, host_id=other.pk)
    elsewhere = other.blocks.order_by("week").first().offering
    return Case(
        url=reverse("holiday:enrol"), user=w.parent_a,
        valid={"child": w.child_a.pk, "offering": block.pk},
        state=_enrolments, audit="afterschool.enrolment",
        invalid={"child": w.child_a.pk, "offering": elsewhere.pk},
        error="丙小学的假期托管只服务指定学校的学生，甲同学所在的甲小学不在其中。",
    )  # fmt: skip


@case("holiday:withdraw", refused=PARENT_REFUSED)
def withdraw(w):
    _host, (block, _) = open_host(w)
    e = holiday.enrol_week(user=w.parent_a, child_id=w.child_a.pk, offering_id=block.pk)
    return Case(
        url=reverse("holiday:withdraw", args=[e.pk]), user=w.parent_a, valid={},
        state=_enrolments, audit="afterschool.enrolment.withdrawn",
        no_invalid="a button without fields",
    )  # fmt: skip


def _host_form(w, **kw):
    vacation = summer(w.school_a.district)
    data = {
        "vacation": vacation.pk, "school": w.school_b.pk,
        "served_schools": [w.school_a.pk, w.school_b.pk], "weeks": "2027-07-05, 2027-07-12",
        "days": [0, 1, 2, 3, 4], "morning_start": "08:30", "morning_end": "11:30",
        "afternoon_start": "", "afternoon_end": "", "capacity": 40, "fee_per_week": "200.00",
    }  # fmt: skip
    data.update(kw)
    return data


@case("holiday:host_new", refused=BUREAU_REFUSED)
def host_new(w):
    return Case(
        url=reverse("holiday:host_new"), user=bureau_as(),
        valid=_host_form(w), state=_hosts, audit="afterschool.holiday.designated",
        invalid=_host_form(w, fee_per_week="300.00"),
        error="每周收费300.00元超过本区上限250元（每生每周）。",
    )  # fmt: skip


@case("holiday:host_open", refused=BUREAU_REFUSED)
def host_open(w):
    bureau = bureau_as()
    vacation = summer(w.school_a.district)
    vacation_plan(w.school_b, vacation)
    host = designate(w, bureau)
    school_c = SchoolFactory(name="丙小学", district=w.school_a.district)
    no_plan = designate(w, bureau, school_id=school_c.pk, weeks=[WEEK_1])
    return Case(
        url=reverse("holiday:host_open", args=[host.pk]), user=bureau, valid={},
        state=_hosts, audit="afterschool.holiday.opened",
        invalid={}, invalid_url=reverse("holiday:host_open", args=[no_plan.pk]),
        error="丙小学没有经批准的2027暑假假期托管方案，托管点不能开放。",
    )  # fmt: skip


@case("holiday:host_close", refused=BUREAU_REFUSED)
def host_close(w):
    bureau = bureau_as()
    host, _blocks = open_host(w, bureau)
    return Case(
        url=reverse("holiday:host_close", args=[host.pk]), user=bureau,
        valid={"reason": "场地维修"}, state=_hosts, audit="afterschool.holiday.closed",
        invalid={"reason": ""}, error="关闭托管点必须说明原因。",
    )  # fmt: skip


@case("holiday:plan_item_add", refused=("anonymous", "other_school", "parent", "teacher",
                                        "bureau_afterschool"))  # fmt: skip
def plan_item_add(w):
    plan = vacation_plan(w.school_a, summer(w.school_a.district), status=SchoolPlan.Status.DRAFT)
    return Case(
        url=reverse("holiday:plan_item_add", args=[plan.pk]), user=w.principal_a,
        valid={"name": "阅读角", "activity": "reading", "teachers": 1},
        state=lambda: list(PlanItem.objects.order_by("pk").values_list("name", "activity")),
        audit="afterschool.plan.item_added",
        invalid={"name": "数学", "activity": "subject", "teachers": 1},
        error="假期托管不得组织集体补课：假期托管方案不能安排学科辅导。", ignore=POLICY,
    )  # fmt: skip


_unused = dt  # dates come from the helpers
