"""Nightly checks of lunch-break care (portal.compliance.register): one query per chunk."""

from django.db.models import Count, Exists, F, OuterRef, Q

from afterschool.lunch_models import LunchChoice, LunchMonth
from afterschool.models import Enrolment, Offering
from portal.compliance import Found, register
from portal.models import Finding

ENROLLED, WAITING = Enrolment.Status.ENROLLED, Enrolment.Status.WAITING
BED = LunchChoice.Arrangement.BED


@register(
    "afterschool.lunch.beds",
    title="午托床位超额或空床未递补",
    severity=Finding.Severity.WARNING,
    over=lambda: LunchMonth.objects.all(),
)
def beds(for_date, months):
    """A month of lunch care still running (its offering open, not over) whose pupils lying
    down outnumber its beds (a bed given twice), or with a bed and a seat free while a child
    waits for a bed (the waiting list did not move up). Resolved when the numbers are right
    again (a child taken out, or moved up)."""
    on = "offering__enrolments__"
    bed_waiting = LunchChoice.objects.filter(
        enrolment__offering_id=OuterRef("offering_id"), enrolment__status=WAITING, arrangement=BED
    )
    rows = (
        months.filter(offering__status=Offering.Status.PUBLISHED, offering__ends_on__gte=for_date)
        .annotate(
            seats_taken=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED}), distinct=True),
            beds_taken=Count(f"{on}pk", filter=Q(**{f"{on}status": ENROLLED,
                                                    f"{on}lunch_choice__arrangement": BED}),
                             distinct=True),
            bed_waiting=Exists(bed_waiting),
        )
        .filter(Q(beds_taken__gt=F("beds")) | Q(bed_waiting=True, beds_taken__lt=F("beds"),
                                                 seats_taken__lt=F("offering__capacity")))
        .select_related("school", "offering")
    )  # fmt: skip
    for m in rows:
        if m.beds_taken > m.beds:
            message = (
                f"{m.school.name}{m.offering.name}平躺睡 {m.beds_taken} 人，超过床位 {m.beds} 张。"
            )
            severity = Finding.Severity.SERIOUS
        else:
            message = (
                f"{m.school.name}{m.offering.name}有空余床位和名额，但候补名单上等待床位的学生"
                "没有递补，请在午托页面核对。"
            )
            severity = None
        yield Found(subject=m, school=m.school, message=message, severity=severity)
