"""Fixtures of the org tests (机构端): an institution with its 管理员, term calendar set."""

import datetime as dt
from decimal import Decimal

import pytest

from institutions.account_models import InstitutionStaff
from portal.models import SchoolPeriod
from tests.factories import InstitutionStaffFactory
from tests.institutions.helpers import make_institution, training_staff

COURSE = {"name": "周三数学", "subject": "数学", "mode": "offline", "lesson_minutes": "45",
          "class_size": "20", "price_per_lesson": "25", "term_start": "2026-11-02",
          "term_end": "2026-12-25", "slots": "周三 18:30-19:15"}  # fmt: skip


def term(district):
    if not SchoolPeriod.objects.filter(district=district, kind="term").exists():
        SchoolPeriod.objects.create(
            district=district, kind="term", name="秋季学期", start=dt.date(2026, 9, 1),
            end=dt.date(2027, 1, 22),
        )  # fmt: skip


def org_world(w, *, name="明德学科培训学校", staff=None, username="jg_admin"):
    """A white institution in school A's district with its 管理员 (user ``username``)."""
    staff = staff or training_staff()
    term(w.school_a.district)
    inst = make_institution(staff, w.school_a.district, name=name)
    admin = InstitutionStaffFactory(
        institution=inst, role=InstitutionStaff.Role.ADMIN, user__username=username
    )
    return staff, inst, admin.user


@pytest.fixture
def bureau_staff(db):
    return training_staff()


@pytest.fixture
def org(world, bureau_staff):
    return org_world(world, staff=bureau_staff)


# the same course as typed data, for the services
COURSE_DATA = {
    "name": "周三数学", "subject": "数学", "mode": "offline", "lesson_minutes": 45,
    "class_size": 20, "price_per_lesson": Decimal("25"), "term_start": dt.date(2026, 11, 2),
    "term_end": dt.date(2026, 12, 25),
}  # fmt: skip
COURSE_SLOTS = [{"weekday": 2, "start": dt.time(18, 30), "end": dt.time(19, 15)}]
