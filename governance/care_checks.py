"""Nightly check of the care ledger (关爱帮扶 一人一档), imported by governance/checks.py.

A school with pupils whose home visits of the term are overdue (governance/care_selectors.py
says when each visit falls due: PORTAL_CARE_VISITS_PER_TERM a term, PORTAL_CARE_SPECIAL_
VISITS_PER_TERM for the special categories) is one finding about the school. The finding
names the school and counts only, never a pupil: findings are read on the bureau's pages.
It resolves at the first run after the missing visits are logged (the run no longer sees
it). Outside a term nothing is due, so nothing is found.
"""

from django.conf import settings

from governance import care_selectors as sel
from governance.care_models import CareRecord
from portal.compliance import Found, register
from portal.models import Finding, SchoolPeriod


@register(
    "governance.care.visits_overdue", title="关爱对象家访逾期", severity=Finding.Severity.WARNING
)
def visits_overdue(for_date):
    districts = (
        CareRecord.objects.filter(closed_on__isnull=True)
        .values_list("school__district_id", flat=True)
        .distinct()
    )
    terms = SchoolPeriod.objects.filter(
        district_id__in=districts, kind=SchoolPeriod.Kind.TERM, start__lte=for_date,
        end__gte=for_date,
    ).order_by("district_id", "start")  # fmt: skip
    seen = set()
    for term in terms:
        if term.district_id in seen:
            continue
        seen.add(term.district_id)
        counts, _term = sel.school_counts(term.district_id, for_date, term=term)
        for c in counts:
            if not c.overdue:
                continue
            yield Found(
                subject=c.school,
                school=c.school,
                message=(
                    f"{c.school.name}：{term.name}有 {c.overdue} 名关爱对象家访逾期"
                    f"（其中特殊类别 {c.overdue_special} 名；建档 {c.records} 名）。"
                    f"要求每名每学期至少家访 {settings.PORTAL_CARE_VISITS_PER_TERM} 次，"
                    f"特殊类别至少 {settings.PORTAL_CARE_SPECIAL_VISITS_PER_TERM} 次。"
                ),
            )
