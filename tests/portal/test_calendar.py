import datetime as dt

import pytest

from portal.models import CalendarDay, CalendarYear, SchoolPeriod
from portal.schoolcalendar import CalendarUnknownDay, day_info, is_school_day, is_statutory_holiday
from tests.factories import DistrictFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    d = DistrictFactory()
    SchoolPeriod.objects.create(
        district=d,
        kind="term",
        name="秋季学期",
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
    )
    SchoolPeriod.objects.create(
        district=d, kind="summer", name="暑假", start=dt.date(2026, 7, 4), end=dt.date(2026, 8, 31)
    )
    return d


def test_the_calendar_knows_every_year_of_chinesecalendar():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years
    assert 2027 not in years


def test_national_day_is_a_statutory_holiday(district):
    info = day_info(dt.date(2026, 10, 1), district)
    assert info.holiday and info.holiday_name == "国庆节"
    assert not info.school_day
    assert is_statutory_holiday(dt.date(2026, 10, 1))


def test_a_make_up_saturday_is_a_school_day(district):
    saturday = dt.date(2026, 10, 10)  # 国庆 make-up workday
    assert saturday.weekday() == 5
    info = day_info(saturday, district)
    assert info.makeup_workday and not info.rest_day
    assert is_school_day(saturday, district)


def test_an_ordinary_saturday_is_a_rest_day(district):
    info = day_info(dt.date(2026, 10, 17), district)
    assert info.rest_day and not info.school_day


def test_a_weekday_in_term_is_a_school_day_and_in_summer_is_vacation(district):
    assert is_school_day(dt.date(2026, 10, 13), district)
    summer = day_info(dt.date(2026, 8, 4), district)
    assert summer.vacation and not summer.school_day and summer.workday


def test_a_year_the_calendar_does_not_know_is_a_clear_error(district):
    with pytest.raises(CalendarUnknownDay, match="2027 年的法定节假日"):
        day_info(dt.date(2027, 1, 4), district)


def test_a_day_outside_every_term_and_vacation_is_a_clear_error(district):
    with pytest.raises(CalendarUnknownDay, match="未录入包含 2026-03-02 的学期"):
        day_info(dt.date(2026, 3, 2), district)


def test_staff_entering_next_year_makes_it_known(district):
    CalendarYear.objects.create(year=2027, source="staff", note="国办发明电〔2026〕X号")
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), kind="holiday", name="元旦")
    assert day_info(dt.date(2027, 1, 1), district).holiday
    assert is_school_day(dt.date(2027, 1, 4), district)
