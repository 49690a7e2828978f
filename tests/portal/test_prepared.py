"""portal.prepared: a statement prepared once per connection, in the round trip of its first
EXECUTE; prepared again when the session lost it or its plan no longer fits."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import prepared

SQL = "SELECT %s::int + %s::int, 'a%%b', %s::text[]"


def names_on_the_session():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'portal_%%'")
        return {r[0] for r in cursor.fetchall()}


def test_prepared_once_then_executed(db):
    sql = SQL + f" -- {uuid.uuid4().hex}"  # new to this connection whatever ran before
    with CaptureQueriesContext(connection) as ctx:
        assert prepared.fetch(sql, [1, 2, ["x", "y"]]) == [(3, "a%b", ["x", "y"])]
        assert prepared.fetch(sql, [5, 6, []], one=True) == (11, "a%b", [])
    first, second = (q["sql"] for q in ctx.captured_queries)
    assert first.startswith("PREPARE portal_") and "EXECUTE" in first
    assert second.startswith("EXECUTE portal_")
    assert len(names_on_the_session()) >= 1


def test_a_statement_the_session_lost_is_prepared_again(transactional_db):
    prepared.fetch(SQL, [1, 2, []])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # e.g. a pooler's reset: this process still counts it
    assert prepared.fetch(SQL, [1, 1, []], one=True)[0] == 2
    assert names_on_the_session()


def test_a_new_connection_prepares_again(transactional_db):
    prepared.fetch(SQL, [1, 2, []])
    connection.close()
    assert prepared.fetch(SQL, [2, 2, []], one=True)[0] == 4


def test_inside_a_transaction_an_error_stands(transactional_db):
    prepared.fetch(SQL, [1, 2, []])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), transaction.atomic():
        prepared.fetch(SQL, [1, 2, []])


def test_a_real_error_is_raised_after_the_one_retry(transactional_db):
    with pytest.raises(DatabaseError):
        prepared.fetch("SELECT 1 / %s::int", [0])
    assert prepared.fetch("SELECT 1 / %s::int", [1], one=True) == (1,)


def test_a_first_round_trip_that_failed_in_a_transaction_is_not_prepared_twice(
    transactional_db,
):
    """The PREPARE held (it outlives the rollback), its EXECUTE failed: the next use, inside
    a transaction where no retry is possible, asks the session and only EXECUTEs."""
    sql = f"SELECT 10 / %s::int -- {uuid.uuid4().hex}"
    with pytest.raises(DatabaseError), transaction.atomic():
        prepared.fetch(sql, [0])
    name = next(n for n in names_on_the_session() if prepared._SOURCES.get(n) == sql)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert prepared.fetch(sql, [5], one=True) == (2,)
    sent = [q["sql"] for q in ctx.captured_queries]
    assert sent[-1].startswith(f"EXECUTE {name}") and not any("PREPARE" in s for s in sent)


def test_a_first_round_trip_whose_prepare_failed_prepares_next_time(transactional_db):
    """The control: the PREPARE itself failed (a table not there yet), so nothing is on the
    session; the next use prepares it, inside a transaction too."""
    table = f"t_{uuid.uuid4().hex[:12]}"
    sql = f"SELECT count(*) FROM {table} WHERE 1 = %s::int"
    with pytest.raises(DatabaseError), transaction.atomic():
        prepared.fetch(sql, [1])
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id int)")
    try:
        with transaction.atomic():
            assert prepared.fetch(sql, [1], one=True) == (0,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table}")


def test_source_reads_a_logged_statement_back(db):
    sql = f"SELECT %s::int -- {uuid.uuid4().hex}"
    with CaptureQueriesContext(connection) as ctx:
        prepared.fetch(sql, [1])
        prepared.fetch(sql, [2])
    assert [prepared.source(q["sql"]) for q in ctx.captured_queries] == [sql, sql]
    assert prepared.source("SELECT 1") == "SELECT 1"
