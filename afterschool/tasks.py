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
        status=Offering.Status.PUBLISHED,
        plan__term__end__gte=today,
        plan__term__status="active",
        plan__status="in_effect",
    ).select_related("plan__term", "school__district")
    for offering in offerings:
        created += lessons_generate(offering)[0]
    return created


@shared_task(name="afterschool.bills.remind")
def bills_remind(today: str | None = None) -> int:
    """Daily: the parents of each open bill due within three days hear of it once."""
    from afterschool.models import Bill
    from portal.notices import notify

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    told = 0
    bills = (
        Bill.objects.filter(
            status=Bill.Status.OPEN, due_on__gte=day, due_on__lte=day + dt.timedelta(days=3)
        )
        .select_related("child", "enrolment__offering")
        .prefetch_related("child__parents")
    )
    for bill in bills:
        notify(
            [p.user_id for p in bill.child.parents.all()],
            key=f"bill:{bill.pk}:due",
            message=f"{bill.child.name}的课后服务费“{bill.enrolment.offering.name}”"
            f"{bill.amount} 元将于 {bill.due_on} 到期。",
            url="/afterschool/bills/",
        )
        told += 1
    return told


@shared_task(name="afterschool.offerings.finish", acks_late=True)
def offerings_finish(today: str | None = None) -> int:
    """Nightly: courses whose last lesson was yesterday or before are finished (their places
    "已结课", ratings open); a second run finishes nothing twice."""
    from afterschool.course_life import offerings_finish as finish

    return finish(dt.date.fromisoformat(today) if today else None)
