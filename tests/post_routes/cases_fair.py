"""POST cases of the matching fair (双向选择会, /fair/; issue 19 part 2): the bureau of 课后服务
opens, closes and matches; a school's manager posts and ranks needs; an admitted provider's
member posts and ranks offers. Another school's need and another organisation's offer are
404s; refusals of a rule name it."""

from django.urls import reverse

from afterschool.models import ProviderContract
from supply.fair_models import Fair, FairChoice, FairMatch, FairNeed, FairOffer
from tests.post_routes import Case, case, staff_of
from tests.supply.fair_helpers import choose, fair_of, need, offer, provider_member, term_of

BUREAU_ONLY = ("anonymous", "school", "teacher", "parent", "bureau_homework", "bureau_cases",
               "staff_without_group", "other_organisation", "other_expert",
               "other_site")  # fmt: skip


def _bureau():
    return staff_of("课后服务", "fair_bureau")


@case("fair:open", refused=BUREAU_ONLY)
def open_fair(w):
    term = term_of(w.school_a.district)
    ended = term_of(w.school_a.district, before=200, after=-1, name="上学期")
    return Case(
        url=reverse("fair:open"),
        user=_bureau(),
        valid={"term": term.pk, "name": "春季双向选择会"},
        state=lambda: Fair.objects.count(),
        audit="supply.fair.opened",
        invalid={"term": ended.pk, "name": "补办"},
        error="不能再举办",
    )


@case("fair:close", refused=BUREAU_ONLY)
def close(w):
    fair = fair_of(w.school_a.district)
    return Case(
        url=reverse("fair:close", args=[fair.pk]),
        user=_bureau(),
        valid={},
        state=lambda: Fair.objects.get(pk=fair.pk).status,
        audit="supply.fair.closed",
        no_invalid="a button without fields (closing a closed fair changes nothing)",
    )


@case("fair:match", refused=BUREAU_ONLY)
def match(w):
    fair = fair_of(w.school_a.district)
    member = provider_member("fair_org")
    n, o = need(fair, w.school_a), offer(fair, member)
    choose(FairChoice.Side.SCHOOL, n, [o])
    choose(FairChoice.Side.PROVIDER, o, [n])
    return Case(
        url=reverse("fair:match", args=[fair.pk]),
        user=_bureau(),
        valid={},
        state=lambda: (FairMatch.objects.count(), ProviderContract.objects.count()),
        audit="supply.fair.matched",
        no_invalid="a button without fields (matching again changes nothing)",
    )


NEED = {"kind": "sports", "grades": [3, 4], "weekdays": [1, 3], "places": 30,
        "budget_per_lesson": "60"}  # fmt: skip


@case(
    "fair:need_new",
    refused=("anonymous", "teacher", "parent", "bureau_afterschool", "staff_without_group",
             "other_organisation", "other_expert"),
)  # fmt: skip
def need_new(w):
    fair = fair_of(w.school_a.district)
    return Case(
        url=reverse("fair:need_new", args=[fair.pk]),
        user=w.principal_a,
        valid=NEED,
        state=lambda: FairNeed.objects.count(),
        audit="supply.fair_need.posted",
        invalid={**NEED, "budget_per_lesson": "0"},
        error="课时预算应大于0元。",
    )


@case(
    "fair:need",
    refused=("anonymous", "other_school", "teacher", "parent", "bureau_afterschool",
             "other_organisation"),
)  # fmt: skip
def need_rank(w):
    fair = fair_of(w.school_a.district)
    member = provider_member("fair_org")
    n = need(fair, w.school_a)
    o1, o2 = offer(fair, member), offer(fair, member, title="足球")
    return Case(
        url=reverse("fair:need", args=[n.pk]),
        user=w.principal_a,
        valid={f"rank_{o1.pk}": "2", f"rank_{o2.pk}": "1"},
        state=lambda: list(FairChoice.objects.order_by("rank").values_list("offer", "rank")),
        audit="supply.fair_need.ranked",
        invalid={f"rank_{o1.pk}": "1", f"rank_{o2.pk}": "1"},
        error="志愿顺序不能重复",
    )


OFFER = {"title": "篮球", "kind": "sports", "grades": [3, 4], "weekdays": [1, 3], "places": 30,
         "capacity": 1, "price_per_lesson": "50", "outside_price": "120"}  # fmt: skip


@case(
    "fair:offer_new",
    refused=("anonymous", "school", "teacher", "parent", "bureau_afterschool",
             "staff_without_group", "other_organisation", "other_expert"),
)  # fmt: skip
def offer_new(w):
    fair = fair_of(w.school_a.district)
    return Case(
        url=reverse("fair:offer_new", args=[fair.pk]),
        user=provider_member("fair_org"),
        valid=OFFER,
        state=lambda: FairOffer.objects.count(),
        audit="supply.fair_offer.posted",
        invalid={**OFFER, "price_per_lesson": "120"},
        error="课时单价120元须低于本机构校外同类课时价120元。",
    )


@case(
    "fair:offer",
    refused=("anonymous", "school", "parent", "bureau_afterschool", "other_organisation"),
)
def offer_rank(w):
    fair = fair_of(w.school_a.district)
    member = provider_member("fair_org")
    rival = provider_member("fair_rival")
    o = offer(fair, member)
    n1, n2 = need(fair, w.school_a), need(fair, w.school_b)
    return Case(
        url=reverse("fair:offer", args=[o.pk]),
        user=member,
        valid={f"rank_{n1.pk}": "1", f"rank_{n2.pk}": "2"},
        state=lambda: list(FairChoice.objects.order_by("rank").values_list("need", "rank")),
        audit="supply.fair_offer.ranked",
        invalid={f"rank_{n1.pk}": "1", f"rank_{n2.pk}": "1"},
        error="志愿顺序不能重复",
        who={"other_organisation": rival},  # an admitted rival provider: its offer is a 404
    )


@case(
    "fair:need_withdraw",
    refused=("anonymous", "other_school", "teacher", "parent", "bureau_afterschool",
             "other_organisation"),
)  # fmt: skip
def need_withdraw(w):
    fair = fair_of(w.school_a.district)
    n = need(fair, w.school_a)
    closed = fair_of(w.school_a.district, name="已截止的会", status=Fair.Status.CLOSED)
    frozen = need(closed, w.school_a)
    return Case(
        url=reverse("fair:need_withdraw", args=[n.pk]),
        user=w.principal_a,
        valid={},
        state=lambda: FairNeed.objects.count(),
        audit="supply.fair_need.withdrawn",
        invalid={},
        invalid_url=reverse("fair:need_withdraw", args=[frozen.pk]),
        error="已截止，不能再发布或修改志愿",
    )


@case(
    "fair:offer_withdraw",
    refused=("anonymous", "school", "parent", "bureau_afterschool", "other_organisation"),
)
def offer_withdraw(w):
    fair = fair_of(w.school_a.district)
    member = provider_member("fair_org")
    o = offer(fair, member)
    closed = fair_of(w.school_a.district, name="已截止的会", status=Fair.Status.CLOSED)
    frozen = offer(closed, member)
    return Case(
        url=reverse("fair:offer_withdraw", args=[o.pk]),
        user=member,
        valid={},
        state=lambda: FairOffer.objects.count(),
        audit="supply.fair_offer.withdrawn",
        invalid={},
        invalid_url=reverse("fair:offer_withdraw", args=[frozen.pk]),
        error="已截止，不能再发布或修改志愿",
        who={"other_organisation": provider_member("fair_rival")},
    )
