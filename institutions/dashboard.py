"""The institutions' panels on the bureau's dashboard (portal.dashboard)."""

from django.db.models import Count, Q, Sum
from django.utils import timezone

from institutions import colour, escrow
from institutions.models import Institution, Purchase
from portal.dashboard import Bar, Filters, Panel, Series, link, panel


@panel("institutions.colour", title="校外培训机构名单（按颜色）", line="institutions", order=10)
def by_colour(f: Filters) -> Panel:
    """The public list's verdict (institutions.colour: the stored colour while it holds, else
    computed), in one statement of two parts: the rows whose stored colour holds, counted by
    it, and the others (stale, or past colour_until) computed. One CASE over all rows makes
    the planner cost the computing branch for every row and JIT-compile it (0.35 s a view for
    a district of 10,000, bench/dashboard_load.py); one statement (UNION ALL) reads both
    parts from the same snapshot, so a row turning stale meanwhile is counted once."""
    today = timezone.localdate()
    computed = colour.colour_expression(today=today)  # reads the policy first (one query)
    mine = Institution.objects.filter(district=f.district).order_by()
    fresh = mine.filter(colour_until__gte=today).values_list("list_colour").annotate(n=Count("pk"))
    stale = (
        mine.filter(Q(colour_until__isnull=True) | Q(colour_until__lt=today))
        .annotate(colour=computed)
        .values_list("colour")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for code, n in fresh.union(stale, all=True):
        counts[code] = counts.get(code, 0) + n
    bars = [
        Bar(label, counts.get(code, 0), link("/institutions/", district=f.district.pk, colour=code))
        for code, label in colour.LABELS.items()
    ]
    return Panel(title="", series=[Series("机构数", bars)], unit="家")


@panel(
    "institutions.governance", title="学科类机构治理进度", line="institutions", order=11, kept=True
)
def governance(f: Filters) -> Panel:
    G = Institution.Governance  # noqa: N806
    counts = dict(
        Institution.objects.filter(district=f.district, category=Institution.Category.SUBJECT)
        .values_list("governance")
        .annotate(n=Count("pk"))
    )
    states = [g for g in G if g != G.NOT_APPLICABLE]
    bars = [
        Bar(
            g.label,
            counts.get(g.value, 0),
            link("/institutions/board/", district=f.district.pk, category="subject"),
        )
        for g in states
    ]
    return Panel(title="", series=[Series("机构数", bars)], unit="家")


# kept (portal.dashboard): every running purchase of the district
@panel(
    "institutions.escrow", title="预收费资金监管覆盖与预警", line="institutions", order=12,
    kept=True,
)  # fmt: skip
def escrow_coverage(f: Filters) -> Panel:
    """Share of the district's institutions with an active supervised account, share of the
    money of running purchases kept in escrow (the rest under a deposit), and the accounts
    whose balance is short of what they must cover (yellow, red)."""
    institutions = Institution.objects.filter(district=f.district)
    totals = institutions.aggregate(
        all=Count("pk"),
        supervised=Count("pk", filter=Q(supervised_account__active=True)),
    )
    money = Purchase.objects.filter(
        institution__district=f.district, status=Purchase.Status.ACTIVE
    ).aggregate(all=Sum("amount"), escrow=Sum("amount", filter=Q(supervision="escrow")))
    share_inst = 100 * totals["supervised"] / totals["all"] if totals["all"] else 0
    share_money = 100 * (money["escrow"] or 0) / money["all"] if money["all"] else 0
    board = link("/institutions/board/", district=f.district.pk)
    series = [
        Series(
            "占比（%）",
            [
                Bar("纳入资金监管的机构", round(share_inst, 1), board),
                Bar("银行托管的预收费", round(float(share_money), 1), board),
            ],
        ),
    ]
    return Panel(title="", series=series, unit="%")


@panel("institutions.escrow_warnings", title="监管账户余额预警", line="institutions", order=13)
def escrow_warnings(f: Filters) -> Panel:
    levels = escrow.warning_levels(f.district)  # {level: accounts}
    bars = [
        Bar("黄色预警", levels["yellow"], "/institutions/staff/escrow/?level=yellow"),
        Bar("红色预警", levels["red"], "/institutions/staff/escrow/?level=red"),
    ]
    return Panel(
        title="",
        series=[Series("账户数", bars)],
        unit="个",
        figures=[("监管账户", str(sum(levels.values())))],
    )


from institutions import (  # noqa: E402, F401
    account_dashboard,
    claim_dashboard,
    complaint_dashboard,
    enforcement_dashboard,
    refund_dashboard,
)
