"""Row locks that give up: a waiting lock fails the request after LOCK_TIMEOUT (a Celery task
retries) instead of piling every request for the same row behind a stuck transaction.

Every row lock of the portal goes through ``locked()``; a lock wait that times out raises
PostgreSQL's lock_not_available, which ``LockTimeoutMiddleware`` turns into a Chinese
"please try again" page (503), never a 500.
"""

import re

from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.shortcuts import render

LOCK_TIMEOUT = "5s"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout that fired


def lock_timeout(timeout: str | None = None):
    """For the rest of the current transaction (SET LOCAL); LOCK_TIMEOUT by default (read at
    call time, so a test can shorten it)."""
    with connection.cursor() as cursor:
        cursor.execute(lock_timeout_sql(timeout))


def lock_timeout_sql(timeout: str | None = None) -> str:
    """The statement ``lock_timeout`` runs, for a hot path that sends it in the same round
    trip as its locking statement ("SET LOCAL ...; SELECT ... FOR UPDATE": the enrolment
    burst of issue 20). Refused outside a transaction, as ``lock_timeout``."""
    timeout = timeout or LOCK_TIMEOUT
    if not connection.in_atomic_block:
        raise RuntimeError("a row lock must be taken inside transaction.atomic()")
    if not re.fullmatch(r"\d+(ms|s|min)?", timeout):
        raise ValueError(f"lock timeout {timeout!r}: a number with ms, s or min")
    return f"SET LOCAL lock_timeout = '{timeout}'"


def locked(queryset: QuerySet, *, timeout: str | None = None, **options) -> QuerySet:
    """``queryset.select_for_update(**options)`` with the lock timeout set for the current
    transaction: the one way the portal takes a row lock."""
    lock_timeout(timeout)
    return queryset.select_for_update(**options)


def is_lock_timeout(exc: BaseException) -> bool:
    """True for the error of a lock wait that gave up (lock_timeout)."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE


class LockTimeoutMiddleware:
    """A request whose row lock timed out gets a 503 "请稍后重试" page, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if is_lock_timeout(exc):
            response = render(request, "503_busy.html", status=503)
            response["Retry-After"] = "5"
            return response
        return None
