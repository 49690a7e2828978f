"""Paying a sale into the escrow: the sandbox gateway's signed notice (replayed, forged,
another amount) and the bank transfer found in an imported statement."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from afterschool import payments
from institutions import escrow
from institutions.escrow_models import BankStatementLine, EscrowTransaction, Purchase
from institutions.escrow_views import statement_parse
from institutions.sale_models import SaleNotice
from portal.models import AuditLog
from tests.institutions.sale_helpers import accept, make_offer

S = Purchase.Status
O = SaleNotice.Outcome  # noqa: E741
GATEWAY = payments.PROVIDERS["sandbox"]


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def sale(db):
    """A sale the parent accepted (待付款), 1000 元."""
    p = make_offer(amount="1000.00")
    accept(p)
    p.refresh_from_db()
    return p


def notice(p, *, amount=None, status="paid"):
    from types import SimpleNamespace

    payable = SimpleNamespace(reference=p.idempotency_key, amount=p.amount)
    return GATEWAY.notification(payable, status=status, amount=amount)


def post_notice(client, body, signature):
    return client.post(reverse("sales:notify", args=["sandbox"]), data=body,
                       content_type="application/json", HTTP_X_SIGNATURE=signature)  # fmt: skip


def money(p):
    return list(EscrowTransaction.objects.filter(purchase=p).values_list("kind", "idempotency_key"))


def test_a_signed_notice_books_the_sale_once_and_a_replay_writes_nothing(sale, client):
    body, signature = notice(sale)
    r = post_notice(client, body, signature)
    assert r.status_code == 200 and r.content.decode() == "ok paid"
    sale.refresh_from_db()
    assert sale.status == S.ACTIVE and sale.paid_at is not None
    assert money(sale) == [("purchase", sale.idempotency_key)]
    assert escrow.purchase_sums(sale).paid == Decimal("1000.00")
    counts = (SaleNotice.objects.count(), AuditLog.objects.count())
    r = post_notice(client, body, signature)  # the gateway delivers it again
    assert r.status_code == 200
    assert (SaleNotice.objects.count(), AuditLog.objects.count()) == counts
    assert len(money(sale)) == 1


def test_a_forged_notice_is_refused_and_nothing_is_written(sale, client):
    body, signature = notice(sale)
    counts = (
        SaleNotice.objects.count(),
        AuditLog.objects.count(),
        EscrowTransaction.objects.count(),
    )
    r = post_notice(client, body, "0" * len(signature))
    assert r.status_code == 400 and "签名" in r.content.decode()
    forged = body.replace(b"1000.00", b"1.00")
    assert post_notice(client, forged, signature).status_code == 400
    assert post_notice(client, body, "").status_code == 400
    assert (SaleNotice.objects.count(), AuditLog.objects.count(),
            EscrowTransaction.objects.count()) == counts  # fmt: skip
    sale.refresh_from_db()
    assert sale.status == S.ACCEPTED


def test_a_notice_for_an_unknown_reference_is_refused(db, client):
    from types import SimpleNamespace

    body, signature = GATEWAY.notification(SimpleNamespace(reference="SL-NOPE", amount="1.00"))
    assert post_notice(client, body, signature).status_code == 400
    assert not SaleNotice.objects.exists()


def test_another_amount_is_kept_to_return_and_not_booked_as_paid(sale, client):
    body, signature = notice(sale, amount="999.00")
    assert post_notice(client, body, signature).content.decode() == "ok mismatch"
    sale.refresh_from_db()
    assert sale.status == S.ACCEPTED and money(sale) == []
    n = SaleNotice.objects.get()
    assert n.outcome == O.MISMATCH and n.amount == Decimal("999.00")


def test_money_for_a_sale_not_awaiting_payment_is_not_booked(db, client):
    p = make_offer()  # not accepted yet
    body, signature = notice(p)
    assert post_notice(client, body, signature).content.decode() == "ok not_payable"
    p.refresh_from_db()
    assert p.status == S.OFFERED and money(p) == []


def test_a_failed_notice_leaves_the_sale_awaiting_payment(sale, client):
    body, signature = notice(sale, status="failed")
    assert post_notice(client, body, signature).content.decode() == "ok failed"
    sale.refresh_from_db()
    assert sale.status == S.ACCEPTED


def test_the_sandbox_is_refused_in_production(sale, client, settings):
    settings.PRODUCTION = True
    body, signature = notice(sale)
    assert post_notice(client, body, signature).status_code == 404
    client.force_login(sale.parent.user)
    assert client.get(reverse("sales:sandbox", args=[sale.pk])).status_code == 404
    assert (
        client.post(reverse("sales:sandbox", args=[sale.pk]), {"action": "pay"}).status_code == 404
    )
    sale.refresh_from_db()
    assert sale.status == S.ACCEPTED and not SaleNotice.objects.exists()


def test_the_parent_pays_on_the_sandbox_page(sale, client):
    client.force_login(sale.parent.user)
    page = client.get(reverse("sales:pay", args=[sale.pk])).content.decode()
    assert sale.idempotency_key in page and "6222020200445566" in page  # transfer details
    r = client.post(reverse("sales:sandbox", args=[sale.pk]), {"action": "pay"})
    assert r.status_code == 302
    sale.refresh_from_db()
    assert sale.status == S.ACTIVE
    assert AuditLog.objects.filter(action="institutions.sale.paid").count() == 1


# --- the bank transfer -------------------------------------------------------------------


def import_rows(staff, account, *rows):
    data = ("日期,金额,参考号,对方户名\n" + "\n".join(rows) + "\n").encode()
    parsed, encoding = statement_parse(data)
    return escrow.statement_import(actor=staff, account_id=account.pk, filename="流水.csv",
                                   rows=parsed, encoding=encoding)  # fmt: skip


@pytest.fixture
def staff(db):
    from tests.institutions.helpers import training_staff

    return training_staff()


def test_a_transfer_with_the_reference_and_amount_pays_the_sale_once(sale, staff):
    day = timezone.localdate().isoformat()
    account = sale.institution.supervised_account
    import_rows(staff, account, f"{day},1000.00,{sale.idempotency_key.lower()},张三")
    sale.refresh_from_db()
    assert sale.status == S.ACTIVE and len(money(sale)) == 1
    line = BankStatementLine.objects.get()
    assert line.match == BankStatementLine.Match.MATCHED
    assert line.transaction.purchase == sale
    # the same statement again: its line is skipped, nothing is booked twice
    import_rows(staff, account, f"{day},1000.00,{sale.idempotency_key.lower()},张三")
    escrow.statement_rematch(actor=staff, account_id=account.pk)
    assert len(money(sale)) == 1 and SaleNotice.objects.count() == 1
    assert escrow.escrow_balances([sale.institution_id]) == {
        sale.institution_id: Decimal("1000.00")
    }


def test_a_transfer_of_another_amount_is_not_booked_and_stays_open(sale, staff):
    day = timezone.localdate().isoformat()
    account = sale.institution.supervised_account
    import_rows(staff, account, f"{day},100.00,{sale.idempotency_key},张三")
    sale.refresh_from_db()
    assert sale.status == S.ACCEPTED and money(sale) == []
    assert SaleNotice.objects.get().outcome == O.MISMATCH
    line = BankStatementLine.objects.get()
    assert line.match != BankStatementLine.Match.MATCHED  # on the reconciliation page
    # then the right amount arrives: paid; the first money is still there to return
    import_rows(staff, account, f"{day},1000.00,{sale.idempotency_key},张三")
    sale.refresh_from_db()
    assert sale.status == S.ACTIVE
    assert sorted(SaleNotice.objects.values_list("outcome", flat=True)) == [O.MISMATCH, O.PAID]
    # a second transfer of the full amount (paid twice) is not booked as a payment either
    import_rows(staff, account, f"{day},1000.00,{sale.idempotency_key},李四")
    assert len(money(sale)) == 1
    assert SaleNotice.objects.filter(outcome=O.NOT_PAYABLE).count() == 1
    assert BankStatementLine.objects.exclude(match="matched").count() == 2


def test_a_transfer_for_a_staff_typed_purchase_is_left_to_the_matching(db, staff):
    from tests.institutions.conftest import buy

    p = make_offer()
    inst = p.institution
    typed = buy(staff, inst, key="PAY-TYPED", amount="500.00", lessons=5)
    day = timezone.localdate().isoformat()
    import_rows(staff, inst.supervised_account, f"{day},500.00,PAY-TYPED,张三")
    assert not SaleNotice.objects.exists()
    assert BankStatementLine.objects.get().transaction.purchase == typed


def test_money_kept_to_return_can_be_booked_once_handed_back(sale, staff):
    day = timezone.localdate().isoformat()
    account = sale.institution.supervised_account
    import_rows(staff, account, f"{day},100.00,{sale.idempotency_key},张三",
                f"{day},1000.00,{sale.idempotency_key},张三")  # fmt: skip
    sale.refresh_from_db()
    assert sale.status == S.ACTIVE
    line = BankStatementLine.objects.get(amount=Decimal("100.00"))
    assert line.match == BankStatementLine.Match.AMOUNT_MISMATCH
    tx = escrow.bank_line_book(actor=staff, line_id=line.pk, memo="金额不符，已退回家长")
    assert tx.kind == "adjustment"
