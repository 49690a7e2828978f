"""Celery tasks of the institutions."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from institutions import escrow


@shared_task(name="institutions.escrow.release_due", acks_late=True)
def escrow_release_due(today: str | None = None) -> int:
    """Nightly: release what the delay rule has made due (each purchase locked on its own;
    a retry after a failure posts nothing twice, the releases being idempotent)."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return escrow.escrow_release_due(today=day)
