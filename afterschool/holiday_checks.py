"""Nightly checks of holiday care (portal.compliance.register), chunked by host site."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Q

from afterschool.holiday_models import HostSite, HostWeek
from afterschool.models import Enrolment, SchoolPlan
from portal.compliance import Found, register
from portal.models import Finding, SchoolPeriod


@register(
    "afterschool.holiday.week_not_ready",
    title="假期托管周即将开始，承办学校的假期托管方案或假期未启用",
    severity=Finding.Severity.SERIOUS,
    over=lambda: HostSite.objects.all(),
)
def week_not_ready(for_date: dt.date, hosts):
    """A week block of an open host site starting within HOLIDAY_CARE_WARN_DAYS days (or
    begun) while its plan is not in effect or its vacation not active: the parents who
    enrolled would find it shut. Resolved once the plan is put in effect."""
    soon = for_date + dt.timedelta(days=settings.HOLIDAY_CARE_WARN_DAYS)
    blocks = (
        HostWeek.objects.filter(
            host__in=hosts.filter(status=HostSite.Status.OPEN),
            offering__starts_on__lte=soon,
            offering__ends_on__gte=for_date,
            offering__status="published",
        )
        .filter(
            ~Q(offering__plan__status=SchoolPlan.Status.IN_EFFECT)
            | ~Q(offering__plan__term__status=SchoolPeriod.Status.ACTIVE)
        )
        .select_related("host__site", "offering__plan__term", "offering__school")
    )
    for b in blocks:
        plan = b.offering.plan
        yield Found(
            subject=b,
            school=b.offering.school,
            message=(
                f"{b.host.site.name}{plan.term.name}托管周（{b.offering.starts_on}起）即将开始，"
                f"但{b.offering.school.name}的假期托管方案{plan.get_status_display()}、"
                f"{plan.term.name}{plan.term.get_status_display()}，家长报名后无法参加。"
            ),
        )


@register(
    "afterschool.holiday.over_capacity",
    title="假期托管周报名人数超过名额",
    severity=Finding.Severity.WARNING,
    over=lambda: HostSite.objects.all(),
)
def over_capacity(for_date: dt.date, hosts):
    """A week block holding more places than its capacity (a capacity lowered in the admin
    after parents enrolled): the host cannot take them all."""
    blocks = (
        HostWeek.objects.filter(host__in=hosts, offering__ends_on__gte=for_date)
        .annotate(
            taken=Count(
                "offering__enrolments",
                filter=Q(offering__enrolments__status=Enrolment.Status.ENROLLED),
            )
        )
        .filter(taken__gt=F("offering__capacity"))
        .select_related("host__site", "offering__school")
    )
    for b in blocks:
        yield Found(
            subject=b,
            school=b.offering.school,
            message=(
                f"{b.host.site.name}{b.offering.starts_on}起的托管周已报名{b.taken}人，"
                f"超过名额{b.offering.capacity}人。"
            ),
        )
