"""The after-school fee ledger's guards in the database (issue 12, item 9), tested as the
escrow ledger's are (tests/institutions/test_escrow_ledger.py): the triggers its migration
installs (portal.ledger.append_only_sql) refuse UPDATE and DELETE in raw SQL, and at commit
a transaction without entries or whose entries do not sum to zero. Without them only the
ORM's guard would stand, which raw SQL, another program or a bulk tool walks past."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from afterschool.models import FeeEntry, FeeTransaction
from portal import ledger
from tests.factories import SchoolFactory

D = Decimal

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(db):
    return SchoolFactory(name="丙小学")


@pytest.fixture(autouse=True)
def _ledger_sound(db):
    yield
    assert list(ledger.unbalanced_transactions(FeeTransaction)) == []
    assert ledger.ledger_total(FeeEntry) == D("0.00")


def post(school, entries, **kwargs):
    return ledger.post(
        tx_model=FeeTransaction,
        entry_model=FeeEntry,
        kind=kwargs.pop("kind", "payment"),
        entries=entries,
        fields={"school_id": school.pk},
        **kwargs,
    )


def insert_unbalanced(cursor, school, amounts):
    """A fee transaction with ``amounts`` as its entries, written in raw SQL."""
    cursor.execute(
        "INSERT INTO afterschool_feetransaction (kind, created_at, memo, school_id)"
        " VALUES ('payment', now(), '', %s) RETURNING id",
        [school.pk],
    )
    tx_id = cursor.fetchone()[0]
    for i, amount in enumerate(amounts):
        cursor.execute(
            "INSERT INTO afterschool_feeentry (transaction_id, account, amount)"
            " VALUES (%s, %s, %s)",
            [tx_id, f"a:{i}", amount],
        )
    return tx_id


def test_the_orm_can_neither_update_nor_delete_a_fee_ledger_row(school):
    tx = post(school, [("fee_bank:school:1", D("10.00")), ("fee_held:bill:1", D("-10.00"))])
    entry = tx.entries.first()
    tx.memo = "改过的摘要"
    with pytest.raises(ledger.AppendOnlyError):
        tx.save()
    with pytest.raises(ledger.AppendOnlyError):
        entry.delete()
    with pytest.raises(ledger.AppendOnlyError):
        FeeEntry.objects.filter(pk=entry.pk).update(amount=D("20.00"))
    with pytest.raises(ledger.AppendOnlyError):
        FeeTransaction.objects.all().delete()
    assert FeeTransaction.objects.get(pk=tx.pk).memo == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE afterschool_feeentry SET amount = amount + 1",
        "UPDATE afterschool_feeentry SET account = 'x:1'",
        "DELETE FROM afterschool_feeentry",
        "UPDATE afterschool_feetransaction SET memo = 'x'",
        "DELETE FROM afterschool_feetransaction",
    ],
)
def test_the_database_refuses_update_and_delete_in_raw_sql(school, sql):
    tx = post(school, [("a:1", D("10.00")), ("b:1", D("-10.00"))], memo="原摘要")
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert sorted(e.amount for e in tx.entries.all()) == [D("-10.00"), D("10.00")]
    assert FeeTransaction.objects.get(pk=tx.pk).memo == "原摘要"


def test_the_database_refuses_an_unbalanced_transaction_at_commit(school):
    # Deferred constraint triggers run at commit; SET CONSTRAINTS ALL IMMEDIATE runs them now
    # (inside a savepoint, so the test's own transaction stays usable).
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic(), connection.cursor() as cursor:
            insert_unbalanced(cursor, school, ["10.00", "-9.00"])
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not FeeTransaction.objects.exists()


def test_the_database_refuses_a_transaction_without_entries(school):
    with pytest.raises(IntegrityError, match="no entries"):
        with transaction.atomic(), connection.cursor() as cursor:
            insert_unbalanced(cursor, school, [])
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not FeeTransaction.objects.exists()


def test_a_balanced_transaction_in_raw_sql_is_accepted(school):
    # the control: the triggers refuse what breaks the rules, not raw SQL as such
    with transaction.atomic(), connection.cursor() as cursor:
        tx_id = insert_unbalanced(cursor, school, ["10.00", "-10.00"])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert FeeTransaction.objects.get(pk=tx_id).entries.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "amounts, message",
    [(["10.00", "-9.99"], "does not balance"), ([], "no entries")],
)
def test_a_real_commit_of_a_broken_transaction_is_refused_and_leaves_nothing(
    school, amounts, message
):
    # outside the test transaction: the deferred triggers fire at the real COMMIT
    with pytest.raises(IntegrityError, match=message):
        with transaction.atomic(), connection.cursor() as cursor:
            insert_unbalanced(cursor, school, amounts)
    assert not FeeTransaction.objects.exists()
    assert not FeeEntry.objects.exists()
