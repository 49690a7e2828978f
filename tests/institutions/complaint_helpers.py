"""Shared data of the complaint tests (tests/institutions/test_complaints*.py, the POST cases
and the browser journey)."""

import datetime as dt

from django.contrib.auth.models import Group

from portal.models import CalendarYear
from tests.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"1" * 200


def staff_of(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def next_year_known():
    """The calendar knows next year (staff entered it): deadlines late in a year reach it."""
    year = dt.date.today().year + 1
    CalendarYear.objects.get_or_create(year=year, defaults={"source": "staff", "note": "测试"})
