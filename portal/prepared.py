"""Server-side prepared statements for the public pages' hot queries.

A public page's one query can cost PostgreSQL more to plan than to run (an institution's
page: 2.0 ms of planning for 0.8 ms of execution, bench/whitelist_load.py). ``fetch`` PREPAREs
a statement once per database connection (connections live CONN_MAX_AGE seconds) and then
EXECUTEs it: PostgreSQL plans it at most a few times per connection (its plan cache picks a
generic plan after five custom ones when that costs no more).

The SQL is written with ``%s`` placeholders as for a cursor; they become ``$1``, ``$2``...
in the PREPARE and the values are sent with EXECUTE (psycopg2 quotes them; PostgreSQL casts
them to the types it inferred, so write a cast where the type is ambiguous, e.g.
``%s::text[]``); a statement new to the connection is prepared in the same round trip as
its first EXECUTE. A statement that no longer fits its plan (the schema changed under a
live connection: "cached plan must not change result type") is prepared again once (all
of the session's are dropped), outside a transaction; inside one the error stands (the
transaction is aborted anyway).

A PREPARE outlives the transaction it was sent in, even one rolled back: when the round
trip of a new statement fails (its EXECUTE may have failed after the PREPARE held: a lock
that timed out, a constraint), whether it is prepared is asked of the session
(pg_prepared_statements) the next time it is used, inside a transaction too.
"""

import hashlib
import re

from django.db import DatabaseError, connection


def _numbered(sql: str) -> str:
    """``%s`` placeholders as ``$1``, ``$2``... (a ``%%`` stays: the PREPARE is sent in one
    string with the EXECUTE and its values, which psycopg2 interpolates)."""
    parts = re.split(r"(%%|%s)", sql)
    n = 0
    for i, part in enumerate(parts):
        if part == "%s":
            n += 1
            parts[i] = f"${n}"
    return "".join(parts)


def _prepared_names() -> tuple[set, set]:
    """The statements prepared on the current database session, and those that may be
    (their first round trip failed), both forgotten when Django opens a new connection."""
    raw = connection.connection
    if getattr(connection, "_portal_prepared_on", None) is not raw:
        connection._portal_prepared_on = raw
        connection._portal_prepared, connection._portal_uncertain = set(), set()
    return connection._portal_prepared, connection._portal_uncertain


# every statement's SQL by its name, for reading a log of them (``source``)
_SOURCES: dict[str, str] = {}
_LOGGED = re.compile(
    r"^(?:PREPARE (portal_[0-9a-f]{16}) AS .*?\n; )?EXECUTE (portal_[0-9a-f]{16})\b", re.S
)


def source(logged: str) -> str:
    """The SQL a logged statement ran: for ``fetch``'s "[PREPARE ...;] EXECUTE portal_..."
    the statement it was given (with its ``%s``), any other SQL as it is. For tests and
    benchmarks that read what a request sent (django.test.utils.CaptureQueriesContext)."""
    match = _LOGGED.match(logged)
    return _SOURCES.get(match.group(2), logged) if match else logged


def fetch(sql: str, params, *, one: bool = False):
    """The rows of ``sql`` with ``params`` (``one``: the first row or None), through a
    statement prepared on this connection."""
    connection.ensure_connection()
    name = "portal_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
    _SOURCES.setdefault(name, sql)
    prepared, uncertain = _prepared_names()
    placeholders = ", ".join(["%s"] * len(params))
    execute = f"EXECUTE {name}({placeholders})" if params else f"EXECUTE {name}"
    with connection.cursor() as cursor:
        if name in uncertain:  # its first round trip failed: did the PREPARE hold?
            cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
            if cursor.fetchone():
                prepared.add(name)
            uncertain.discard(name)
        for retry in (True, False):
            # a statement new to this connection is prepared in the same round trip
            first = "" if name in prepared else f"PREPARE {name} AS {_numbered(sql)}\n; "
            try:
                cursor.execute(first + execute, list(params))
            except DatabaseError:
                if first:
                    uncertain.add(name)
                if not retry or connection.in_atomic_block:
                    raise
                # whatever the session holds (a stale plan, a name it has that this process
                # did not know of) is dropped, and prepared again as used
                cursor.execute("DEALLOCATE ALL")
                prepared.clear()
                uncertain.clear()
                continue
            prepared.add(name)
            return cursor.fetchone() if one else cursor.fetchall()
