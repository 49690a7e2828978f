"""Celery tasks of the compliance engine.

The nightly task splits the run into chunks (a rule over a range of subjects), hands them to
whatever workers listen, and finishes the run when all are done (a chord): a bigger
district adds workers, not hours.
"""

import datetime as dt

from celery import chord, shared_task
from django.utils import timezone

from portal import compliance


@shared_task(name="portal.checks.chunk", acks_late=True, max_retries=3)
def check_chunk(run_id, rule, lo, hi):
    return compliance.run_chunk(run_id, rule, lo, hi)


@shared_task(name="portal.checks.finish")
def check_finish(_results, run_id):
    run = compliance.run_finish(run_id)
    return {"run": run.pk, "status": run.status, "seen": run.findings_seen}


@shared_task(name="portal.checks.nightly")
def nightly_checks(for_date: str | None = None, trigger: str = "nightly"):
    """Run every registered check for ``for_date`` (ISO; default: today in Asia/Shanghai)."""
    day = dt.date.fromisoformat(for_date) if for_date else timezone.localdate()
    run, specs = compliance.run_start(for_date=day, trigger=trigger)
    chord(check_chunk.s(run.pk, s.rule, s.lo, s.hi) for s in specs)(check_finish.s(run.pk))
    return run.pk


@shared_task(name="portal.notices.digest")
def notices_digest():
    """Daily: one digest task per user with notices not yet e-mailed."""
    from portal.notices import digest_users

    users = digest_users()
    for user_id in users:
        notices_digest_user.delay(user_id)
    return len(users)


@shared_task(
    name="portal.notices.digest_user",
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=5,
    acks_late=True,
)
def notices_digest_user(user_id: int) -> int:
    from portal.notices import digest_for

    return digest_for(user_id)
