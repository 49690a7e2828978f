"""Bank statement reconciliation: CSV parsing (all rows or none), matching to the ledger,
what is left unmatched on either side, booking a bank line."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from institutions import escrow
from institutions.escrow_models import (
    BankStatementImport,
    BankStatementLine,
    EscrowTransaction,
)
from institutions.escrow_views import reconciliation, statement_parse
from tests.institutions.conftest import buy, escrow_institution

D = Decimal
Match = BankStatementLine.Match


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def books(escrow_staff):
    """An escrow account with a payment (PAY-001, 1000), a release of 3 lessons (300) and a
    second payment (PAY-002, 500)."""
    inst = escrow_institution()
    first = buy(escrow_staff, inst, key="PAY-001", amount="1000.00", lessons=10)
    escrow.lessons_consume(actor=escrow_staff, purchase_id=first.pk, total=3)
    escrow.lessons_confirm(actor=escrow_staff, purchase_id=first.pk, total=3)
    buy(escrow_staff, inst, key="PAY-002", amount="500.00", lessons=5)
    release = EscrowTransaction.objects.get(purchase=first, kind="release")
    return inst, inst.supervised_account, release


def csv_bytes(*rows, header="日期,金额,参考号,对方户名", encoding="utf-8"):
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def today():
    return timezone.localdate().isoformat()


def import_rows(staff, account, data):
    rows, encoding = statement_parse(data)
    return escrow.statement_import(
        actor=staff, account_id=account.pk, filename="流水.csv", rows=rows, encoding=encoding
    )


def test_a_clean_statement_is_parsed_row_by_row():
    rows, encoding = statement_parse(
        csv_bytes(f'{today()},"1,000.00",PAY-001,张三', f"{today()},-300,LEDGER-1,某机构")
    )
    assert encoding == "utf-8-sig"
    assert [(r.row_number, r.amount, r.reference) for r in rows] == [
        (2, D("1000.00"), "PAY-001"),
        (3, D("-300.00"), "LEDGER-1"),
    ]


def test_a_gb18030_statement_with_english_headers_in_another_order_is_read():
    data = csv_bytes(
        "张三,PAY-001,1000.00,2026/03/02",
        header="counterparty,reference,amount,date",
        encoding="gb18030",
    )
    rows, encoding = statement_parse(data)
    assert encoding == "gb18030"
    assert (rows[0].counterparty, rows[0].date.isoformat()) == ("张三", "2026-03-02")


def test_bad_rows_are_named_with_their_row_and_column_and_nothing_is_imported(escrow_staff, books):
    _inst, account, _release = books
    data = csv_bytes(
        f"{today()},1000.00,PAY-001,张三",
        "2026-13-01,100.00,X,李四",
        f"{today()},12.345,Y,王五",
        f"{today()},0,Z,赵六",
        "2099-01-01,5.00,W,钱七",
    )
    with pytest.raises(ValidationError) as exc:
        import_rows(escrow_staff, account, data)
    messages = exc.value.messages
    assert messages[0].startswith("第3行“日期”")
    assert messages[1].startswith("第4行“金额”")
    assert messages[2].startswith("第5行“金额”")
    assert messages[3].startswith("第6行“日期”") and "晚于今天" in messages[3]
    assert len(messages) == 4
    assert not BankStatementImport.objects.exists()
    assert not BankStatementLine.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "空"),
        ("参考号,对方户名\nA,B\n".encode(), "缺少“日期”“金额”列"),
        ("日期,金额\n".encode(), "没有流水行"),
        (b"\xff\xfe\x00\x00\xff", "编码"),
    ],
)
def test_an_unreadable_file_is_refused_with_the_reason(data, message):
    with pytest.raises(ValidationError, match=message):
        statement_parse(data)


def test_lines_match_by_reference_and_amount_and_the_rest_shows_on_both_sides(escrow_staff, books):
    inst, account, release = books
    statement = import_rows(
        escrow_staff,
        account,
        csv_bytes(
            f"{today()},1000.00,pay-001,张三",  # the payment (case ignored)
            f"{today()},-300.00,{release.reference},{inst.name}",  # the release
            f"{today()},-20.00,,银行手续费",  # only in the bank
            f"{today()},450.00,PAY-002,李四",  # the payment was 500
        ),
    )
    assert (statement.lines_imported, statement.lines_skipped) == (4, 0)
    lines = {line.row_number: line for line in BankStatementLine.objects.all()}
    assert lines[2].match == Match.MATCHED
    assert lines[2].transaction.idempotency_key == "PAY-001"
    assert lines[3].match == Match.MATCHED and lines[3].transaction_id == release.pk
    assert lines[4].match == Match.UNMATCHED
    assert lines[5].match == Match.AMOUNT_MISMATCH and lines[5].transaction_id is None
    recon = reconciliation(account)
    assert [line.row_number for line in recon["open_lines"]] == [4, 5]
    assert [tx.idempotency_key for tx in recon["unmatched_transactions"]] == ["PAY-002"]
    assert recon["unmatched_transactions"][0].net == D("500.00")
    assert recon["matched_count"] == 2
    assert recon["ledger_balance"] == D("1200.00")


def test_importing_an_overlapping_statement_skips_the_lines_already_in(escrow_staff, books):
    _inst, account, _release = books
    data = csv_bytes(f"{today()},1000.00,PAY-001,张三", f"{today()},-20.00,,银行手续费")
    import_rows(escrow_staff, account, data)
    again = import_rows(escrow_staff, account, data + f"{today()},500.00,PAY-002,李四\n".encode())
    assert (again.lines_imported, again.lines_skipped) == (1, 2)
    assert BankStatementLine.objects.count() == 3
    assert BankStatementLine.objects.filter(match=Match.MATCHED).count() == 2


def test_a_line_matches_once_the_ledger_has_its_transaction(escrow_staff, books):
    inst, account, _release = books
    import_rows(escrow_staff, account, csv_bytes(f"{today()},800.00,PAY-003,王五"))
    assert BankStatementLine.objects.get().match == Match.UNMATCHED
    buy(escrow_staff, inst, key="PAY-003", amount="800.00", lessons=8)
    assert escrow.statement_match(account=account) == 1
    assert BankStatementLine.objects.get().match == Match.MATCHED


def test_booking_an_unmatched_bank_line_puts_it_in_the_ledger_once(escrow_staff, books):
    inst, account, _release = books
    import_rows(escrow_staff, account, csv_bytes(f"{today()},-20.00,,银行手续费"))
    line = BankStatementLine.objects.get()
    tx = escrow.bank_line_book(actor=escrow_staff, line_id=line.pk, memo="银行手续费")
    line.refresh_from_db()
    assert (line.match, line.transaction_id) == (Match.MATCHED, tx.pk)
    assert escrow.escrow_balances([inst.pk])[inst.pk] == D("1180.00")
    again = escrow.bank_line_book(actor=escrow_staff, line_id=line.pk, memo="银行手续费")
    assert again.pk == tx.pk
    assert EscrowTransaction.objects.filter(kind="adjustment").count() == 1


def test_a_line_whose_amount_differs_is_not_booked_blindly(escrow_staff, books):
    _inst, account, _release = books
    import_rows(escrow_staff, account, csv_bytes(f"{today()},450.00,PAY-002,李四"))
    line = BankStatementLine.objects.get()
    with pytest.raises(ValidationError, match="金额不符"):
        escrow.bank_line_book(actor=escrow_staff, line_id=line.pk, memo="补记")
    assert not EscrowTransaction.objects.filter(kind="adjustment").exists()


def test_only_escrow_accounts_take_statements(escrow_staff):
    inst = escrow_institution(kind="deposit", deposit="50000")
    with pytest.raises(ValidationError, match="银行托管账户"):
        import_rows(escrow_staff, inst.supervised_account, csv_bytes(f"{today()},1.00,A,B"))
