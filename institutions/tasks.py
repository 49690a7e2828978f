"""Celery tasks of the institutions."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from institutions import claims, colour, escrow, refunds, sales


@shared_task(name="institutions.escrow.release_due", acks_late=True)
def escrow_release_due(today: str | None = None) -> int:
    """Nightly, in order: offers parents left unanswered lapse (institutions/sales.py),
    claims of lessons unanswered past their deadline count as confirmed
    (institutions/claims.py), what the release rules make due is released (each purchase
    locked on its own; a retry after a failure posts nothing twice, the releases being
    idempotent), and refund requests the institution left unanswered go to the bureau
    (institutions/refunds.py)."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    sales.offers_expire()
    claims.auto_confirm_due(today=day)
    released = escrow.escrow_release_due(today=day)
    refunds.escalate_overdue(today=day)
    return released


@shared_task(name="institutions.colour.refresh_due", acks_late=True)
def colour_refresh_due(today: str | None = None) -> int:
    """Nightly, after midnight: store the colour of every institution whose stored colour ran
    out (colour_until < today: a licence expired, a review's validity ended, a 责令整改
    deadline passed) or is stale (an input changed outside the services). Until it has run
    those rows are computed by every reader, so it makes the pages fast again, never right."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return colour.refresh_due(today=day)
