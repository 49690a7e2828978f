"""Reads of the funding part: the bureau's monthly roll-up (paid per teacher, schools under
the floor, funds unspent), in a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from afterschool.fee_models import Settlement
from afterschool.funding import ZERO, floor, lessons_held, month_end, month_start
from afterschool.funding_models import SubsidyGrant, TeacherPay
from portal.models import School, SchoolPeriod, SchoolStaff


@dataclass
class PayRow:
    school: School
    staff: SchoolStaff
    month: dt.date
    lessons: int  # held, from the roll-calls
    paid: Decimal | None  # None: not reported
    floor: Decimal

    @property
    def due(self) -> Decimal:
        return (self.floor * self.lessons).quantize(Decimal("0.01"))

    @property
    def per_lesson(self) -> Decimal | None:
        if self.paid is None or not self.lessons:
            return None
        return (self.paid / self.lessons).quantize(Decimal("0.01"))

    @property
    def under(self) -> bool:
        return self.lessons > 0 and (self.paid is None or self.paid < self.due)


@dataclass
class FundRow:
    school: School
    term: SchoolPeriod
    received: Decimal
    settled: Settlement | None

    @property
    def shortfall(self) -> Decimal | None:
        return None if self.settled is None else max(ZERO, -self.settled.pool)

    @property
    def unspent(self) -> Decimal | None:
        return None if self.settled is None else max(ZERO, self.received - self.shortfall)

    @property
    def needed(self) -> Decimal | None:
        return None if self.settled is None else max(ZERO, self.shortfall - self.received)


@dataclass
class Rollup:
    month: dt.date
    floor: Decimal
    teachers: list = field(default_factory=list)  # PayRow
    funds: list = field(default_factory=list)  # FundRow

    @property
    def under(self) -> list:
        return [r for r in self.teachers if r.under]

    @property
    def schools_under(self) -> dict:
        out = {}
        for row in self.under:
            out.setdefault(row.school, []).append(row)
        return out

    @property
    def paid_total(self) -> Decimal:
        return sum((r.paid or ZERO for r in self.teachers), ZERO)


def pay_rows(schools, start: dt.date, end: dt.date, the_floor=None) -> list[PayRow]:
    """Each teacher's lessons held and subsidy reported per month from ``start`` to ``end``
    (three queries): teachers who held lessons, and teachers reported without lessons."""
    the_floor = floor() if the_floor is None else the_floor
    held = lessons_held(schools, start, end)
    paid = {
        (p.school_id, p.staff_id, p.month): p
        for p in TeacherPay.objects.filter(school__in=schools, month__range=(start, end))
    }
    keys = sorted(set(held) | set(paid), key=lambda k: (k[2], k[0], k[1]))
    staff = SchoolStaff.objects.select_related("school").in_bulk({k[1] for k in keys})
    rows = []
    for school_id, staff_id, month in keys:
        person = staff[staff_id]
        pay = paid.get((school_id, staff_id, month))
        rows.append(
            PayRow(
                school=person.school,
                staff=person,
                month=month,
                lessons=held.get((school_id, staff_id, month), 0),
                paid=pay.amount if pay else None,
                floor=the_floor,
            )
        )
    return rows


def month_rollup(district, month: dt.date) -> Rollup:
    """The bureau's roll-up of one month in one district (six queries)."""
    start, end = month_start(month), month_end(month)
    schools = School.objects.filter(district=district)
    the_floor = floor()
    rollup = Rollup(month=start, floor=the_floor)
    rollup.teachers = pay_rows(schools, start, end, the_floor)
    grants = list(
        SubsidyGrant.objects.filter(
            school__district=district, term__start__lte=end, term__end__gte=start
        ).select_related("school", "term")
    )
    settled = {
        (s.school_id, s.term_id): s
        for s in Settlement.objects.filter(
            school__district=district, term__start__lte=end, term__end__gte=start
        )
    }
    rollup.funds = [
        FundRow(g.school, g.term, g.amount, settled.get((g.school_id, g.term_id)))
        for g in sorted(grants, key=lambda g: (g.school.code, g.term.start))
    ]
    return rollup


def grants_of_term(term: SchoolPeriod) -> dict:
    """{school id: grant} of one term (one query)."""
    return {g.school_id: g for g in SubsidyGrant.objects.filter(term=term)}
