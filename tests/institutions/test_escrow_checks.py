"""The nightly checks of the fee escrow, run through the compliance engine."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

import institutions.escrow_checks  # noqa: F401 - registers the checks
from institutions import escrow
from institutions.escrow_models import (
    EscrowEntry,
    EscrowPolicy,
    EscrowTransaction,
    Purchase,
)
from institutions.escrow_views import statement_parse
from institutions.models import SupervisedAccount
from portal.compliance import run_checks
from portal.models import Finding
from tests.institutions.conftest import END, START, buy, escrow_institution

DAY = dt.date(2026, 11, 24)
D = Decimal


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


def findings(rule):
    return {
        f.object_id: f
        for f in Finding.objects.filter(rule=f"institutions.escrow.{rule}", resolved_at=None)
    }


def run(rule):
    result = run_checks(for_date=DAY, rules=[f"institutions.escrow.{rule}"])
    assert not result.error
    return findings(rule)


def bank_line(staff, inst, amount):
    """A bank line the ledger does not know, booked by staff (e.g. money taken out)."""
    today = timezone.localdate().isoformat()
    rows, encoding = statement_parse(f"日期,金额,参考号\n{today},{amount},\n".encode())
    escrow.statement_import(
        actor=staff, account_id=inst.supervised_account.pk, filename="x.csv", rows=rows
    )
    line = inst.supervised_account.statement_lines.latest("id")
    escrow.bank_line_book(actor=staff, line_id=line.pk, memo="未经释放的划转")


def test_an_institution_selling_without_a_supervised_account_is_found(db):
    unsupervised = escrow_institution(name="无监管机构", kind=None)
    supervised = escrow_institution(name="有监管机构")
    lapsed = escrow_institution(name="账户停用机构")
    SupervisedAccount.objects.filter(institution=lapsed).update(active=False)
    idle = escrow_institution(name="无课程机构", kind=None, course=False)
    found = run("not_supervised")
    assert set(found) == {str(unsupervised.pk), str(lapsed.pk)}
    assert found[str(unsupervised.pk)].institution_id == unsupervised.pk
    assert "没有有效的资金监管账户" in found[str(unsupervised.pk)].message
    assert str(supervised.pk) not in found and str(idle.pk) not in found


def test_an_escrow_below_its_unconsumed_lessons_is_yellow_then_red(escrow_staff):
    inst = escrow_institution()
    buy(escrow_staff, inst, key="A", amount="1000.00", lessons=10)
    assert run("balance_short") == {}
    bank_line(escrow_staff, inst, "-50.00")  # 950 of 1000: yellow
    finding = run("balance_short")[str(inst.supervised_account.pk)]
    assert finding.severity == Finding.Severity.WARNING
    assert "黄色预警" in finding.message and "950.00" in finding.message
    bank_line(escrow_staff, inst, "-300.00")  # 650 of 1000: under 80 %, red
    finding = run("balance_short")[str(inst.supervised_account.pk)]
    assert finding.severity == Finding.Severity.SERIOUS and "红色预警" in finding.message
    assert Finding.objects.filter(rule="institutions.escrow.balance_short").count() == 1


def test_consumed_lessons_lower_what_the_escrow_must_cover(escrow_staff):
    inst = escrow_institution()
    purchase = buy(escrow_staff, inst, key="A", amount="1000.00", lessons=10)
    bank_line(escrow_staff, inst, "-100.00")  # 900 held
    assert str(inst.supervised_account.pk) in run("balance_short")
    escrow.lessons_consume(actor=escrow_staff, purchase_id=purchase.pk, total=1)  # 900 owed
    assert run("balance_short") == {}


@pytest.mark.parametrize(
    "scale, deposit, severity",
    [
        (100, "50000.00", None),  # required: 100 × 500 = 50000 (also the floor)
        (100, "45000.00", Finding.Severity.WARNING),  # 90 %: yellow
        (100, "39999.99", Finding.Severity.SERIOUS),  # under 80 %: red
        (50, "50000.00", None),  # the floor, 50000, applies
        (200, "90000.00", Finding.Severity.WARNING),  # grown: 100000 required
    ],
)
def test_a_deposit_follows_the_scale_and_warns_yellow_then_red(db, scale, deposit, severity):
    inst = escrow_institution(kind="deposit", scale=scale, deposit=deposit)
    found = run("deposit_short")
    if severity is None:
        assert found == {}
    else:
        assert found[str(inst.supervised_account.pk)].severity == severity


def test_the_bureau_sets_the_deposit_and_the_warning_lines(db):
    inst = escrow_institution(kind="deposit", scale=100, deposit="45000.00")
    EscrowPolicy.objects.update_or_create(
        pk=1, defaults={"deposit_per_student": D("400.00"), "deposit_minimum": D("0")}
    )
    assert run("deposit_short") == {}  # 40000 required now
    EscrowPolicy.objects.filter(pk=1).update(deposit_per_student=D("500.00"), red_below_percent=95)
    finding = run("deposit_short")[str(inst.supervised_account.pk)]
    assert finding.severity == Finding.Severity.SERIOUS


def test_a_collection_over_the_caps_that_got_in_is_found(escrow_staff):
    inst = escrow_institution()
    course = inst.courses.get()
    ok = buy(
        escrow_staff, inst, key="OK", amount="5000.00", lessons=60, ends_on=dt.date(2026, 6, 2)
    )

    def raw(**kwargs):  # as an import or an old system would have written it
        data = {"institution": inst, "course": course, "parent_name": "李四",
                "parent_phone": "13900001111", "lessons": 10, "amount": D("1000.00"),
                "starts_on": START, "ends_on": END, "supervision": "escrow",
                "release_kind": "per_lesson", "idempotency_key": f"RAW-{kwargs}"}  # fmt: skip
        data.update(kwargs)
        return Purchase.objects.create(**data)

    over_amount = raw(amount=D("5000.01"))
    over_lessons = raw(lessons=61)
    over_months = raw(ends_on=dt.date(2026, 6, 3))
    found = run("over_cap")
    assert set(found) == {str(over_amount.pk), str(over_lessons.pk), str(over_months.pk)}
    assert str(ok.pk) not in found
    assert "5000元" in found[str(over_amount.pk)].message
    assert "60课时" in found[str(over_lessons.pk)].message
    assert "3个月" in found[str(over_months.pk)].message


def test_a_transaction_that_does_not_balance_is_found(escrow_staff):
    inst = escrow_institution()
    buy(escrow_staff, inst)
    assert run("ledger_unbalanced") == {}
    # Only a session that switches the triggers off can write this (replica mode, a
    # superuser's power): the nightly check is there for such a bypass.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "INSERT INTO institutions_escrowtransaction"
                " (kind, created_at, memo, institution_id)"
                " VALUES ('adjustment', now(), 'bypass', %s) RETURNING id",
                [inst.pk],
            )
            tx_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO institutions_escrowentry (transaction_id, account, amount)"
                " VALUES (%s, 'escrow:inst:0', 10.00)",
                [tx_id],
            )
            found = run("ledger_unbalanced")
            assert set(found) == {str(tx_id)}
            assert found[str(tx_id)].severity == Finding.Severity.SERIOUS
            # put the ledger back for the after-test check (still in replica mode)
            cursor.execute(
                "DELETE FROM institutions_escrowentry WHERE transaction_id = %s", [tx_id]
            )
            cursor.execute("DELETE FROM institutions_escrowtransaction WHERE id = %s", [tx_id])
        finally:
            cursor.execute("SET session_replication_role = origin")
    assert not EscrowTransaction.objects.filter(memo="bypass").exists()
    assert EscrowEntry.objects.count() == 2
