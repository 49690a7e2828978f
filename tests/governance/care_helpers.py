"""Data for the care ledger's tests: a term around today, head teachers, a record."""

import datetime as dt

from django.utils import timezone

from governance import care
from governance.care_models import CareRecord
from portal.models import SchoolPeriod, SchoolStaff
from tests.factories import ChildFactory, SchoolClassFactory, SchoolStaffFactory


def term_around_today(district, *, before=60, after=120) -> SchoolPeriod:
    today = timezone.localdate()
    return SchoolPeriod.objects.create(
        district=district, kind=SchoolPeriod.Kind.TERM, name="本学期",
        start=today - dt.timedelta(days=before), end=today + dt.timedelta(days=after),
    )  # fmt: skip


def head_of(school_class, username: str, name: str = "班主任"):
    staff = SchoolStaffFactory(
        school=school_class.school, role=SchoolStaff.Role.CLASS_TEACHER, name=name,
        user__username=username,
    )  # fmt: skip
    school_class.head_teacher = staff
    school_class.save(update_fields=["head_teacher"])
    return staff.user


def other_class(world, username="bzr_b"):
    """A second class of school A with its own head teacher and a pupil."""
    klass = SchoolClassFactory(school=world.school_a, grade=4)
    teacher = head_of(klass, username, "二班班主任")
    child = ChildFactory(school_class=klass, name="二班同学")
    return klass, teacher, child


def open_record(world, actor=None, child=None, categories=("留守儿童",), opened_on=None):
    record = care.record_open(
        actor=actor or world.principal_a, child_id=(child or world.child_a).pk,
        categories=list(categories), need="父母在外务工",
    )  # fmt: skip
    if opened_on is not None:
        CareRecord.objects.filter(pk=record.pk).update(opened_on=opened_on)
        record.refresh_from_db()
    return record
