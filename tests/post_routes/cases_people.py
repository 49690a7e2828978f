"""POST cases of the people part (issue 17/19): registering a person, changing their record
(vetting dates), naming people on a course and on one lesson, and removing them."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from afterschool import people
from afterschool.models import Lesson, LessonPerson, Offering, OfferingPerson, Person
from tests.afterschool.helpers import offering
from tests.post_routes import Case, case

TODAY = timezone.localdate()
VETTED = {
    "no_criminal_record_on": TODAY - dt.timedelta(days=30),
    "health_cert_on": TODAY - dt.timedelta(days=30),
    "trained_on": TODAY - dt.timedelta(days=30),
}
# the register's pages: kinds that keep no register → 403; another school's or site's → 404
REGISTER_REFUSED = ("anonymous", "teacher", "parent", "stranger_parent", "bureau_homework",
                    "bureau_cases", "staff_without_group", "other_institution",
                    "other_organisation", "other_expert")  # fmt: skip
PERSON_REFUSED = (*REGISTER_REFUSED, "other_school", "other_site")
# naming people on a course: its school's managers only (the bureau and other sites refused)
COURSE_REFUSED = (*PERSON_REFUSED, "bureau_afterschool")


def _person(w, name="王老师", **over):
    fields = {"kind": "retired_teacher", "phone": "13900001111"} | VETTED | over
    return people.person_create(user=w.principal_a, name=name, **fields)


def _people():
    return list(Person.objects.order_by("pk").values_list("name", "phone", "trained_on"))


@case("people:new", refused=REGISTER_REFUSED)
def new(w):
    return Case(
        url=reverse("people:new"), user=w.principal_a,
        valid={"name": "李教练", "kind": "coach", "phone": "13900002222", "venue": "区体育馆",
               "trained_on": TODAY.isoformat()},
        state=_people, audit="afterschool.person.registered",
        invalid={"name": "李教练", "kind": "coach", "phone": "12ab"},
        error="联系电话应为 7 至 20 位数字。",
    )  # fmt: skip


@case("people:detail", refused=PERSON_REFUSED)
def detail(w):
    p = _person(w)
    return Case(
        url=reverse("people:detail", args=[p.pk]), user=w.principal_a,
        valid={"name": "王老师", "kind": "retired_teacher", "phone": "13900001111",
               "trained_on": TODAY.isoformat(), "active": "on"},
        state=_people, audit="afterschool.person.updated",
        invalid={"name": "王老师", "kind": "retired_teacher",
                 "trained_on": (TODAY + dt.timedelta(days=1)).isoformat(), "active": "on"},
        error="安全培训日期不能晚于今天",
    )  # fmt: skip


def _course_people():
    return list(OfferingPerson.objects.order_by("pk").values_list("offering_id", "person_id"))


@case("people:assign", "add", refused=COURSE_REFUSED)
def assign_add(w):
    course = offering(w.school_a, status=Offering.Status.DRAFT)
    ok, lapsed = _person(w), _person(w, name="赵老师", trained_on=None)
    return Case(
        url=reverse("people:assign", args=[course.pk]), user=w.principal_a,
        valid={"action": "add", "person": ok.pk, "role": "lead"},
        state=_course_people, audit="afterschool.offering.person_added",
        invalid={"action": "add", "person": lapsed.pk, "role": "lead"},
        error="赵老师的安全培训未登记",
    )  # fmt: skip


@case("people:assign", "remove", refused=COURSE_REFUSED)
def assign_remove(w):
    course = offering(w.school_a, status=Offering.Status.DRAFT)
    p = _person(w)
    people.offering_person_add(user=w.principal_a, offering_id=course.pk, person_id=p.pk)
    return Case(
        url=reverse("people:assign", args=[course.pk]), user=w.principal_a,
        valid={"action": "remove", "person": p.pk},
        state=_course_people, audit="afterschool.offering.person_removed",
        invalid={"action": "remove", "person": "x"}, error="请选择人员。",
    )  # fmt: skip


def _lesson(w):
    course = offering(w.school_a)
    day = TODAY + dt.timedelta(days=7)
    return Lesson.objects.create(offering=course, planned_date=day, date=day,
                                 start=dt.time(15, 30), end=dt.time(16, 30))  # fmt: skip


def _lesson_people():
    return list(LessonPerson.objects.order_by("pk").values_list("lesson_id", "person_id"))


# a lesson is not scoped to sites (afterschool.Lesson.SCOPE): another site's operator → 404
@case("people:lesson_assign", "add", refused=COURSE_REFUSED)
def lesson_add(w):
    lesson = _lesson(w)
    ok, lapsed = _person(w), _person(w, name="赵老师", health_cert_on=None)
    return Case(
        url=reverse("people:lesson_assign", args=[lesson.pk]), user=w.principal_a,
        valid={"action": "add", "person": ok.pk},
        state=_lesson_people, audit="afterschool.lesson.person_added",
        invalid={"action": "add", "person": lapsed.pk}, error="赵老师的健康证明未登记",
    )  # fmt: skip


@case("people:lesson_assign", "remove", refused=COURSE_REFUSED)
def lesson_remove(w):
    lesson = _lesson(w)
    p = _person(w)
    people.lesson_person_add(user=w.principal_a, lesson_id=lesson.pk, person_id=p.pk)
    return Case(
        url=reverse("people:lesson_assign", args=[lesson.pk]), user=w.principal_a,
        valid={"action": "remove", "person": p.pk},
        state=_lesson_people, audit="afterschool.lesson.person_removed",
        invalid={"action": "remove"}, error="请选择人员。",
    )  # fmt: skip


def _phone_staff():
    from django.contrib.auth.models import Permission

    from tests.post_routes import staff_of

    user = staff_of("课后服务", "bureau_phone")
    user.user_permissions.add(Permission.objects.get(codename="view_parent_phone"))
    return user


@case("people:phone", refused=(*REGISTER_REFUSED, "school", "bureau_afterschool"))
def phone(w):
    from portal.models import AuditLog

    p = _person(w)
    return Case(
        url=reverse("people:phone", args=[p.pk]), user=_phone_staff(), valid={},
        state=lambda: AuditLog.objects.filter(action="afterschool.person.phone_shown").count(),
        audit="afterschool.person.phone_shown", no_invalid="a button without fields",
    )  # fmt: skip
