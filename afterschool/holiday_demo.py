"""Demo data of holiday care, made through its services (the lead calls ``build``)."""

import datetime as dt
from decimal import Decimal

from afterschool import holiday


def mondays(vacation, n: int = 2) -> list[dt.date]:
    """The first ``n`` Mondays whose week starts inside ``vacation``."""
    day = vacation.start + dt.timedelta(days=(7 - vacation.start.weekday()) % 7)
    out = []
    while day <= vacation.end and len(out) < n:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def build(*, actor, vacation, host_school, served_schools, weeks: int = 2, capacity: int = 30,
          fee_per_week: Decimal = Decimal("200"), open_it: bool = True):  # fmt: skip
    """A host school for ``vacation`` serving ``served_schools`` (its own included), weeks
    Monday–Friday 8:30–11:30 and 14:00–17:00, opened when its vacation plan is approved or
    in effect (``actor``: bureau staff of 课后服务; the host school's vacation plan must exist:
    plans.plan_save/plan_submit/plan_decide/plan_start). Returns the HostSite."""
    host = holiday.host_designate(
        actor=actor,
        vacation_id=vacation.pk,
        school_id=host_school.pk,
        served_school_ids=sorted({host_school.pk, *(s.pk for s in served_schools)}),
        weeks=mondays(vacation, weeks),
        capacity=capacity,
        fee_per_week=fee_per_week,
        morning_start=dt.time(8, 30),
        morning_end=dt.time(11, 30),
        afternoon_start=dt.time(14, 0),
        afternoon_end=dt.time(17, 0),
    )
    if open_it:
        host = holiday.host_open(actor=actor, host_id=host.pk)
    return host
