"""Community care sites (社区托管点): the register, safety checks, operators."""

import datetime as dt

from afterschool.models import CareSite


def open_problem(site: CareSite, today: dt.date | None = None) -> str | None:
    """Why ``site`` may not open (its courses neither published nor enrolled), in Chinese;
    None when it may."""
    return None
