"""POST cases of the sales (/sales/, namespace "sales"): the institution records and cancels
a sale; the parent accepts or declines the offer and pays on the sandbox gateway's page; the
gateway's signed callback."""

from types import SimpleNamespace

from django.urls import reverse

from afterschool import payments
from institutions.escrow_models import Purchase
from tests.institutions.sale_helpers import (
    END,
    START,
    accept,
    ensure_template,
    make_offer,
    sale_institution,
    seller_of,
)
from tests.post_routes import Case, case

# the institution's pages: anonymous → login; a parent, a school → 403; another institution
# → 404; the "teacher" slot is the same institution's 财务 (reads, never sells) → 403
SELLER_REFUSED = ("anonymous", "parent", "school", "bureau_homework", "other_institution",
                  "teacher")  # fmt: skip
# the parent's pages: anonymous → login; another parent → 404; institution staff, a school → 403
PARENT_REFUSED = ("anonymous", "stranger_parent", "other_institution", "school")


def _statuses():
    return list(Purchase.objects.order_by("pk").values_list("status", "lessons"))


def _seller(w):
    ensure_template()  # the migration's 示范文本: these tests run after a flush
    inst = sale_institution()
    return inst, seller_of(inst, username="seller"), seller_of(inst, role="finance")


def _offer_to_parent_a(w, accepted=False):
    inst = sale_institution()
    p = make_offer(institution=inst, parent=w.parent_a.parent)
    if accepted:
        accept(p)
    return p


@case("sales:new", refused=SELLER_REFUSED)
def new(w):
    inst, seller, finance = _seller(w)
    data = {
        "course": inst.courses.first().pk, "parent_name": "张三", "parent_phone": "13812345678",
        "lessons": "10", "amount": "1000.00", "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
    }  # fmt: skip
    return Case(
        url=reverse("sales:new"),
        user=seller,
        valid=data,
        state=_statuses,
        audit="institutions.sale.offered",
        invalid={**data, "lessons": "61"},
        error="不得超过60课时",
        who={"teacher": finance},
    )


@case("sales:cancel", refused=SELLER_REFUSED)
def cancel(w):
    p = _offer_to_parent_a(w)
    seller = seller_of(p.institution, username="seller")
    return Case(
        url=reverse("sales:cancel", args=[p.pk]),
        user=seller,
        valid={"reason": "家长改报其他课程"},
        state=_statuses,
        audit="institutions.sale.cancelled",
        invalid={"reason": ""},
        error="请填写撤销原因",
        who={"teacher": seller_of(p.institution, role="finance")},
    )


@case("sales:offer", "accept", refused=PARENT_REFUSED)
def offer_accept(w):
    p = _offer_to_parent_a(w)
    sha = p.contract.text_sha256
    return Case(
        url=reverse("sales:offer", args=[p.pk]),
        user=w.parent_a,
        valid={"action": "accept", "agree": "on", "text_sha256": sha},
        state=_statuses,
        audit="institutions.sale.accepted",
        invalid={"action": "accept", "text_sha256": sha},
        error="请勾选",
    )


@case("sales:offer", "decline", refused=PARENT_REFUSED)
def offer_decline(w):
    p = _offer_to_parent_a(w)
    return Case(
        url=reverse("sales:offer", args=[p.pk]),
        user=w.parent_a,
        valid={"action": "decline"},
        state=_statuses,
        audit="institutions.sale.declined",
        no_invalid="a button without fields; declining twice changes nothing",
    )


@case("sales:sandbox", refused=PARENT_REFUSED)
def sandbox(w):
    p = _offer_to_parent_a(w, accepted=True)
    return Case(
        url=reverse("sales:sandbox", args=[p.pk]),
        user=w.parent_a,
        valid={"action": "pay"},
        state=_statuses_paid,
        audit="institutions.sale.paid",
        no_invalid="the gateway's page has two buttons, pay and give up, both outcomes a payment "
        "may have; a forged or replayed notice is sales:notify's invalid case",
    )


def _statuses_paid():
    return list(Purchase.objects.order_by("pk").values_list("status", "paid_at"))


@case("sales:notify", refused=())
def notify(w):
    p = _offer_to_parent_a(w, accepted=True)
    payable = SimpleNamespace(reference=p.idempotency_key, amount=p.amount)
    body, signature = payments.PROVIDERS["sandbox"].notification(payable)
    return Case(
        url=reverse("sales:notify", args=["sandbox"]),
        user=None,  # the provider's server: trusted by its signature, not a login
        valid={},
        raw=("application/json", body, {"X-Signature": signature}),
        state=_statuses_paid,
        audit="institutions.sale.paid",
        invalid_raw=("application/json", body, {"X-Signature": "0" * len(signature)}),
        error="签名",
        no_refused="a server-to-server callback: no user is refused, a wrong signature is "
        "(the invalid case)",
    )
