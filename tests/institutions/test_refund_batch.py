"""The bureau's batch refund of a closed or suspended institution's buyers (卷钱跑路): every
purchase still 履行中 gets back what the escrow holds for it, each in its own transaction;
the risk-deposit purchases' money is with the institution, so their unconsumed value is the
shortfall; a re-run pays nothing twice."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError

from institutions import escrow, refunds
from institutions.escrow_models import Purchase
from institutions.models import Institution
from institutions.refund_models import RefundBatchLine, RefundRequest
from portal.models import AuditLog, Notice
from tests.institutions.conftest import escrow_institution
from tests.institutions.helpers import training_staff
from tests.institutions.refund_helpers import org_staff, paid_purchase

pytestmark = pytest.mark.django_db
P = Purchase.Status


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


def suspend(institution, reason="停业跑路"):
    Institution.objects.filter(pk=institution.pk).update(suspended_reason=reason)
    institution.refresh_from_db()
    return institution


@pytest.fixture
def gone():
    """A suspended escrow institution with three buyers: untouched, half consumed and
    released, consumed but not yet confirmed (so not released)."""
    inst = escrow_institution(name="跑路艺术学校")
    a = paid_purchase(institution=inst, amount="1000.00")
    b = paid_purchase(institution=inst, amount="2000.00", consumed=5, confirmed=5)
    c = paid_purchase(institution=inst, amount="500.00", consumed=4)
    suspend(inst)
    return inst, (a, b, c)


def test_the_batch_is_only_for_a_closed_or_suspended_institution():
    inst = escrow_institution()
    paid_purchase(institution=inst)
    assert "未被暂停办学" in refunds.batch_refusal(inst)
    with pytest.raises(ValidationError):
        refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="跑路")
    Institution.objects.filter(pk=inst.pk).update(licence_revoked=True)
    inst.refresh_from_db()
    assert refunds.batch_refusal(inst) is None
    Institution.objects.filter(pk=inst.pk).update(licence_revoked=False, governance="deregistered")
    inst.refresh_from_db()
    assert refunds.batch_refusal(inst) is None


def test_the_preview_shows_what_each_buyer_gets_back(gone):
    inst, (a, b, c) = gone
    rows = {r.purchase.pk: r for r in refunds.batch_rows(inst)}
    assert (rows[a.pk].paid, rows[a.pk].unconsumed, rows[a.pk].refundable) == (
        Decimal("1000.00"), Decimal("1000.00"), Decimal("1000.00"),
    )  # fmt: skip
    # 5 of 10 confirmed and released: 1000 left, all of it unconsumed
    assert (rows[b.pk].unconsumed, rows[b.pk].refundable) == (Decimal("1000.00"),) * 2
    # 4 consumed, not confirmed: the escrow still holds all 500, 300 of it unconsumed
    assert (rows[c.pk].unconsumed, rows[c.pk].refundable) == (
        Decimal("300.00"), Decimal("500.00"),
    )  # fmt: skip
    assert all(r.shortfall == 0 for r in rows.values())
    assert Purchase.objects.filter(institution=inst, status=P.ACTIVE).count() == 3  # read only


def test_the_run_refunds_every_buyer_in_full_and_a_rerun_pays_nothing_twice(
    gone, django_capture_on_commit_callbacks
):
    inst, (a, b, c) = gone
    staff = training_staff()
    with django_capture_on_commit_callbacks(execute=True):
        batch = refunds.batch_run(actor=staff, institution_id=inst.pk, reason="停业跑路，经查属实")
    assert batch.purchases == 3 and batch.failed == []
    lines = {line.purchase_id: line for line in batch.lines.all()}
    assert lines[a.pk].refunded == Decimal("1000.00")
    assert lines[b.pk].refunded == Decimal("1000.00")
    assert lines[c.pk].refunded == Decimal("500.00")  # consumed-but-unreleased too: at fault
    assert all(line.shortfall == 0 for line in lines.values())
    for p in (a, b, c):
        p.refresh_from_db()
        assert p.status == P.REFUNDED_FULL
        assert escrow.purchase_sums(p).held == 0
    assert escrow.escrow_balances([inst.pk])[inst.pk] == 0
    assert Notice.objects.filter(user=a.parent.user, key=f"refund:batch:{a.pk}").exists()
    assert AuditLog.objects.filter(action="institutions.refund.batch_refunded").count() == 3

    again = refunds.batch_run(actor=staff, institution_id=inst.pk, reason="再次执行")
    assert again.purchases == 0 and again.lines.count() == 0
    assert sum(escrow.purchase_sums(p).refunded for p in (a, b, c)) == Decimal("2500.00")


def test_risk_deposit_buyers_show_the_shortfall():
    inst = escrow_institution(name="保证金机构", kind="deposit", deposit="50000")
    d1 = paid_purchase(institution=inst, amount="1200.00", lessons=12, consumed=3, confirmed=3)
    d2 = paid_purchase(institution=inst, amount="800.00")
    suspend(inst)
    rows = {r.purchase.pk: r for r in refunds.batch_rows(inst)}
    assert rows[d1.pk].refundable == 0 and rows[d1.pk].shortfall == Decimal("900.00")
    assert rows[d2.pk].shortfall == Decimal("800.00")
    batch = refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="跑路")
    lines = {line.purchase_id: line for line in batch.lines.all()}
    assert lines[d1.pk].refunded == 0 and lines[d1.pk].shortfall == Decimal("900.00")
    assert lines[d1.pk].paid == Decimal("1200.00")
    assert "风险保证金" in lines[d1.pk].note
    assert sum(line.shortfall for line in lines.values()) == Decimal("1700.00")
    assert escrow.purchase_sums(d1).refunded == 0  # nothing booked out of the ledger
    # listed once: a re-run neither pays nor lists them again
    again = refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="再次")
    assert again.purchases == 0
    assert {r.listed for r in refunds.batch_rows(inst)} == {True}
    assert RefundBatchLine.objects.count() == 2


def test_an_open_request_is_closed_by_the_batch(gone):
    inst, (a, _b, _c) = gone
    request = refunds.request_ask(actor=a.parent.user, purchase_id=a.pk, reason="机构关门")
    batch = refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="跑路")
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.REFUNDED
    assert request.refund_amount == Decimal("1000.00")
    assert f"第 {batch.pk} 批" in request.decision_reason


def test_one_failing_purchase_leaves_the_others_paid_and_a_rerun_finishes_it(gone):
    inst, (a, b, c) = gone
    real = escrow.refund_full

    def flaky(**kwargs):
        if kwargs["purchase_id"] == b.pk:
            raise OperationalError("canceling statement due to lock timeout")
        return real(**kwargs)

    with mock.patch.object(escrow, "refund_full", flaky):
        batch = refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="跑路")
    assert batch.purchases == 2
    assert [f["purchase"] for f in batch.failed] == [b.pk]
    b.refresh_from_db()
    assert b.status == P.ACTIVE and escrow.purchase_sums(b).refunded == 0
    assert not RefundBatchLine.objects.filter(purchase=b).exists()
    again = refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason="重新执行")
    assert again.purchases == 1 and again.failed == []
    assert escrow.purchase_sums(b).refunded == Decimal("1000.00")
    assert escrow.purchase_sums(a).refunded == Decimal("1000.00")  # not twice


def test_only_training_staff_run_a_batch(gone, world):
    inst, (a, _b, _c) = gone
    for user in (world.bureau, org_staff(inst), a.parent.user):
        with pytest.raises(PermissionDenied):
            refunds.batch_run(actor=user, institution_id=inst.pk, reason="跑路")
    assert escrow.purchase_sums(a).refunded == 0


def test_a_reason_is_required(gone):
    inst, _ = gone
    with pytest.raises(ValidationError) as exc:
        refunds.batch_run(actor=training_staff(), institution_id=inst.pk, reason=" ")
    assert "退费事由" in exc.value.message_dict["reason"][0]
