"""The runtime database role (manage.py db_roles, issue 21): what the portal runs as in a
deployment can read and write its tables but never rewrite the ledgers, TRUNCATE them or
switch their triggers off. On PostgreSQL, connected as that role."""

from decimal import Decimal

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg2 import errors

from institutions.models import EscrowEntry, EscrowTransaction
from portal import ledger
from portal.management.commands.db_roles import audit_table, ledger_tables
from tests.institutions.helpers import make_institution, training_staff

LEDGERS = {
    "institutions_escrowtransaction",
    "institutions_escrowentry",
    "afterschool_feetransaction",
    "afterschool_feeentry",
}


def _role() -> str:
    # roles belong to the whole cluster: one per test database, so parallel runs never meet
    return f"{connection.settings_dict['NAME']}_app"[:63]


class Runtime:
    """A connection as the runtime role, autocommit: each statement on its own."""

    def __init__(self, role: str):
        params = dict(connection.get_connection_params())
        params.pop("password", None)
        params["user"] = role
        self.role = role
        try:
            self.conn = psycopg2.connect(**params)
            self.via = "login"
        except psycopg2.OperationalError:  # no trust/peer login here: the owner SETs ROLE
            params["user"] = connection.settings_dict["USER"]
            params["password"] = connection.settings_dict["PASSWORD"]
            self.conn = psycopg2.connect(**params)
            self.via = "set role"
        self.conn.autocommit = True
        if self.via == "set role":
            self.run(f'SET ROLE "{role}"')

    def run(self, statement, params=None):
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def refused(self, statement) -> bool:
        try:
            self.run(statement)
        except errors.InsufficientPrivilege:
            return True
        return False

    def close(self):
        self.conn.close()


@pytest.fixture
def runtime(transactional_db):
    role = _role()
    call_command("db_roles", "--runtime-role", role)
    call_command("db_roles", "--runtime-role", role)  # idempotent
    runtime = Runtime(role)
    yield runtime
    runtime.close()


def test_the_ledger_tables_are_found_from_the_models():
    assert LEDGERS <= set(ledger_tables())
    assert "portal_auditlog" not in ledger_tables()


def test_the_runtime_role_is_a_plain_login(runtime):
    assert runtime.run("SELECT current_user")[0][0] == runtime.role
    [(superuser, createrole, createdb, bypassrls)] = runtime.run(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    )
    assert not (superuser or createrole or createdb or bypassrls)
    # it owns nothing
    owned = runtime.run(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = current_user"
    )
    assert owned == [(0,)]
    assert runtime.refused("CREATE TABLE dbroles_not_allowed (id int)")


def test_select_insert_update_delete_on_an_ordinary_table(runtime):
    runtime.run(
        "INSERT INTO django_session (session_key, session_data, expire_date) "
        "VALUES ('dbroles-probe', 'x', now() + interval '1 hour')"
    )
    assert runtime.run("SELECT session_data FROM django_session") == [("x",)]
    runtime.run("UPDATE django_session SET session_data = 'y' WHERE session_key = 'dbroles-probe'")
    runtime.run("DELETE FROM django_session WHERE session_key = 'dbroles-probe'")
    assert runtime.run("SELECT count(*) FROM django_session") == [(0,)]


@pytest.mark.parametrize("table", sorted(LEDGERS))
def test_a_ledger_table_is_read_and_append_only_by_privilege(runtime, table):
    # allowed: reading and inserting (the statement is planned and checked, no row moves)
    assert runtime.run(f"SELECT count(*) FROM {table}") == [(0,)]
    runtime.run(f"INSERT INTO {table} SELECT * FROM {table} WHERE false")
    # refused by privilege, before any trigger: even an UPDATE or DELETE of no row
    assert runtime.refused(f"UPDATE {table} SET id = id WHERE false")
    assert runtime.refused(f"DELETE FROM {table} WHERE false")
    # refused because the role is not the owner
    assert runtime.refused(f"TRUNCATE {table}")
    assert runtime.refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert runtime.refused(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    assert runtime.refused(f"DROP TABLE {table}")
    [(update, delete, truncate)] = runtime.run(
        "SELECT has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'), "
        "has_table_privilege(%s, 'TRUNCATE')",
        [table] * 3,
    )
    assert (update, delete, truncate) == (False, False, False)


def test_the_audit_log_only_lets_the_actor_go_and_migrations_are_read_only(runtime):
    audit = audit_table()
    runtime.run(f"INSERT INTO {audit} SELECT * FROM {audit} WHERE false")
    runtime.run(f"UPDATE {audit} SET actor_id = NULL WHERE false")  # a user deleted
    assert runtime.refused(f"UPDATE {audit} SET action = 'x.y' WHERE false")
    assert runtime.refused(f"DELETE FROM {audit} WHERE false")
    assert runtime.refused(f"TRUNCATE {audit}")
    assert runtime.run("SELECT count(*) > 0 FROM django_migrations") == [(True,)]
    assert runtime.refused("DELETE FROM django_migrations WHERE false")


def test_tables_created_later_by_the_owner_are_granted_too(runtime):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE dbroles_later (id int)")
    try:
        runtime.run("INSERT INTO dbroles_later VALUES (1)")
        assert runtime.run("SELECT id FROM dbroles_later") == [(1,)]
        assert runtime.refused("TRUNCATE dbroles_later")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE dbroles_later")


def test_the_portal_posts_and_reverses_in_the_ledger_as_the_runtime_role(runtime, world):
    """The ORM path the services take works under the role: posting and reversing are
    inserts; a raw rewrite is refused by privilege, not just by the trigger."""
    institution = make_institution(training_staff(), world.school_a.district)
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{runtime.role}"')
    try:
        tx = ledger.post(
            tx_model=EscrowTransaction,
            entry_model=EscrowEntry,
            kind="collect",
            entries=[("bank:test", Decimal("10.00")), ("escrow:test", Decimal("-10.00"))],
            fields={"institution": institution},
        )
        ledger.reverse(tx, entry_model=EscrowEntry)
        assert ledger.balance(EscrowEntry, "escrow:test") == Decimal("0.00")
        with pytest.raises(Exception, match="permission denied"):
            with connection.cursor() as cursor:
                cursor.execute("UPDATE institutions_escrowentry SET amount = 0")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_the_password_comes_from_the_named_variable(runtime, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.delenv("DBROLES_TEST_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DBROLES_TEST_PASSWORD"):
        call_command("db_roles", "--runtime-role", runtime.role, "--password-env",
                     "DBROLES_TEST_PASSWORD")  # fmt: skip
    monkeypatch.setenv("DBROLES_TEST_PASSWORD", "aTestPassw0rd")
    call_command("db_roles", "--runtime-role", runtime.role, "--password-env",
                 "DBROLES_TEST_PASSWORD")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [runtime.role])
        assert cursor.fetchone()[0].startswith("SCRAM-SHA-256$")
        # the owner's own name is refused as the runtime role
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="owner"):
        call_command("db_roles", "--runtime-role", owner)
