"""Celery tasks of the homework line."""

from celery import shared_task
from django.utils import timezone

from homework import reports
from portal.models import District


@shared_task(name="homework.reports.snapshot", acks_late=True)
def reports_snapshot(month: str | None = None) -> int:
    """Nightly: every district's monthly report of the current month, kept for the
    dashboard (a month the calendar cannot judge is kept with the reason)."""
    month = month or f"{timezone.localdate():%Y-%m}"
    done = 0
    for district in District.objects.all():
        reports.snapshot_refresh(district=district, month=month)
        done += 1
    return done
