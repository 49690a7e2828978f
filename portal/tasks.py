"""Celery tasks of the compliance engine.

The nightly task splits the run into chunks (a rule over a range of subjects), hands them to
whatever workers listen, and finishes the run when all are done (a chord): a bigger
district adds workers, not hours. One run at a time (portal.compliance.run_start): a tick
while a run holds the claim is logged and dropped; a run whose worker died is marked failed
by the periodic sweep after PORTAL_CHECK_RUN_TIMEOUT.
"""

import datetime as dt
import logging

from celery import chord, shared_task
from django.utils import timezone

from portal import compliance

log = logging.getLogger(__name__)


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
    try:
        run, specs = compliance.run_start(for_date=day, trigger=trigger)
    except compliance.RunInProgress as exc:
        log.warning("check run for %s (%s) refused: %s", day, trigger, exc)
        return None
    dispatch_run(run, specs)
    return run.pk


def dispatch_run(run, specs):
    """Hand a started run's chunks to the workers; the last one done finishes the run."""
    chord(check_chunk.s(run.pk, s.rule, s.lo, s.hi) for s in specs)(check_finish.s(run.pk))


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
