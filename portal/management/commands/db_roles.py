"""Create (or bring up to date) the database role the portal runs as in a deployment.

    manage.py db_roles --runtime-role portal_app [--password-env VARIABLE | --password-file PATH]

Run it as the owner of the tables (the role `migrate` runs as), after every `migrate`:
docker-compose.yml's migrate service does. It is idempotent. The runtime role gets

  * CONNECT on the database, USAGE on the schema, USAGE/SELECT on its sequences;
  * SELECT, INSERT, UPDATE, DELETE on the portal's tables, except
      - the ledger tables (every concrete portal.ledger.AppendOnlyModel: the institutions'
        escrow ledger, the after-school fee ledger, any ledger added later): SELECT and
        INSERT only, so a correction can only be a new reversing transaction;
      - the audit log: SELECT, INSERT, and UPDATE of its actor column only (deleting a
        user sets it to NULL), never DELETE;
      - django_migrations: SELECT only;
  * the same on tables created later (ALTER DEFAULT PRIVILEGES; the ledger rules are applied
    again by the next run of this command, which is why it follows every migrate).

It never owns a table, so it cannot TRUNCATE, ALTER or DROP one, nor disable the ledgers'
triggers (portal/ledger.py append_only_sql): all of that needs the owner. `make run` keeps
one owner role for everything (the embedded PostgreSQL); this is for deployments.
"""

import os
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql

from portal.ledger import AppendOnlyModel

PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def ledger_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    )


def audit_table() -> str:
    return apps.get_model("portal", "AuditLog")._meta.db_table


def grant_runtime_role(role: str, password: str | None = None, schema: str = "public") -> dict:
    """Create or update ``role`` as described above, as the current (owner) connection.
    Returns what was done, for the command's output and the tests."""
    r, s = sql.Identifier(role), sql.Identifier(schema)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        if owner == role:
            raise CommandError("the runtime role must not be the owner the command runs as")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        created = cursor.fetchone() is None
        if created:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(r).as_string(cursor.cursor))
        # never more than a login: no superuser, no role or database creation, no bypass of
        # row security, whatever it had before
        cursor.execute(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            )
            .format(r)
            .as_string(cursor.cursor)
        )
        if password is not None:
            cursor.execute(
                sql.SQL("ALTER ROLE {} PASSWORD %s").format(r).as_string(cursor.cursor),
                [password],
            )

        def run(statement: str, *identifiers):
            cursor.execute(sql.SQL(statement).format(*identifiers).as_string(cursor.cursor))

        run("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}", sql.Identifier(database), r)
        run("GRANT USAGE ON SCHEMA {} TO {}", s, r)
        run("REVOKE CREATE ON SCHEMA {} FROM {}", s, r)
        run(f"GRANT {PRIVILEGES} ON ALL TABLES IN SCHEMA {{}} TO {{}}", s, r)
        run("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}", s, r)
        for_owner = "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
        run(for_owner + f"GRANT {PRIVILEGES} ON TABLES TO {{}}", sql.Identifier(owner), s, r)
        run(for_owner + "GRANT USAGE, SELECT ON SEQUENCES TO {}", sql.Identifier(owner), s, r)

        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
        )  # only tables that exist: the command may run before a ledger's migration
        existing = {name for (name,) in cursor.fetchall()}
        ledgers = [table for table in ledger_tables() if table in existing]
        for table in ledgers:
            run("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}", sql.Identifier(table), r)
        audit = audit_table()
        if audit in existing:
            run("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}", sql.Identifier(audit), r)
            run("GRANT UPDATE (actor_id) ON {} TO {}", sql.Identifier(audit), r)
        if "django_migrations" in existing:
            run("REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {}", r)
    return {"role": role, "owner": owner, "created": created, "ledgers": ledgers}


class Command(BaseCommand):
    help = "Create or update the runtime database role (no ledger UPDATE/DELETE, no owner rights)."

    def add_arguments(self, parser):
        parser.add_argument("--runtime-role", required=True, help="e.g. portal_app")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-env",
            help="the environment variable holding the role's password (set on every run); "
            "without a password option the password is left as it is",
        )
        source.add_argument("--password-file", help="a file holding the role's password")

    def handle(self, *args, runtime_role, password_env=None, password_file=None, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env, "").strip()
            if not password:
                raise CommandError(f"{password_env} is not set")
        if password_file:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(f"cannot read {password_file}: {error}") from None
            if not password:
                raise CommandError(f"{password_file} is empty")
        done = grant_runtime_role(runtime_role, password)
        self.stdout.write(
            f"{'created' if done['created'] else 'updated'} role {done['role']} "
            f"(tables owned by {done['owner']}); ledger tables insert-only: "
            f"{', '.join(done['ledgers']) or 'none yet'}"
        )
