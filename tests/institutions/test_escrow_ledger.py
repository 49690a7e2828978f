"""The ledger core (portal/ledger.py) on the escrow's concrete models: balanced postings,
idempotency, reversal, and rows that nothing can update or delete."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from institutions.escrow_models import EscrowEntry, EscrowTransaction
from portal import ledger
from tests.institutions.conftest import escrow_institution

D = Decimal


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def inst(db):
    return escrow_institution()


def post(inst, entries, **kwargs):
    return ledger.post(
        tx_model=EscrowTransaction,
        entry_model=EscrowEntry,
        kind=kwargs.pop("kind", "adjustment"),
        entries=entries,
        fields={"institution_id": inst.pk},
        **kwargs,
    )


def test_a_balanced_posting_is_written_with_its_entries(inst):
    tx = post(inst, [("escrow:inst:1", D("100.00")), ("bank_adjustment:inst:1", D("-100.00"))])
    assert sorted((e.account, e.amount) for e in tx.entries.all()) == [
        ("bank_adjustment:inst:1", D("-100.00")),
        ("escrow:inst:1", D("100.00")),
    ]
    assert ledger.balance(EscrowEntry, "escrow:inst:1") == D("100.00")
    assert ledger.balances(EscrowEntry, ["escrow:inst:1", "escrow:inst:2"]) == {
        "escrow:inst:1": D("100.00"),
        "escrow:inst:2": D("0.00"),
    }


@pytest.mark.parametrize(
    "entries, message",
    [
        ([("a:1", D("100.00")), ("b:1", D("-99.99"))], "sum to zero"),
        ([("a:1", D("100.00"))], "at least two"),
        ([], "at least two"),
        ([("a:1", 100.0), ("b:1", -100.0)], "Decimal"),
        ([("a:1", D("0.005")), ("b:1", D("-0.005"))], "two decimal places"),
        ([("a:1", D("0")), ("b:1", D("0"))], "zero amount"),
        ([("A B", D("1.00")), ("b:1", D("-1.00"))], "account code"),
        ([("a:1", D("NaN")), ("b:1", D("1.00"))], "finite"),
    ],
)
def test_it_refuses_a_posting_that_breaks_the_rules_and_writes_nothing(inst, entries, message):
    with pytest.raises(ledger.LedgerError, match=message):
        post(inst, entries)
    assert not EscrowTransaction.objects.exists()
    assert not EscrowEntry.objects.exists()


def test_the_same_idempotency_key_returns_the_first_posting_and_writes_nothing(inst):
    entries = [("escrow:inst:1", D("50.00")), ("bank_adjustment:inst:1", D("-50.00"))]
    first = post(inst, entries, idempotency_key="K-1")
    again = post(inst, list(reversed(entries)), idempotency_key="K-1")
    assert again.pk == first.pk
    assert again.replayed and not first.replayed
    assert EscrowTransaction.objects.count() == 1
    assert EscrowEntry.objects.count() == 2


def test_the_same_key_with_other_entries_is_a_conflict(inst):
    post(inst, [("a:1", D("50.00")), ("b:1", D("-50.00"))], idempotency_key="K-2")
    with pytest.raises(ledger.IdempotencyConflict):
        post(inst, [("a:1", D("60.00")), ("b:1", D("-60.00"))], idempotency_key="K-2")
    assert EscrowTransaction.objects.count() == 1


def test_a_reversal_posts_the_negated_entries_once(inst):
    tx = post(inst, [("a:1", D("70.00")), ("b:1", D("-70.00"))], kind="release")
    reversal = ledger.reverse(tx, entry_model=EscrowEntry, memo="更正")
    assert reversal.reverses_id == tx.pk
    assert reversal.kind == "release"  # sums by kind stay true after corrections
    assert reversal.institution_id == inst.pk
    assert sorted((e.account, e.amount) for e in reversal.entries.all()) == [
        ("a:1", D("-70.00")),
        ("b:1", D("70.00")),
    ]
    assert ledger.balance(EscrowEntry, "a:1") == 0
    again = ledger.reverse(tx, entry_model=EscrowEntry)
    assert again.pk == reversal.pk and again.replayed
    assert EscrowTransaction.objects.count() == 2


def test_the_orm_can_neither_update_nor_delete_a_ledger_row(inst):
    tx = post(inst, [("a:1", D("10.00")), ("b:1", D("-10.00"))])
    entry = tx.entries.first()
    tx.memo = "改过的摘要"
    with pytest.raises(ledger.AppendOnlyError):
        tx.save()
    entry.amount = D("20.00")
    with pytest.raises(ledger.AppendOnlyError):
        entry.save()
    with pytest.raises(ledger.AppendOnlyError):
        entry.save(update_fields=["amount"])
    with pytest.raises(ledger.AppendOnlyError):
        tx.delete()
    with pytest.raises(ledger.AppendOnlyError):
        entry.delete()
    with pytest.raises(ledger.AppendOnlyError):
        EscrowEntry.objects.filter(pk=entry.pk).update(amount=D("20.00"))
    with pytest.raises(ledger.AppendOnlyError):
        EscrowEntry.objects.all().delete()
    with pytest.raises(ledger.AppendOnlyError):
        EscrowTransaction.objects.filter(pk=tx.pk).update(memo="x")
    with pytest.raises(ledger.AppendOnlyError):
        EscrowEntry.objects.bulk_update([entry], ["amount"])
    # a copy given the pk of an existing row is an update too
    copy = EscrowEntry(pk=entry.pk, transaction=tx, account="a:1", amount=D("99.00"))
    with pytest.raises(ledger.AppendOnlyError):
        copy.save()
    assert EscrowEntry.objects.get(pk=entry.pk).amount == D("10.00")
    assert EscrowTransaction.objects.get(pk=tx.pk).memo == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE institutions_escrowentry SET amount = amount + 1",
        "UPDATE institutions_escrowentry SET account = 'x:1'",
        "DELETE FROM institutions_escrowentry",
        "UPDATE institutions_escrowtransaction SET memo = 'x'",
        "DELETE FROM institutions_escrowtransaction",
    ],
)
def test_the_database_refuses_update_and_delete_in_raw_sql(inst, sql):
    tx = post(inst, [("a:1", D("10.00")), ("b:1", D("-10.00"))], memo="原摘要")
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert sorted(e.amount for e in tx.entries.all()) == [D("-10.00"), D("10.00")]
    assert EscrowTransaction.objects.get(pk=tx.pk).memo == "原摘要"


def test_the_database_refuses_an_unbalanced_transaction_at_commit(inst):
    # Deferred constraint triggers run at commit; SET CONSTRAINTS ALL IMMEDIATE runs them now
    # (inside a savepoint, so the test's own transaction stays usable).
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO institutions_escrowtransaction"
                " (kind, created_at, memo, institution_id)"
                " VALUES ('adjustment', now(), '', %s) RETURNING id",
                [inst.pk],
            )
            tx_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO institutions_escrowentry (transaction_id, account, amount)"
                " VALUES (%s, 'a:1', 10.00), (%s, 'b:1', -9.00)",
                [tx_id, tx_id],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not EscrowTransaction.objects.exists()


def test_the_database_refuses_a_transaction_without_entries(inst):
    with pytest.raises(IntegrityError, match="no entries"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO institutions_escrowtransaction"
                " (kind, created_at, memo, institution_id)"
                " VALUES ('adjustment', now(), '', %s)",
                [inst.pk],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_ledger_total_is_the_sum_of_all_entries(inst):
    post(inst, [("a:1", D("10.00")), ("b:1", D("-10.00"))])
    post(inst, [("a:1", D("-3.50")), ("c:1", D("3.50"))])
    assert ledger.ledger_total(EscrowEntry) == 0
    assert ledger.balances(EscrowEntry, prefix="a:") == {"a:1": D("6.50")}
    assert list(ledger.unbalanced_transactions(EscrowTransaction)) == []
