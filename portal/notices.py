"""The in-site inbox and its daily e-mail digest.

``notify`` leaves a message for users once the change that made it commits, once per (user,
event key) under a UNIQUE constraint, so a retried or repeated change never tells anyone
twice. The daily digest (a Celery task, ``digest_send``) sends each user one e-mail with
what arrived since the last one — not a message per row — and marks those notices as
e-mailed in the same transaction: a failed send rolls back and the task retries; a notice
once marked is never sent again. ``line_staff`` names the bureau staff of a line of work
(their group in portal.setup.STAFF_GROUPS), e.g. to tell them of serious findings.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from portal.locks import locked
from portal.models import Notice


def notify(users, *, key: str, message: str, url: str = ""):
    """Tell ``users`` (User objects or ids) about event ``key`` once the transaction that
    made it commits (nothing is told of a change that rolled back)."""
    notify_many([(users, key, message, url)])


def notify_many(events):
    """``notify`` for many events at once: (users, key, message, url) each, told once the
    transaction commits in one bulk insert (a notice already there for its user and key is
    kept). A check run's finish tells all its new findings so (portal.compliance)."""
    rows = [
        Notice(user_id=user_id, key=key[:120], message=message[:500], url=url)
        for users, key, message, url in events
        for user_id in sorted({getattr(u, "pk", u) for u in users})
    ]
    if rows:
        transaction.on_commit(
            lambda: Notice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        )


def line_staff(line: str) -> list[int]:
    """The ids of the bureau staff of ``line`` (portal.permissions.bureau_of_line, the one
    definition); none for a rule of no known line, nor for the shared core "portal", whose
    permissions every line holds, so that its findings are not told to all the staff."""
    from portal.permissions import LINES, bureau_of_line

    if line == "portal" or line not in LINES:
        return []
    return list(bureau_of_line(line).order_by("pk").values_list("pk", flat=True))


def digest_for(user_id: int) -> int:
    """Send one user's digest; returns the number of notices in it (0: nothing sent)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    if not user.email:
        return 0
    with transaction.atomic():
        # skip_locked: two workers never take the same notices
        pending = list(
            locked(
                Notice.objects.filter(user_id=user_id, emailed_at__isnull=True),
                skip_locked=True,
            ).order_by("created_at", "id")
        )
        if not pending:
            return 0
        lines = [f"- {n.created_at.astimezone(timezone.get_current_timezone()):%m-%d %H:%M} "
                 f"{n.message}" for n in pending]  # fmt: skip
        send_mail(
            subject=f"双减工作平台：{len(pending)} 条新通知",
            message="您好，以下是平台给您的新通知：\n\n"
            + "\n".join(lines)
            + "\n\n登录平台查看详情。",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )  # a failure raises: the transaction rolls back, the notices stay pending
        Notice.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=timezone.now())
    return len(pending)


def digest_users() -> list[int]:
    return list(
        Notice.objects.filter(emailed_at__isnull=True, user__email__gt="")
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
