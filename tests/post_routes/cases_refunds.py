"""POST cases of refunds (退费, tests/post_routes): the parent's request, the institution's
answer, the bureau's decision and the batch refund of a suspended institution."""

from django.urls import reverse

from institutions import refunds
from institutions.escrow_models import Purchase
from institutions.models import Institution
from institutions.refund_models import RefundBatchLine, RefundRequest
from tests.institutions.refund_helpers import org_staff, paid_purchase
from tests.post_routes import Case, case, staff_of

# the bureau's pages: anonymous → login; schools, parents, institutions, other lines → 403
BUREAU_REFUSED = ("anonymous", "school", "parent", "bureau_homework", "staff_without_group",
                  "other_institution")  # fmt: skip
# the institution's pages: another institution's staff → 404
ORG_REFUSED = ("anonymous", "school", "parent", "bureau_homework", "other_institution")


def _bought(w):
    """A purchase of parent_a (10 lessons, 1000.00, 4 consumed)."""
    return paid_purchase(parent=w.parent_a.parent, consumed=4)


def _asked(w):
    purchase = _bought(w)
    request = refunds.request_ask(actor=w.parent_a, purchase_id=purchase.pk, reason="搬家")
    return purchase, request


def _status(pk):
    return lambda: RefundRequest.objects.values_list("status", "refund_amount").get(pk=pk)


@case("refunds:ask", refused=("anonymous", "stranger_parent", "school", "bureau_homework",
                              "other_institution"))  # fmt: skip
def ask(w):
    purchase = _bought(w)
    return Case(
        url=reverse("refunds:ask", args=[purchase.pk]),
        user=w.parent_a,
        valid={"reason": "孩子转学"},
        state=lambda: list(RefundRequest.objects.values_list("purchase", "status")),
        audit="institutions.refund.asked",
        invalid={"reason": " "},
        error="请填写退费原因。",
    )


@case("refunds:answer", "agree", refused=ORG_REFUSED)
def agree(w):
    purchase, request = _asked(w)
    return Case(
        url=reverse("refunds:answer", args=[request.pk]),
        user=org_staff(purchase.institution, "finance"),
        valid={"decision": "agree"},
        state=_status(request.pk),
        audit="institutions.refund.agreed",
        invalid={"decision": "maybe"},
        error="请选择同意或拒绝。",
    )


@case("refunds:answer", "refuse", refused=ORG_REFUSED)
def refuse(w):
    purchase, request = _asked(w)
    return Case(
        url=reverse("refunds:answer", args=[request.pk]),
        user=org_staff(purchase.institution, "admin"),
        valid={"decision": "refuse", "reason": "已开课，合同约定不退"},
        state=_status(request.pk),
        audit="institutions.refund.refused",
        invalid={"decision": "refuse", "reason": ""},
        error="请填写拒绝理由。",
    )


def _refused(w):
    purchase, request = _asked(w)
    refunds.request_answer(actor=org_staff(purchase.institution), request_id=request.pk,
                           agree=False, reason="不退")  # fmt: skip
    return request


@case("refunds:decide", "refund", refused=BUREAU_REFUSED)
def decide_refund(w):
    request = _refused(w)
    return Case(
        url=reverse("refunds:decide", args=[request.pk]),
        user=staff_of("校外培训", "xiaowai"),
        valid={"decision": "refund", "reason": "未消课部分应予退还"},
        state=_status(request.pk),
        audit="institutions.refund.decided_refund",
        invalid={"decision": "refund", "reason": ""},
        error="请填写决定理由。",
    )


@case("refunds:decide", "reject", refused=BUREAU_REFUSED)
def decide_reject(w):
    request = _refused(w)
    return Case(
        url=reverse("refunds:decide", args=[request.pk]),
        user=staff_of("校外培训", "xiaowai"),
        valid={"decision": "reject", "reason": "合同约定明确"},
        state=_status(request.pk),
        audit="institutions.refund.decided_reject",
        invalid={"decision": "", "reason": "合同约定明确"},
        error="请选择决定退费或驳回。",
    )


@case("refunds:batch", refused=BUREAU_REFUSED)
def batch(w):
    purchase = _bought(w)
    Institution.objects.filter(pk=purchase.institution_id).update(suspended_reason="停业跑路")
    return Case(
        url=reverse("refunds:batch", args=[purchase.institution_id]),
        user=staff_of("校外培训", "xiaowai"),
        valid={"reason": "停业跑路，经查属实", "confirm": "on"},
        state=lambda: (
            RefundBatchLine.objects.count(),
            Purchase.objects.get(pk=purchase.pk).status,
        ),
        audit="institutions.refund.batch",
        invalid={"reason": "停业跑路，经查属实"},
        error="请先核对预览，并勾选确认后再执行批量退费。",
    )
