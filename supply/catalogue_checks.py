"""Nightly check of the course catalogue (公益课程包), imported by supply/checks.py.

A granted order (派单) whose package's service window ended more than
``CATALOGUE_DELIVERY_GRACE_DAYS`` days ago, with fewer recorded visits (送单) than it was
granted, is one finding about the order and its school: the venue owes visits (or has not
recorded them). It resolves at the first run after the missing visits are recorded. Counts
only, never a pupil. Chunked over the granted orders.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F

from portal.compliance import Found, register
from portal.models import Finding
from supply.catalogue_models import CatalogueOrder

GRANTED = (CatalogueOrder.Status.GRANTED, CatalogueOrder.Status.PARTLY)


@register(
    "supply.catalogue.undelivered",
    title="公益课程包派单未送达",
    severity=Finding.Severity.WARNING,
    over=lambda: CatalogueOrder.objects.filter(status__in=GRANTED),
)
def undelivered(for_date, orders):
    ended_before = for_date - dt.timedelta(days=settings.CATALOGUE_DELIVERY_GRACE_DAYS)
    rows = (
        orders.filter(status__in=GRANTED, package__window_end__lt=ended_before)
        .annotate(done=Count("visits"))
        .filter(done__lt=F("granted_visits"))
        .select_related("package__organisation", "school")
        .order_by("pk")
    )
    for order in rows:
        package = order.package
        yield Found(
            subject=order,
            school=order.school,
            message=(
                f"{package.organisation.name}的公益课程包“{package.title}”派给"
                f"{order.school.name} {order.granted_visits} 场，服务时段已于"
                f"{package.window_end:%Y-%m-%d}结束，只记录送课 {order.done} 场"
                f"（结束后 {settings.CATALOGUE_DELIVERY_GRACE_DAYS} 天内应送达并记录）。"
            ),
        )
