"""Celery tasks of the compliance engine.

The nightly task splits the run into chunks (a rule over a range of subjects) and hands them
to whatever workers listen: a bigger district adds workers, not hours. Each chunk knows its
run; the last chunk to end finishes the run (portal.compliance.run_chunk), so no chord and no
result backend decide when a run is done, and a chunk delivered twice, late or out of order
changes nothing. One run at a time (portal.compliance.run_start): a tick while a run holds
the claim is logged and dropped; a run whose worker died is marked failed by the periodic
sweep after PORTAL_CHECK_RUN_TIMEOUT. How messages are acknowledged, redelivered and timed
out is set in portal/settings.py ("Delivery") and on the chunk task below.
"""

import datetime as dt
import logging

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from portal import compliance
from portal.dashboard import snapshots_refresh  # noqa: F401  (registered with the worker)

log = logging.getLogger(__name__)


@shared_task(
    name="portal.checks.chunk",
    acks_late=True,
    # The pool process running the chunk was killed (OOM killer, SIGKILL): send the chunk
    # again after 10 s, at most 3 times, then fail it (the message is acknowledged; the run
    # stays running until the sweep fails it). Without a retry count, reject_on_worker_lost
    # alone would requeue a chunk that kills its process every time for ever; it remains
    # the fallback should sending the retry fail.
    retry_on_worker_lost=True,
    reject_on_worker_lost=True,
    max_retries=3,
    default_retry_delay=10,
    # the soft limit raises SoftTimeLimitExceeded in the check: its rule is recorded as failed
    # (resolving nothing) and the run goes on; the hard limit kills a chunk that ignores it
    soft_time_limit=max(settings.PORTAL_CHECK_CHUNK_TIME_LIMIT - 60, 1),
    time_limit=settings.PORTAL_CHECK_CHUNK_TIME_LIMIT,
    ignore_result=True,  # nothing waits for it: the last chunk finishes the run
)
def check_chunk(run_id, rule, lo, hi):
    return compliance.run_chunk(run_id, rule, lo, hi)


@shared_task(name="portal.checks.finish", ignore_result=True)
def check_finish(_results, run_id):
    """Finishes a run without chunks; for any other run it changes nothing (its last chunk
    finished it). Also what a chord's callback queued before this version ends up calling."""
    run = compliance.run_finish(run_id)
    return {"run": run.pk, "status": run.status, "seen": run.findings_seen}


@shared_task(name="portal.checks.nightly")
def nightly_checks(for_date: str | None = None, trigger: str = "nightly"):
    """Run every registered check for ``for_date`` (ISO; default: today in Asia/Shanghai)."""
    day = dt.date.fromisoformat(for_date) if for_date else timezone.localdate()
    try:
        run, specs = compliance.run_start(for_date=day, trigger=trigger)
    except compliance.RunInProgress as exc:
        log.warning("check run for %s (%s) refused: %s", day, trigger, exc)
        return None
    dispatch_run(run, specs)
    return run.pk


def dispatch_run(run, specs):
    """Hand a started run's chunks to the workers; the last one done finishes the run."""
    if not specs:
        check_finish.delay(None, run.pk)
        return
    group(check_chunk.s(run.pk, s.rule, s.lo, s.hi) for s in specs).apply_async()


@shared_task(name="portal.checks.sweep")
def sweep_check_runs():
    """Periodic: runs still running after PORTAL_CHECK_RUN_TIMEOUT are marked failed,
    resolving nothing, so that the next run can go ahead."""
    return compliance.sweep_stale_runs()


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
