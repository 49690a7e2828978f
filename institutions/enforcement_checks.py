"""Nightly checks of inspections (专项整治), 约谈, sanctions and 通报 (imported by
institutions/checks.py).

- ``institutions.inspection.failed_item``: a failed checklist item stays a finding until a
  later visit of the same institution passes that item (institutions.enforcement opens it
  at once when the visit is recorded; the run keeps or resolves it).
- ``institutions.enforcement.rectify_overdue``: an open 责令整改 past its deadline (the
  institution is grey from the midnight after the deadline: colour.py).
- ``institutions.enforcement.no_follow_up``: a visit with failed items and no later visit of
  the institution within ENFORCEMENT_FOLLOW_UP_DAYS days (settings).
"""

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef

from institutions.colour import overdue_rectifications
from institutions.enforcement import (
    RULE_FAILED_ITEM,
    RULE_NO_FOLLOW_UP,
    RULE_RECTIFY_OVERDUE,
    failed_item_message,
)
from institutions.enforcement_models import Sanction, Visit, VisitItem
from institutions.selectors import list_changed_at
from institutions.services import record_colour
from portal.compliance import Found, register
from portal.models import Finding


def _failed_items():
    return VisitItem.objects.filter(passed=False)


@register(
    RULE_FAILED_ITEM,
    title="检查发现不合格项目（待复查合格）",
    severity=Finding.Severity.WARNING,
    over=_failed_items,
)
def failed_item(for_date, items):
    passed_later = VisitItem.objects.filter(
        passed=True,
        item=OuterRef("item"),
        visit__institution_id=OuterRef("visit__institution_id"),
        visit__date__gte=OuterRef("visit__date"),
        visit__pk__gt=OuterRef("visit__pk"),
    )
    for item in (
        items.filter(visit__date__lte=for_date)
        .filter(~Exists(passed_later))
        .select_related("visit__institution")
    ):
        yield Found(
            subject=item,
            institution_id=item.visit.institution_id,
            message=failed_item_message(item, item.visit),
        )


def _open_rectifications():
    return Sanction.objects.filter(kind=Sanction.Kind.RECTIFY, closed_on__isnull=True)


@register(
    RULE_RECTIFY_OVERDUE,
    title="责令整改逾期未完成",
    severity=Finding.Severity.SERIOUS,
    over=_open_rectifications,
)
def rectify_overdue(for_date, sanctions):
    overdue = overdue_rectifications(today=for_date)
    for s in sanctions.filter(pk__in=overdue.values("pk")).select_related("institution"):
        # the colour turned grey at the midnight after the deadline, whatever ran: record it
        # with that moment (as the licence's expiry is)
        record_colour(s.institution, when=list_changed_at(s.institution, today=for_date))
        yield Found(
            subject=s,
            institution_id=s.institution_id,
            message=f"{s.institution.name}责令整改期限 {s.deadline} 已过，尚未整改完成，"
            "已列入灰名单。",
        )


def _visits_with_failures():
    return Visit.objects.filter(Exists(VisitItem.objects.filter(visit=OuterRef("pk"),
                                                                passed=False)))  # fmt: skip


@register(
    RULE_NO_FOLLOW_UP,
    title="检查不合格后未按时复查",
    severity=Finding.Severity.WARNING,
    over=_visits_with_failures,
)
def no_follow_up(for_date, visits):
    days = settings.ENFORCEMENT_FOLLOW_UP_DAYS
    later = Visit.objects.filter(
        institution_id=OuterRef("institution_id"), date__gte=OuterRef("date"),
        pk__gt=OuterRef("pk"),
    )  # fmt: skip
    due = for_date - dt.timedelta(days=days)
    # the newest visit with failures of each institution only: an older one was followed up
    # by it (the newer visit is its follow-up)
    for v in visits.filter(date__lt=due).filter(~Exists(later)).select_related("institution"):
        yield Found(
            subject=v,
            institution_id=v.institution_id,
            message=f"{v.institution.name} {v.date} 检查有不合格项目，{days} 天内未复查。",
        )
