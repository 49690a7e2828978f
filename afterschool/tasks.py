"""Celery tasks of the after-school service."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from afterschool.lessons import lessons_generate
from afterschool.models import Offering


@shared_task(name="afterschool.lessons.extend", acks_late=True)
def lessons_extend(today: str | None = None) -> int:
    """Nightly: lessons for the published courses of terms not yet over. Generation is
    idempotent, so this only adds the days the calendar could not judge before (a year's
    holidays entered by staff after the course was published)."""
    today = dt.date.fromisoformat(today) if today else timezone.localdate()
    created = 0
    offerings = Offering.objects.filter(
        status=Offering.Status.PUBLISHED, plan__term__end__gte=today
    ).select_related("plan__term", "school__district")
    for offering in offerings:
        created += lessons_generate(offering)[0]
    return created
