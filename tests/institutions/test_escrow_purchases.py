"""Purchases, caps, release rules, disputes and refunds of the fee escrow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from institutions import escrow
from institutions.escrow_models import (
    EscrowPolicy,
    EscrowTransaction,
    Purchase,
    ReleaseKind,
    ReleaseRule,
)
from institutions.models import SupervisedAccount
from portal.models import AuditLog
from tests.institutions.conftest import START, buy, escrow_institution

D = Decimal


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def inst(db):
    return escrow_institution()


def kinds(purchase):
    return list(
        EscrowTransaction.objects.filter(purchase=purchase)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def confirm(staff, purchase, n, **kwargs):
    escrow.lessons_consume(
        actor=staff, purchase_id=purchase.pk, total=max(n, purchase.lessons_consumed)
    )
    return escrow.lessons_confirm(actor=staff, purchase_id=purchase.pk, total=n, **kwargs)


# --- recording and the caps ---------------------------------------------------------------


def test_a_purchase_puts_the_fee_into_the_escrow_owed_to_the_parent(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00")
    assert purchase.supervision == "escrow"
    assert purchase.release_kind == ReleaseKind.PER_LESSON  # the bureau's default
    tx = EscrowTransaction.objects.get(purchase=purchase)
    assert tx.kind == "purchase" and tx.idempotency_key == "PAY-0001"
    assert sorted((e.account, e.amount) for e in tx.entries.all()) == [
        (f"escrow:inst:{inst.pk}", D("1000.00")),
        (f"parent_prepaid:purchase:{purchase.pk}", D("-1000.00")),
    ]
    assert escrow.purchase_sums(purchase) == escrow.Sums(D("1000.00"), D("0"), D("0"))
    assert AuditLog.objects.filter(action="institutions.escrow.purchase_recorded").count() == 1


def test_a_deposit_institution_keeps_the_fee_itself(escrow_staff):
    inst = escrow_institution(kind="deposit", deposit="60000")
    purchase = buy(escrow_staff, inst)
    accounts = {e.account for e in EscrowTransaction.objects.get(purchase=purchase).entries.all()}
    assert accounts == {f"inst_held:inst:{inst.pk}", f"parent_prepaid:purchase:{purchase.pk}"}


@pytest.mark.parametrize(
    "field, ok, refused",
    [
        ("amount", {"amount": "5000.00"}, {"amount": "5000.01"}),
        ("lessons", {"lessons": 60}, {"lessons": 61}),
        ("ends_on", {"ends_on": dt.date(2026, 6, 2)}, {"ends_on": dt.date(2026, 6, 3)}),
    ],
)
def test_the_caps_hold_at_their_boundary(escrow_staff, inst, field, ok, refused):
    assert buy(escrow_staff, inst, key="OK", **ok).pk
    with pytest.raises(ValidationError) as exc:
        buy(escrow_staff, inst, key="OVER", **refused)
    message = exc.value.message_dict[field][0]
    assert {"amount": "5000元", "lessons": "60课时", "ends_on": "3个月"}[field] in message
    assert Purchase.objects.count() == 1
    assert EscrowTransaction.objects.count() == 1


def test_three_months_from_a_month_end_clamps_to_the_shorter_month(escrow_staff, inst):
    start = dt.date(2026, 11, 30)
    assert buy(escrow_staff, inst, key="A", starts_on=start, ends_on=dt.date(2027, 2, 28)).pk
    with pytest.raises(ValidationError):
        buy(escrow_staff, inst, key="B", starts_on=start, ends_on=dt.date(2027, 3, 1))


def test_every_broken_cap_is_named_at_once(escrow_staff, inst):
    with pytest.raises(ValidationError) as exc:
        buy(escrow_staff, inst, amount="8000.00", lessons=80, ends_on=dt.date(2026, 9, 1))
    assert set(exc.value.message_dict) == {"amount", "lessons", "ends_on"}


def test_no_fee_is_taken_without_an_active_supervised_account(escrow_staff):
    inst = escrow_institution(kind=None)
    with pytest.raises(ValidationError, match="没有有效的资金监管账户"):
        buy(escrow_staff, inst)
    other = escrow_institution(name="停用账户机构")
    SupervisedAccount.objects.filter(institution=other).update(active=False)
    with pytest.raises(ValidationError, match="没有有效的资金监管账户"):
        buy(escrow_staff, other, key="PAY-0002")
    assert not Purchase.objects.exists()


def test_a_replayed_purchase_changes_nothing(escrow_staff, inst):
    first = buy(escrow_staff, inst, key="PAY-REPLAY")
    again = buy(escrow_staff, inst, key="PAY-REPLAY")
    assert again.pk == first.pk and again.replayed
    assert Purchase.objects.count() == 1
    assert EscrowTransaction.objects.count() == 1
    assert AuditLog.objects.filter(action="institutions.escrow.purchase_recorded").count() == 1
    with pytest.raises(ValidationError, match="另一笔预收费"):
        buy(escrow_staff, inst, key="PAY-REPLAY", amount="999.00")


def test_the_rule_is_copied_when_the_purchase_is_recorded(escrow_staff, inst):
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.DELAY, delay_days=10)
    purchase = buy(escrow_staff, inst)
    ReleaseRule.objects.filter(institution=inst).update(kind=ReleaseKind.PER_LESSON)
    purchase.refresh_from_db()
    assert (purchase.release_kind, purchase.delay_days) == (ReleaseKind.DELAY, 10)


# --- consumption and release rules ----------------------------------------------------------


def test_per_lesson_releases_only_what_the_parent_confirmed(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=3)
    assert escrow.purchase_sums(purchase).released == 0  # consumed, not yet confirmed
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=2)
    assert escrow.purchase_sums(purchase).released == D("200.00")
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=3)
    assert escrow.purchase_sums(purchase).released == D("300.00")
    assert kinds(purchase) == ["purchase", "release", "release"]


def test_per_lesson_rounding_never_loses_a_fen(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=3)
    confirm(escrow_staff, purchase, 1)
    assert escrow.purchase_sums(purchase).released == D("333.33")
    confirm(escrow_staff, purchase, 2)
    assert escrow.purchase_sums(purchase).released == D("666.67")
    confirm(escrow_staff, purchase, 3)
    sums = escrow.purchase_sums(purchase)
    assert (sums.released, sums.held) == (D("1000.00"), D("0.00"))


def test_tranches_release_30_at_a_third_30_at_two_thirds_and_the_rest_at_completion(
    escrow_staff, inst
):
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.TRANCHES)
    purchase = buy(escrow_staff, inst, amount="900.00", lessons=9)
    released = []
    for n in [2, 3, 5, 6, 8, 9]:
        confirm(escrow_staff, purchase, n)
        released.append(escrow.purchase_sums(purchase).released)
    assert released == [D("0"), D("270.00"), D("270.00"), D("540.00"), D("540.00"), D("900.00")]


def test_delay_releases_everything_the_set_days_after_completion(escrow_staff, inst):
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.DELAY, delay_days=7)
    purchase = buy(escrow_staff, inst, amount="400.00", lessons=4)
    done = dt.date(2026, 4, 1)
    confirm(escrow_staff, purchase, 4, today=done)
    purchase.refresh_from_db()
    assert purchase.completed_on == done
    assert escrow.escrow_release(actor=escrow_staff, purchase_id=purchase.pk, today=done) is None
    day6 = done + dt.timedelta(days=6)
    assert escrow.escrow_release(actor=escrow_staff, purchase_id=purchase.pk, today=day6) is None
    assert escrow.escrow_release_due(today=done + dt.timedelta(days=7)) == 1
    assert escrow.purchase_sums(purchase).released == D("400.00")
    assert escrow.escrow_release_due(today=done + dt.timedelta(days=8)) == 0


def test_the_bureau_default_rule_applies_without_an_institution_rule(escrow_staff, inst):
    EscrowPolicy.objects.update_or_create(pk=1, defaults={"release_kind": ReleaseKind.DELAY})
    purchase = buy(escrow_staff, inst)
    assert purchase.release_kind == ReleaseKind.DELAY
    assert purchase.delay_days == 7


def test_consumption_and_confirmation_are_totals_within_bounds(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, lessons=10)
    with pytest.raises(ValidationError, match="不能超过购买的10课时"):
        escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=11)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    with pytest.raises(ValidationError, match="只能确认机构已登记的消课"):
        escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=5)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=3)
    with pytest.raises(ValidationError, match="已确认的消课不能撤销"):
        escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=2)
    with pytest.raises(ValidationError, match="不能撤回"):
        escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=2)
    audits = AuditLog.objects.count()
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=4)  # replayed
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=3)  # replayed
    assert AuditLog.objects.count() == audits
    assert escrow.purchase_sums(purchase).released == D("300.00")


# --- disputes -------------------------------------------------------------------------------


def test_an_open_dispute_holds_releases_until_it_is_closed(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    escrow.dispute_open(actor=escrow_staff, purchase_id=purchase.pk, reason="家长称老师多次缺课")
    confirm(escrow_staff, purchase, 2)
    assert escrow.escrow_release(actor=escrow_staff, purchase_id=purchase.pk) is None
    assert escrow.purchase_sums(purchase).released == 0
    escrow.dispute_close(actor=escrow_staff, purchase_id=purchase.pk, resolution="已补课")
    assert escrow.purchase_sums(purchase).released == D("200.00")
    with pytest.raises(ValidationError):
        escrow.dispute_open(actor=escrow_staff, purchase_id=purchase.pk, reason=" ")


# --- refunds --------------------------------------------------------------------------------


def test_a_refund_returns_the_unconsumed_lessons_and_keeps_the_consumed_for_the_institution(
    escrow_staff, inst
):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=3)
    tx = escrow.refund_unconsumed(actor=escrow_staff, purchase_id=purchase.pk, reason="转学")
    assert tx.kind == "refund"
    sums = escrow.purchase_sums(purchase)
    assert (sums.released, sums.refunded, sums.held) == (D("300.00"), D("600.00"), D("100.00"))
    # the fourth lesson, consumed before the refund, is released once the parent confirms it
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    sums = escrow.purchase_sums(purchase)
    assert (sums.released, sums.refunded, sums.held) == (D("400.00"), D("600.00"), D("0.00"))
    assert escrow.refund_unconsumed(actor=escrow_staff, purchase_id=purchase.pk) is None
    with pytest.raises(ValidationError, match="已退费"):
        escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=5)


def test_a_full_refund_when_the_institution_is_at_fault_returns_everything_still_held(
    escrow_staff, inst
):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=3)
    tx = escrow.refund_full(actor=escrow_staff, purchase_id=purchase.pk, reason="机构停止办学")
    sums = escrow.purchase_sums(purchase)
    assert (tx.kind, sums.refunded, sums.held) == ("refund_full", D("700.00"), D("0.00"))
    audit = AuditLog.objects.get(action="institutions.escrow.refunded_full")
    assert audit.new["to_recover_from_institution"] == "300.00"
    assert escrow.refund_full(actor=escrow_staff, purchase_id=purchase.pk, reason="再次") is None
    assert escrow.escrow_release(actor=escrow_staff, purchase_id=purchase.pk) is None
    with pytest.raises(ValidationError):
        escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    with pytest.raises(ValidationError, match="机构的过错"):
        escrow.refund_full(actor=escrow_staff, purchase_id=purchase.pk, reason="")


def test_a_full_refund_after_a_partial_one_returns_the_rest(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=4)
    escrow.refund_unconsumed(actor=escrow_staff, purchase_id=purchase.pk)
    escrow.refund_full(actor=escrow_staff, purchase_id=purchase.pk, reason="机构违约")
    sums = escrow.purchase_sums(purchase)
    assert (sums.refunded, sums.released, sums.held) == (D("1000.00"), D("0"), D("0.00"))


def test_a_replayed_refund_changes_nothing(escrow_staff, inst):
    purchase = buy(escrow_staff, inst)
    first = escrow.refund_unconsumed(
        actor=escrow_staff, purchase_id=purchase.pk, idempotency_key="REFUND-1"
    )
    again = escrow.refund_unconsumed(
        actor=escrow_staff, purchase_id=purchase.pk, idempotency_key="REFUND-1"
    )
    assert again.pk == first.pk and again.replayed
    assert kinds(purchase) == ["purchase", "refund"]
    assert AuditLog.objects.filter(action="institutions.escrow.refunded").count() == 1
    with pytest.raises(ValidationError, match="幂等键"):
        escrow.refund_full(
            actor=escrow_staff, purchase_id=purchase.pk, reason="x", idempotency_key="REFUND-1"
        )


def test_a_replayed_release_changes_nothing(escrow_staff, inst):
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.DELAY, delay_days=1)
    purchase = buy(escrow_staff, inst)
    confirm(escrow_staff, purchase, 10, today=START)
    day = START + dt.timedelta(days=1)
    first = escrow.escrow_release(
        actor=escrow_staff, purchase_id=purchase.pk, today=day, idempotency_key="REL-1"
    )
    again = escrow.escrow_release(
        actor=escrow_staff, purchase_id=purchase.pk, today=day, idempotency_key="REL-1"
    )
    assert first.pk == again.pk and again.replayed
    assert escrow.purchase_sums(purchase).released == D("1000.00")


# --- corrections ----------------------------------------------------------------------------


def test_a_correction_is_a_reversal_never_an_edit(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    confirm(escrow_staff, purchase, 2)
    release = EscrowTransaction.objects.get(purchase=purchase, kind="release")
    reversal = escrow.transaction_reverse(
        actor=escrow_staff, transaction_id=release.pk, memo="误确认"
    )
    assert reversal.reverses_id == release.pk
    assert escrow.purchase_sums(purchase).released == 0
    again = escrow.transaction_reverse(actor=escrow_staff, transaction_id=release.pk, memo="再次")
    assert again.pk == reversal.pk
    with pytest.raises(ValidationError, match="冲正记账"):
        escrow.transaction_reverse(actor=escrow_staff, transaction_id=reversal.pk, memo="x")


def test_a_payment_cannot_be_reversed_once_money_went_out_of_it(escrow_staff, inst):
    purchase = buy(escrow_staff, inst, amount="1000.00", lessons=10)
    confirm(escrow_staff, purchase, 2)
    payment = EscrowTransaction.objects.get(purchase=purchase, kind="purchase")
    with pytest.raises(ValidationError, match="超过实收金额"):
        escrow.transaction_reverse(actor=escrow_staff, transaction_id=payment.pk, memo="退票")
    assert not EscrowTransaction.objects.filter(reverses=payment).exists()
