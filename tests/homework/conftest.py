import datetime as dt

import pytest

from portal.models import SchoolClass, SchoolPeriod, SchoolStaff
from tests.factories import SchoolClassFactory, SchoolStaffFactory

DAY = dt.date(2026, 11, 23)  # a Monday in the autumn term


@pytest.fixture
def term(world):
    SchoolPeriod.objects.create(
        district=world.school_a.district, kind="term", name="2026秋季学期",
        start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 22),
    )  # fmt: skip
    return world


@pytest.fixture
def grade4(world) -> SchoolClass:
    return SchoolClassFactory(school=world.school_a, grade=4, number=1)


@pytest.fixture
def other_teacher(world):
    return SchoolStaffFactory(school=world.school_a, name="另一位老师", user__username="tb").user


@pytest.fixture
def head_teacher(world, grade4):
    staff = SchoolStaffFactory(
        school=world.school_a, role=SchoolStaff.Role.CLASS_TEACHER, name="班主任",
        user__username="bzr",
    )  # fmt: skip
    grade4.head_teacher = staff
    grade4.save()
    return staff.user


def item_data(**overrides):
    data = {"subject": "数学", "content": "练习册第12页", "minutes": 20, "kind": "basic",
            "required": True, "written": True, "layer": ""}  # fmt: skip
    data.update(overrides)
    return data
