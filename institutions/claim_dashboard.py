"""Dashboard panel of 消课 claims (imported by institutions/dashboard.py): the month's claims
of the district by the parents' answer. One query."""

from django.db.models import Count

from institutions.claim_models import LessonClaim
from portal.dashboard import Bar, Filters, Panel, Series, panel

S = LessonClaim.Status


@panel("institutions.claims_status", title="本月消课与家长确认", line="institutions", order=35)
def claims_status(f: Filters) -> Panel:
    counts = dict(
        LessonClaim.objects.filter(
            purchase__institution__district=f.district, date__range=(f.start, f.end)
        )
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    bars = [Bar(label, counts.get(value, 0)) for value, label in S.choices]
    total = sum(counts.values())
    disputed = counts.get(S.DISPUTED, 0)
    return Panel(
        title="", series=[Series("节数", bars)], unit="节",
        figures=[("本月登记消课", str(total)),
                 ("有异议", f"{disputed}（{disputed * 100 // total}%）" if total else "0")],
    )  # fmt: skip
