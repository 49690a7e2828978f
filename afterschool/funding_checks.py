"""Nightly checks of the funding part (portal.compliance.register): the teachers' subsidy
per teacher and month, against the floor per lesson (AfterschoolPolicy)."""

from dateutil.relativedelta import relativedelta

from afterschool.fee_models import Settlement
from afterschool.funding import ZERO, month_start
from afterschool.funding_models import SubsidyGrant
from afterschool.funding_selectors import pay_rows
from portal.compliance import Found, register
from portal.models import Finding, School

# how far back the nightly run judges completed months (a school year and a bit)
MONTHS_BACK = 12


@register(
    "afterschool.funding.teacher_pay_under_floor",
    title="教师课后服务课时补助低于每课时标准（按月）",
    severity=Finding.Severity.WARNING,
    over=lambda: School.objects.all(),
)
def teacher_pay_under_floor(for_date, schools):
    """One finding per school and completed month (the last twelve) listing the teachers
    paid less than the floor × the lessons they held, or not reported at all."""
    end = month_start(for_date) - relativedelta(days=1)
    start = month_start(for_date) - relativedelta(months=MONTHS_BACK)
    found = {}
    for row in pay_rows(schools, start, end):
        if row.under:
            found.setdefault((row.school, row.month), []).append(row)
    for (school, month), rows in found.items():
        names = "；".join(
            f"{r.staff.name} {r.lessons}课时"
            + ("未上报" if r.paid is None else f"实发{r.paid}元（应不少于{r.due}元）")
            for r in rows
        )
        yield Found(
            key=f"funding:teacher_pay:school:{school.pk}:month:{month:%Y-%m}",
            school=school,
            message=f"{school.name}{month:%Y年%m月}有{len(rows)}位教师的课后服务课时补助"
            f"低于每课时{rows[0].floor}元：{names}。",
        )


@register(
    "afterschool.funding.settlement_uncovered",
    title="课后服务学期结算缺口未由财政奖补补足",
    severity=Finding.Severity.WARNING,
    over=lambda: School.objects.all(),
)
def settlement_uncovered(for_date, schools):
    """A posted settlement whose pool is negative (the fees did not cover the providers and
    the teachers' subsidies) and whose term's per-pupil subsidy does not cover the rest."""
    settled = list(
        Settlement.objects.filter(school__in=schools, pool__lt=0).select_related("school", "term")
    )
    if not settled:
        return
    grants = {
        (g.school_id, g.term_id): g.amount
        for g in SubsidyGrant.objects.filter(school__in=schools, term__in=[s.term for s in settled])
    }
    for s in settled:
        received = grants.get((s.school_id, s.term_id), ZERO)
        needed = -s.pool - received
        if needed > 0:
            yield Found(
                subject=s,
                school=s.school,
                message=f"{s.school.name}{s.term.name}课后服务结算缺口{-s.pool}元，"
                f"财政奖补已到账{received}元，仍差{needed}元。",
            )
