"""Dashboard panel of letters to parents (致家长的一封信) (imported by governance/dashboard.py):
the month's letters in the district with their read rates, two queries."""

from django.db.models import Count

from governance.letter_models import ParentLetter
from portal.dashboard import Bar, Filters, Panel, Series, link, panel
from portal.models import Notice


@panel(
    "governance.letters", title="本月致家长的一封信阅读率", line="governance", order=62, kept=True
)
def letters(f: Filters) -> Panel:
    sent = list(
        ParentLetter.objects.filter(district=f.district, sent_at__date__range=(f.start, f.end))
        .annotate(n=Count("deliveries"))
        .order_by("sent_at", "pk")
        .values_list("pk", "title", "n")
    )
    read = dict(
        Notice.objects.filter(
            key__in=[f"governance.letter:{pk}" for pk, _t, _n in sent], read_at__isnull=False
        )
        .values_list("key")
        .annotate(n=Count("pk"))
    )
    bars = [
        Bar(
            title,
            round(read.get(f"governance.letter:{pk}", 0) * 100 / n, 1) if n else 0,
            link(f"/letters/{pk}/"),
        )
        for pk, title, n in sent
    ]
    return Panel(title="", series=[Series("阅读率", bars)], unit="%", chart_limit=20)
