"""The escrow's staff pages (/institutions/staff/escrow/): who may see and act, the CSV
upload, the purchase actions, the admin, and a constant number of queries on the list."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions import escrow
from institutions.escrow_models import (
    BankStatementImport,
    BankStatementLine,
    EscrowTransaction,
    Purchase,
)
from institutions.escrow_views import StatementRow
from tests.institutions.conftest import buy, escrow_institution

D = Decimal


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def books(escrow_staff):
    inst = escrow_institution()
    purchase = buy(escrow_staff, inst, key="PAY-001", amount="1000.00", lessons=10)
    return inst, inst.supervised_account, purchase


def pages(account, purchase):
    return [
        reverse("institutions:escrow_index"),
        reverse("institutions:escrow_account", args=[account.pk]),
        reverse("institutions:escrow_purchase", args=[purchase.pk]),
        reverse("institutions:escrow_statement_template"),
    ]


def statement(*rows, name="流水.csv"):
    text = "日期,金额,参考号,对方户名\n" + "".join(f"{r}\n" for r in rows)
    return SimpleUploadedFile(name, text.encode("gb18030"), content_type="text/csv")


def test_escrow_staff_see_every_page(client_for, escrow_staff, books):
    _inst, account, purchase = books
    client = client_for(escrow_staff)
    for url in pages(account, purchase):
        assert client.get(url).status_code == 200, url


def test_the_purchase_page_masks_the_parent(client_for, escrow_staff, books):
    _inst, _account, purchase = books
    body = (
        client_for(escrow_staff)
        .get(reverse("institutions:escrow_purchase", args=[purchase.pk]))
        .content.decode()
    )
    assert "138****5678" in body and "张*" in body
    assert "13812345678" not in body and "张三" not in body


def test_anonymous_visitors_are_sent_to_the_login(client_for, books):
    _inst, account, purchase = books
    client = client_for(None)
    for url in pages(account, purchase):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize("who", ["parent_a", "principal_a", "teacher_a", "principal_b", "bureau"])
def test_everyone_else_is_refused(client_for, world, books, who):
    # "bureau": staff of the homework line, without the institutions permissions
    _inst, account, purchase = books
    client = client_for(getattr(world, who))
    for url in pages(account, purchase):
        assert client.get(url).status_code == 403, url
    upload = reverse("institutions:escrow_statement_upload", args=[account.pk])
    today = timezone.localdate().isoformat()
    assert client.post(upload, {"file": statement(f"{today},1.00,A,B")}).status_code == 403
    refund = reverse("institutions:escrow_purchase_action", args=[purchase.pk, "refund_full"])
    assert client.post(refund, {"reason": "x"}).status_code == 403
    assert not BankStatementLine.objects.exists()
    assert Purchase.objects.get().status == Purchase.Status.ACTIVE


def test_a_clean_statement_is_imported_and_matched_from_the_page(client_for, escrow_staff, books):
    _inst, account, _purchase = books
    client = client_for(escrow_staff)
    today = timezone.localdate().isoformat()
    url = reverse("institutions:escrow_statement_upload", args=[account.pk])
    response = client.post(url, {"file": statement(f"{today},1000.00,PAY-001,张三",
                                                    f"{today},-20.00,,银行手续费")})  # fmt: skip
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已导入 2 行流水" in page
    assert "银行手续费" in page  # unmatched on the bank side
    assert BankStatementLine.objects.filter(match="matched").count() == 1


def test_a_statement_with_bad_rows_is_refused_whole_with_row_numbers(
    client_for, escrow_staff, books
):
    _inst, account, _purchase = books
    today = timezone.localdate().isoformat()
    url = reverse("institutions:escrow_statement_upload", args=[account.pk])
    response = client_for(escrow_staff).post(
        url, {"file": statement(f"{today},1000.00,PAY-001,张三", f"{today},abc,X,李四")}
    )
    assert response.status_code == 400
    assert "第3行“金额”" in response.content.decode()
    assert not BankStatementImport.objects.exists()


def test_booking_a_line_from_the_page(client_for, escrow_staff, books):
    inst, account, _purchase = books
    rows = [StatementRow(2, timezone.localdate(), D("-20.00"), "", "银行")]
    escrow.statement_import(actor=escrow_staff, account_id=account.pk, filename="a.csv", rows=rows)
    line = BankStatementLine.objects.get()
    url = reverse("institutions:escrow_line_book", args=[line.pk])
    client = client_for(escrow_staff)
    assert client.post(url, {"memo": "手续费"}).status_code == 302
    assert client.post(url, {"memo": "手续费"}).status_code == 302  # replayed
    assert EscrowTransaction.objects.filter(kind="adjustment").count() == 1
    assert escrow.escrow_balances([inst.pk])[inst.pk] == D("980.00")


def test_a_dispute_and_a_replayed_refund_from_the_purchase_page(client_for, escrow_staff, books):
    _inst, _account, purchase = books
    client = client_for(escrow_staff)

    def act(action, **data):
        url = reverse("institutions:escrow_purchase_action", args=[purchase.pk, action])
        return client.post(url, data)

    assert act("dispute_open", reason="家长投诉").status_code == 302
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=2)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=purchase.pk, total=2)
    assert escrow.purchase_sums(purchase).released == 0  # held by the dispute
    act("refund", reason="协商退费", idempotency_key="refund-abc")
    act("refund", reason="协商退费", idempotency_key="refund-abc")  # double click
    sums = escrow.purchase_sums(purchase)
    assert (sums.refunded, sums.released) == (D("800.00"), D("0"))
    assert EscrowTransaction.objects.filter(kind="refund").count() == 1
    act("dispute_close", reason="已退费")
    assert escrow.purchase_sums(purchase).released == D("200.00")
    assert act("no_such_action").status_code == 404


def _index_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("institutions:escrow_index")).status_code == 200
    return len(ctx.captured_queries)


def test_the_account_list_takes_the_same_queries_for_3_or_12_accounts(client_for, escrow_staff, db):
    client = client_for(escrow_staff)

    def add(numbers):  # escrow accounts with a purchase, deposit accounts, alternately
        for i in numbers:
            inst = escrow_institution(name=f"机构{i}", kind="escrow" if i % 2 else "deposit")
            if i % 2:
                buy(escrow_staff, inst, key=f"P{i}")

    add(range(3))
    few = _index_queries(client)
    add(range(3, 12))
    assert _index_queries(client) == few
    assert few <= 10


def test_the_list_shows_red_accounts_first_and_filters_by_level(client_for, escrow_staff, db):
    escrow_institution(name="保证金足额机构", kind="deposit", deposit="60000")
    escrow_institution(name="保证金不足机构", kind="deposit", deposit="10000")
    client = client_for(escrow_staff)
    body = client.get(reverse("institutions:escrow_index")).content.decode()
    assert body.index("保证金不足机构") < body.index("保证金足额机构")
    red = client.get(reverse("institutions:escrow_index") + "?level=red").content.decode()
    assert "保证金不足机构" in red and "保证金足额机构" not in red


def test_the_admin_shows_the_ledger_read_only(client_for, superuser, books):
    import institutions.escrow_admin  # noqa: F401 - registered by institutions/admin.py

    _inst, _account, purchase = books
    tx = EscrowTransaction.objects.get(purchase=purchase)
    client = client_for(superuser)
    for name, args in [
        ("admin:institutions_purchase_changelist", []),
        ("admin:institutions_purchase_change", [purchase.pk]),
        ("admin:institutions_escrowtransaction_changelist", []),
        ("admin:institutions_escrowtransaction_change", [tx.pk]),
        ("admin:institutions_escrowpolicy_changelist", []),
        ("admin:institutions_releaserule_add", []),
        ("admin:institutions_bankstatementimport_changelist", []),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    page = client.get(reverse("admin:institutions_purchase_change", args=[purchase.pk]))
    assert "13812345678" not in page.content.decode()
    delete = reverse("admin:institutions_escrowtransaction_delete", args=[tx.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert EscrowTransaction.objects.filter(pk=tx.pk).exists()
