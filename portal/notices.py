"""The in-site inbox: ``notify`` leaves a message for users after the change commits, once
per (user, event key) under a UNIQUE constraint, so a retried or repeated change never
tells anyone twice."""

from django.db import transaction

from portal.models import Notice


def notify(users, *, key: str, message: str, url: str = ""):
    """Tell ``users`` (User objects or ids) about event ``key`` once the transaction that
    made it commits (nothing is told of a change that rolled back)."""
    ids = sorted({getattr(u, "pk", u) for u in users})
    if not ids:
        return

    def send():
        Notice.objects.bulk_create(
            [Notice(user_id=i, key=key[:120], message=message[:500], url=url) for i in ids],
            ignore_conflicts=True,
        )

    transaction.on_commit(send)
