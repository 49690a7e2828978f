"""Nightly checks of the sites part (portal.compliance.register).

A community site in use (active) whose last safety check is older than
SITES_SAFETY_CHECK_MONTHS (or which has none) is one finding about the site, told to its
承办学校 too (its courses are the school's). The site's courses are shut by the same rule at
once (afterschool.sites.open_problem); the finding resolves at the first run after a new
check is recorded (the run no longer sees it). One query per chunk of sites.
"""

from django.conf import settings

from afterschool.models import CareSite
from afterschool.sites import check_good_until, sites_with_problem
from portal.compliance import Found, register
from portal.models import Finding


@register(
    "afterschool.site.safety_check_overdue",
    title="社区托管点安全检查过期",
    severity=Finding.Severity.SERIOUS,
    over=lambda: CareSite.objects.filter(kind=CareSite.Kind.COMMUNITY),
)
def safety_check_overdue(for_date, sites):
    months = settings.SITES_SAFETY_CHECK_MONTHS
    rows = sites.filter(pk__in=sites_with_problem(for_date).values("pk")).select_related(
        "partner_school"
    )
    for site in rows:
        if site.safety_checked_on is None:
            why = "没有安全检查记录"
        else:
            why = (
                f"最近一次安全检查为 {site.safety_checked_on}，超过{months}个月"
                f"（有效至 {check_good_until(site.safety_checked_on)}）"
            )
        yield Found(
            subject=site,
            school=site.partner_school,
            message=f"社区托管点{site.name}（承办学校{site.partner_school.name}）{why}，"
            "课程已暂停开放，请尽快组织安全检查。",
        )
