"""POST cases of the sites part (issue 17/19): the bureau's register of community sites
(new, edit, stop/enable, safety check with its file, operator accounts) and the operator's
courses (new, publish, roll-call)."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from afterschool import enrolment, sites
from afterschool.models import Attendance, CareSite, Lesson, Offering, SiteOperator
from afterschool.models import SiteSafetyCheck as Check
from tests.afterschool.test_sites_helpers import (
    bureau_as,
    course_fields,
    operator_of,
    plan_in_effect,
    site_for,
)
from tests.post_routes import Case, case

# the bureau's pages: everyone but bureau staff of the 课后服务 line
BUREAU_REFUSED = ("anonymous", "school", "teacher", "parent", "bureau_homework",
                  "staff_without_group", "other_site")  # fmt: skip
# the operator's pages: another site's operator gets a 404
OPERATOR_REFUSED = ("anonymous", "school", "teacher", "parent", "bureau_afterschool",
                    "bureau_homework", "other_site")  # fmt: skip

FORM = {
    "name": "阳光社区小学堂", "street": "城关街道", "community": "阳光社区",
    "address": "阳光路8号", "capacity": "30", "contact_name": "王主任",
    "contact_phone": "13912345678",
}  # fmt: skip
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def _sites():
    rows = CareSite.objects.values_list("name", "capacity", "active", "partner_school")
    return lambda: list(rows.all())


@case("sites:new", refused=BUREAU_REFUSED)
def new(w):
    return Case(
        url=reverse("sites:new"), user=bureau_as(),
        valid={**FORM, "partner_school": w.school_a.pk}, state=_sites(),
        audit="afterschool.site.created",
        invalid={**FORM, "partner_school": w.school_a.pk, "contact_phone": "12345"},
        error="联系电话：应为11位手机号或带区号的固定电话（如 020-12345678）。",
    )  # fmt: skip


@case("sites:edit", refused=BUREAU_REFUSED)
def edit(w):
    site = site_for(w.school_a)
    return Case(
        url=reverse("sites:edit", args=[site.pk]), user=bureau_as(),
        valid={**FORM, "capacity": "25", "partner_school": w.school_a.pk}, state=_sites(),
        audit="afterschool.site.changed",
        invalid={**FORM, "capacity": "0", "partner_school": w.school_a.pk},
        error="容纳人数：至少 1 人。",
    )  # fmt: skip


@case("sites:active", refused=BUREAU_REFUSED)
def active(w):
    site = site_for(w.school_a)
    return Case(
        url=reverse("sites:active", args=[site.pk]), user=bureau_as(), valid={"active": "0"},
        state=_sites(), audit="afterschool.site.stopped",
        no_invalid="a button: stop or enable, nothing to get wrong",
    )  # fmt: skip


@case("sites:check", refused=BUREAU_REFUSED)
def check(w):
    site = site_for(w.school_a, safety_checked_on=None)
    today = timezone.localdate()
    return Case(
        url=reverse("sites:check", args=[site.pk]), user=bureau_as(),
        valid={"checked_on": today.isoformat(), "checked_by": "安监员", "note": "合格"},
        files=lambda: {"files": SimpleUploadedFile("检查.pdf", PDF)},
        state=lambda: list(Check.objects.values_list("site_id", "checked_on", "file_kind")),
        audit="afterschool.site.safety_checked",
        invalid={"checked_on": (today + dt.timedelta(days=1)).isoformat(),
                 "checked_by": "安监员"},
        error="检查日期：不能晚于今天。",
    )  # fmt: skip


@case("sites:operator_new", refused=BUREAU_REFUSED)
def operator_new(w):
    site = site_for(w.school_a)
    return Case(
        url=reverse("sites:operator_new", args=[site.pk]), user=bureau_as(),
        valid={"username": "xingfu_op", "name": "李社工"},
        state=lambda: list(SiteOperator.objects.values_list("user__username", "site_id")),
        audit="afterschool.site.operator_created",
        invalid={"username": "pa", "name": "李社工"},  # the principal's username
        error="登录账号“pa”已被使用，请换一个。",
    )  # fmt: skip


@case("sites:operator_deactivate", refused=BUREAU_REFUSED)
def operator_deactivate(w):
    op = SiteOperator.objects.get(user=operator_of(site_for(w.school_a)))
    return Case(
        url=reverse("sites:operator_deactivate", args=[op.pk]), user=bureau_as(), valid={},
        state=lambda: list(SiteOperator.objects.values_list("pk", "active")),
        audit="afterschool.site.operator_deactivated", no_invalid="a button without fields",
    )  # fmt: skip


def _courses():
    return lambda: list(
        Offering.objects.values_list("name", "status", "capacity", "site_id").order_by("pk")
    )


def _course_form(**kw):
    f = course_fields(**kw)
    return {
        "name": f["name"], "grades": f["grades"], "capacity": str(f["capacity"]),
        "weekday": str(f["weekday"]), "start": f["start"].strftime("%H:%M"),
        "end": f["end"].strftime("%H:%M"),
    }  # fmt: skip


# a course with no object in its URL: another site's operator would make it at its own site
@case("sites:course_new", refused=("anonymous", "school", "teacher", "parent",
                                   "bureau_afterschool", "bureau_homework"))  # fmt: skip
def course_new(w):
    plan_in_effect(w.school_a)
    site = site_for(w.school_a, capacity=12)
    return Case(
        url=reverse("sites:course_new"), user=operator_of(site), valid=_course_form(),
        state=_courses(), audit="afterschool.offering.created",
        invalid=_course_form(capacity=13), error="名额：不能超过托管点容纳人数12人。",
    )  # fmt: skip


@case("sites:course_publish", refused=OPERATOR_REFUSED)
def course_publish(w):
    plan_in_effect(w.school_a)
    site = site_for(w.school_a, capacity=12)
    op = operator_of(site)
    course = sites.course_create(actor=op, **course_fields(capacity=12))
    return _publish_case(w, site, op, course)


def _publish_case(w, site, op, course):
    # the invalid one: a course whose weekday the partner school's plan does not serve
    plan = course.plan
    weekday = (course.weekday + 1) % 7
    plan.weekdays = [d for d in plan.weekdays if d != weekday]
    plan.save(update_fields=["weekdays"])
    bad = Offering.objects.create(
        school=course.school, plan=plan, site=site, kind="community", name="围棋", grades=[3],
        capacity=5, weekday=weekday, start=course.start, end=course.end,
    )  # fmt: skip
    return Case(
        url=reverse("sites:course_publish", args=[course.pk]), user=op, valid={},
        state=_courses(), audit="afterschool.offering.published",
        invalid={}, invalid_url=reverse("sites:course_publish", args=[bad.pk]),
        error="方案中没有安排周", ignore=frozenset({"afterschool.Lesson"}),
    )  # fmt: skip


@case("sites:roll", refused=OPERATOR_REFUSED)
def roll(w):
    plan_in_effect(w.school_a)
    site = site_for(w.school_a)
    op = operator_of(site)
    today = timezone.localdate()
    course = sites.course_create(
        actor=op, **course_fields(start=dt.time(0, 0), end=dt.time(0, 30), starts_on=today)
    )
    sites.course_publish(actor=op, offering_id=course.pk)
    # today's lesson (also on a day the calendar closes: the case needs one that started)
    lesson = Lesson.objects.filter(offering=course, date=today).first() or Lesson.objects.create(
        offering=course, planned_date=today, date=today, start=course.start, end=course.end
    )
    before = timezone.make_aware(dt.datetime.combine(today, dt.time(0, 0))) - dt.timedelta(
        minutes=1
    )
    enrolment.enrol(user=w.parent_a, child_id=w.child_a.pk, offering_id=course.pk, now=before)
    return Case(
        url=reverse("sites:roll", args=[lesson.pk]), user=op,
        valid={f"mark_{w.child_a.pk}": "present"},
        state=lambda: list(Attendance.objects.values_list("child_id", "mark")),
        audit="afterschool.lesson.roll",
        invalid={f"mark_{w.child_a.pk}": "late"}, error="请为每位学生选择出勤、缺勤或请假。",
    )  # fmt: skip
