"""Nightly checks of the institution's side (机构端), imported by institutions/checks.py.

- institutions.course.filing_waiting: a course filed for the bureau's approval (待备案) for
  more than PORTAL_ORG_QUEUE_DAYS days: the institution cannot sell it meanwhile.
- institutions.account.request_waiting: a request for an institution's first account open
  for more than PORTAL_ORG_QUEUE_DAYS days.
Both are the training line's (the rule's first part) and close when the bureau decides.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from institutions.account_models import AccountRequest
from institutions.models import Course
from portal.compliance import Found, register
from portal.models import Finding


def _before(for_date: dt.date):
    """The moment before which a row has waited more than PORTAL_ORG_QUEUE_DAYS on
    ``for_date`` (midnight, local time)."""
    day = for_date - dt.timedelta(days=settings.PORTAL_ORG_QUEUE_DAYS)
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


@register(
    "institutions.course.filing_waiting",
    title="课程备案超期未审核",
    severity=Finding.Severity.WARNING,
)
def filing_waiting(for_date):
    rows = (
        Course.objects.filter(filing=Course.Filing.SUBMITTED, filed_at__lt=_before(for_date))
        .select_related("institution")
        .order_by("filed_at", "pk")
    )
    for course in rows:
        filed = timezone.localtime(course.filed_at).date()
        yield Found(
            subject=course,
            institution_id=course.institution_id,
            message=f"{course.institution.name}的课程“{course.name}”于 {filed} 提交备案，"
            f"超过 {settings.PORTAL_ORG_QUEUE_DAYS} 天仍未审核。",
        )


@register(
    "institutions.account.request_waiting",
    title="机构账号申请超期未处理",
    severity=Finding.Severity.WARNING,
)
def request_waiting(for_date):
    rows = (
        AccountRequest.objects.filter(
            status=AccountRequest.Status.OPEN, created_at__lt=_before(for_date)
        )
        .select_related("institution")
        .order_by("created_at", "pk")
    )
    for row in rows:
        asked = timezone.localtime(row.created_at).date()
        yield Found(
            subject=row,
            institution_id=row.institution_id,
            message=f"{row.institution.name}于 {asked} 申请开通机构账号，"
            f"超过 {settings.PORTAL_ORG_QUEUE_DAYS} 天仍未处理。",
        )
