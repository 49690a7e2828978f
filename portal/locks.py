"""Row locks that give up: a waiting lock fails the request after LOCK_TIMEOUT (a Celery task
retries) instead of piling every request for the same row behind a stuck transaction."""

from django.db import connection

LOCK_TIMEOUT = "5s"


def lock_timeout(timeout: str = LOCK_TIMEOUT):
    """For the rest of the current transaction (SET LOCAL)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{timeout}'")
