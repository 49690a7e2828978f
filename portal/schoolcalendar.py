"""The portal's calendar: every app asks it what kind of day a date is.

Statutory holidays and make-up workdays come from the State Council's annual notice: filled
from the chinesecalendar package for the years it knows, entered by staff in the admin for
later years. School terms and vacations are set per district. A question about a day the
calendar does not know raises CalendarUnknownDay: callers turn it into a clear message,
never a guess.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.models import CalendarDay, CalendarYear, District, SchoolPeriod

# chinesecalendar names its holidays in English; the portal shows them in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarUnknownDay(LookupError):
    """The calendar cannot say what kind of day this is; the message says what is missing."""


class DayKind:
    SCHOOL_DAY = "school_day"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"
    REST_DAY = "rest_day"
    WORKDAY = "workday"


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    holiday: bool  # statutory holiday (法定节假日)
    holiday_name: str
    makeup_workday: bool  # a weekend day made a workday (调休上班)
    rest_day: bool  # an ordinary weekend day (休息日), not made a workday
    vacation: bool | None  # in a winter/summer vacation of the district; None: no district
    term: bool | None  # in a school term of the district; None: no district

    @property
    def workday(self) -> bool:
        return not self.holiday and not self.rest_day

    @property
    def school_day(self) -> bool:
        """A day pupils are taught: in a term, a workday (make-up Saturdays included)."""
        return bool(self.term) and not self.vacation and self.workday


def _year_known(year: int) -> bool:
    return CalendarYear.objects.filter(year=year).exists()


def day_info(date: dt.date, district: District | None = None) -> DayInfo:
    """What kind of day ``date`` is, nationally and (with a district) for its schools."""
    if not _year_known(date.year):
        raise CalendarUnknownDay(
            _(
                "日历中没有 %(year)s 年的法定节假日安排，无法判断 %(date)s 是否为节假日；"
                "请在管理后台“日历年份”与“节假日与调休”中录入国务院办公厅公布的安排。"
            )
            % {"year": date.year, "date": date.isoformat()}
        )
    special = CalendarDay.objects.filter(date=date).first()
    holiday = special is not None and special.kind == CalendarDay.Kind.HOLIDAY
    makeup = special is not None and special.kind == CalendarDay.Kind.WORKDAY
    weekend = date.weekday() >= 5
    rest_day = weekend and not makeup and not holiday
    term = vacation = None
    if district is not None:
        periods = list(
            SchoolPeriod.objects.filter(district=district, start__lte=date, end__gte=date)
        )
        if not periods:
            raise CalendarUnknownDay(
                _("%(district)s 未录入包含 %(date)s 的学期或寒暑假，无法判断是否为上学日。")
                % {"district": district.name, "date": date.isoformat()}
            )
        vacation = any(p.is_vacation for p in periods)
        term = any(not p.is_vacation for p in periods)
    return DayInfo(
        date=date,
        holiday=holiday,
        holiday_name=special.name if holiday else "",
        makeup_workday=makeup,
        rest_day=rest_day,
        vacation=vacation,
        term=term,
    )


def is_school_day(date: dt.date, district: District) -> bool:
    return day_info(date, district).school_day


def is_statutory_holiday(date: dt.date) -> bool:
    return day_info(date).holiday


def missing_years(years) -> list[int]:
    known = set(CalendarYear.objects.filter(year__in=list(years)).values_list("year", flat=True))
    return [y for y in years if y not in known]


def _special_days(start: dt.date, end: dt.date, what: str) -> dict:
    """{date: CalendarDay.kind} of the holidays and make-up workdays from ``start`` to
    ``end``; CalendarUnknownDay when a year of the span is not in the calendar."""
    missing = missing_years(range(start.year, end.year + 1))
    if missing:
        raise CalendarUnknownDay(
            _("日历中没有 %(year)s 年的法定节假日安排，无法计算%(what)s。")
            % {"year": missing[0], "what": what}
        )
    return dict(CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind"))


class WorkingDays:
    """Working days (not a statutory holiday, not a weekend unless made a workday) from
    ``start`` to ``end``, in two queries, for deadlines counted in working days (complaints).
    A year the calendar does not know raises CalendarUnknownDay (a clear error, never a
    guess)."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self.special = _special_days(start, end, pgettext("无法计算…", "工作日期限"))

    def is_workday(self, day: dt.date) -> bool:
        kind = self.special.get(day)
        return kind == CalendarDay.Kind.WORKDAY or (kind is None and day.weekday() < 5)

    def between(self, after: dt.date, until: dt.date) -> int:
        """Working days d with after < d <= until (0 when until <= after)."""
        n, day = 0, after + dt.timedelta(days=1)
        while day <= until:
            n += self.is_workday(day)
            day += dt.timedelta(days=1)
        return n

    def add(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day``."""
        while n > 0:
            day += dt.timedelta(days=1)
            if day > self.end:
                raise CalendarUnknownDay(_("工作日期限超出了日历的计算范围。"))
            n -= self.is_workday(day)
        return day


def school_days(district: District, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every school day of ``district`` from ``start`` to ``end`` inclusive, in three queries
    (for reports over a month). Raises CalendarUnknownDay for a day it cannot judge."""
    special = _special_days(start, end, pgettext("无法计算…", "上学日"))
    periods = list(SchoolPeriod.objects.filter(district=district, start__lte=end, end__gte=start))
    days = []
    day = start
    while day <= end:
        covering = [p for p in periods if p.start <= day <= p.end]
        if not covering:
            raise CalendarUnknownDay(
                _("%(district)s 未录入包含 %(date)s 的学期或寒暑假，无法判断是否为上学日。")
                % {"district": district.name, "date": day.isoformat()}
            )
        kind = special.get(day)
        workday = kind == CalendarDay.Kind.WORKDAY or (kind is None and day.weekday() < 5)
        in_term = any(not p.is_vacation for p in covering)
        vacation = any(p.is_vacation for p in covering)
        if workday and in_term and not vacation:
            days.append(day)
        day += dt.timedelta(days=1)
    return days
