"""A real Celery worker killed with SIGKILL in the middle of a check run (issues 12 and 21).

The worker (tests/portal/checkrun_worker_app.py: the portal's app plus a check that sleeps
when told to) starts the nightly run, writes the real rules' findings, and is killed while
the slow chunk runs: the run is left "running", its last chunk never ends. A new worker is
started with a tiny PORTAL_CHECK_RUN_TIMEOUT: the periodic sweep marks the run failed,
resolving nothing, and the next nightly run goes ahead. No finding is lost, none is
reopened as a new row, and what the next run resolves is only what was really fixed.

Issue 21: only the pool process running the chunk killed (what the OOM killer does): the
chunk is sent again and the run completes (control: with Celery's defaults the message is
acknowledged and lost, the run stays running until the sweep fails it); the whole worker
killed, a worker started after the visibility timeout gets the chunk and the run completes.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout

from portal.celery import app as celery_app
from portal.compliance import run_checks
from portal.models import CheckRun, Finding, SchoolStaff
from portal.tasks import nightly_checks, sweep_check_runs
from tests.factories import SchoolFactory, SchoolStaffFactory
from tests.workers import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
NO_PRINCIPAL = "portal.school.no_principal"
SLOW_RULE = "tests.worker.slow"  # registered by checkrun_worker_app, in the worker only
DAY = dt.date(2026, 11, 24)
NEXT = DAY + dt.timedelta(days=1)
WAIT = 45  # seconds, for each step


class Workers:
    """Start workers on one private queue; each in its own process group, so that SIGKILL
    takes the pool's child (the one running the chunk) with it."""

    def __init__(self, tmp_path):
        self.queue = f"test-checkruns-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.started = []

    def start(self, name, **env):
        log = self.tmp_path / f"{name}.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.portal.checkrun_worker_app",
             "worker", "-Q", self.queue, "-c", "1", "-n", f"{name}-{self.queue}@%h",
             "-l", "info", "--without-mingle", "--without-gossip", "--without-heartbeat"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": worker_database_url(),
                "PORTAL_CELERY_QUEUE": self.queue,
                "DATABASE_CONN_MAX_AGE": "0",
                **env,
            },
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        worker.log = log
        self.started.append(worker)
        return worker

    def fail(self, worker, what):
        pytest.fail(f"{what}; worker log:\n{worker.log.read_text()[-4000:]}")

    def stop_all(self):
        for worker in self.started:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(5)
        self._forget_queue()

    def _forget_queue(self):
        """The killed chunk's message stays unacknowledged in Redis (redelivered only after
        the visibility timeout, to a queue nobody reads any more): drop it and the queue."""
        with celery_app.connection_for_write() as conn:
            channel = conn.default_channel
            client = channel.client
            for tag, raw in client.hgetall(channel.unacked_key).items():
                if json.loads(raw)[-1] == self.queue:  # [message, exchange, routing key]
                    client.hdel(channel.unacked_key, tag)
                    client.zrem(channel.unacked_index_key, tag)
            channel.queue_purge(self.queue)


@pytest.fixture
def workers(tmp_path):
    w = Workers(tmp_path)
    try:
        yield w
    finally:
        w.stop_all()


def _until(condition, worker, workers, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker.poll() is not None:
            workers.fail(worker, f"worker exited ({worker.returncode}) waiting for {what}")
        time.sleep(0.2)
    workers.fail(worker, f"no {what} within {WAIT} s")


def _gone(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _open():
    return dict(
        Finding.objects.filter(resolved_at=None).values_list("pk", "subject_key").order_by("pk")
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_ends_failed_and_the_next_run_keeps_findings_true(
    workers, tmp_path
):
    lonely_a, lonely_b, fixed = SchoolFactory.create_batch(3)
    baseline = run_checks(for_date=DAY)  # in this process: three schools without a principal
    assert baseline.status == CheckRun.Status.SUCCEEDED
    before = _open()
    fixed_finding = Finding.objects.get(rule=NO_PRINCIPAL, school=fixed, resolved_at=None)
    # what the next night should see: one school fixed, one new school without a principal
    SchoolStaffFactory(school=fixed, role=SchoolStaff.Role.PRINCIPAL)
    lonely_c = SchoolFactory()

    # 1. the nightly run on a worker, killed while its last (slow) chunk runs
    marker = tmp_path / "slow-chunk-started"
    first = workers.start("doomed", CHECKRUN_SLOW_MARKER=str(marker))
    nightly_checks.apply_async(kwargs={"for_date": str(NEXT)}, queue=workers.queue)
    _until(marker.exists, first, workers, "slow chunk")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    chunk_pid = int(marker.read_text())
    deadline = time.monotonic() + 10
    while not _gone(chunk_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(chunk_pid), "the pool process running the chunk survived SIGKILL"

    killed = CheckRun.objects.get(for_date=NEXT)
    assert killed.status == CheckRun.Status.RUNNING  # and would stay so for ever
    assert killed.chunks.get(rule=NO_PRINCIPAL).done  # it wrote the real rule's findings
    assert not killed.chunks.get(rule=SLOW_RULE).done
    after_kill = _open()
    new_c = Finding.objects.get(school=lonely_c, resolved_at=None)
    assert new_c.last_run_id == killed.pk
    assert after_kill == {**before, new_c.pk: new_c.subject_key}  # it resolved nothing

    # 2. a new worker; the periodic sweep (timeout 1 s) marks the dead run failed
    second = workers.start("next", PORTAL_CHECK_RUN_TIMEOUT="1")
    time.sleep(max(0.0, 1.5 - (time.time() - killed.started_at.timestamp())))
    swept = sweep_check_runs.apply_async(queue=workers.queue)
    try:
        assert swept.get(timeout=WAIT) == [killed.pk]
    except CeleryTimeout:
        workers.fail(second, "no sweep")
    killed.refresh_from_db()
    assert killed.status == CheckRun.Status.FAILED and killed.findings_resolved == 0
    assert "未消除任何检查发现" in killed.error
    assert _open() == after_kill  # the sweep resolved nothing

    # 3. the next nightly run goes ahead and keeps the findings true
    nightly_checks.apply_async(kwargs={"for_date": str(NEXT)}, queue=workers.queue)
    done = _until(
        lambda: (
            CheckRun.objects.filter(for_date=NEXT, pk__gt=killed.pk)
            .exclude(status=CheckRun.Status.RUNNING)
            .first()
        ),
        second,
        workers,
        "finished second run",
    )
    assert done.status == CheckRun.Status.SUCCEEDED, done.error
    assert (done.findings_new, done.findings_resolved) == (0, 1)  # only the fixed school
    now_open = _open()
    # nothing lost: every finding open before is open still, in the same row, except the
    # fixed school's; nothing duplicated: the new school's finding is one row, opened once
    assert now_open == {k: v for k, v in after_kill.items() if k != fixed_finding.pk}
    assert {f.school for f in Finding.objects.filter(rule=NO_PRINCIPAL, resolved_at=None)} == {
        lonely_a,
        lonely_b,
        lonely_c,
    }
    assert Finding.objects.filter(rule=NO_PRINCIPAL).count() == 4
    assert Finding.objects.count() == len(before) + 1
    killed.refresh_from_db()
    assert killed.status == CheckRun.Status.FAILED  # the next run did not revive it


# --- issue 21: the pool child killed (the OOM killer), and a dead worker's chunk coming back


def _pending(workers) -> int:
    """Messages of the test's queue still in Redis: waiting, or delivered and not
    acknowledged."""
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        client = channel.client
        unacked = sum(
            json.loads(raw)[-1] == workers.queue
            for raw in client.hgetall(channel.unacked_key).values()
        )
        return unacked + client.llen(workers.queue)


def _kill_the_slow_chunks_pool_child(workers, worker, marker):
    """Start the nightly run on ``worker`` and SIGKILL only the pool process running its last
    (slow) chunk; returns the run and the killed process id."""
    nightly_checks.apply_async(kwargs={"for_date": str(NEXT)}, queue=workers.queue)
    _until(marker.exists, worker, workers, "slow chunk")
    child = int(marker.read_text())
    assert child != worker.pid
    os.kill(child, signal.SIGKILL)
    return CheckRun.objects.get(for_date=NEXT), child


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_pool_process_is_killed_is_sent_again_and_the_run_completes(
    workers, tmp_path
):
    lonely = SchoolFactory.create_batch(2)
    marker = tmp_path / "slow-chunk-started"
    worker = workers.start("oom", CHECKRUN_SLOW_MARKER=str(marker))

    run, child = _kill_the_slow_chunks_pool_child(workers, worker, marker)

    # retry_on_worker_lost: the chunk is sent again (10 s later) to a new pool process
    again = Path(f"{marker}.again")
    _until(again.exists, worker, workers, "the chunk sent again")
    assert int(again.read_text()) not in (child, worker.pid)
    done = _until(
        lambda: CheckRun.objects.exclude(status=CheckRun.Status.RUNNING).filter(pk=run.pk).first(),
        worker,
        workers,
        "finished run",
    )
    assert done.status == CheckRun.Status.SUCCEEDED, done.error
    assert not done.chunks.filter(done=False).exists()
    assert not done.chunks.exclude(error="").exists()
    assert {f.school for f in Finding.objects.filter(rule=NO_PRINCIPAL, resolved_at=None)} == set(
        lonely
    )
    assert worker.poll() is None  # the worker itself lived on
    _until(lambda: _pending(workers) == 0, worker, workers, "every message acknowledged")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_control_without_redelivery_the_killed_chunk_is_lost_and_only_the_sweep_ends_the_run(
    workers, tmp_path, settings
):
    SchoolFactory.create_batch(2)
    marker = tmp_path / "slow-chunk-started"
    worker = workers.start("oom-plain", CHECKRUN_SLOW_MARKER=str(marker),
                           CHECKRUN_NO_REDELIVERY="1")  # fmt: skip

    run, _ = _kill_the_slow_chunks_pool_child(workers, worker, marker)

    # Celery's default: the lost task failed and its message acknowledged, nothing to come back
    _until(lambda: "WorkerLostError" in worker.log.read_text(), worker, workers, "the loss")
    _until(lambda: _pending(workers) == 0, worker, workers, "the message acknowledged")
    assert not Path(f"{marker}.again").exists()
    run.refresh_from_db()
    assert run.status == CheckRun.Status.RUNNING  # and would stay so for ever ...
    assert list(run.chunks.filter(done=False).values_list("rule", flat=True)) == [SLOW_RULE]
    # ... but for the sweep
    settings.PORTAL_CHECK_RUN_TIMEOUT = 1
    time.sleep(max(0.0, 1.5 - (time.time() - run.started_at.timestamp())))
    assert sweep_check_runs() == [run.pk]
    run.refresh_from_db()
    assert run.status == CheckRun.Status.FAILED and run.findings_resolved == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_dead_workers_chunk_comes_back_after_the_visibility_timeout_and_the_run_completes(
    workers, tmp_path
):
    """The whole worker killed: nobody is left to reject its chunk's message; Redis gives it
    to the next worker once the visibility timeout has passed (here 2 s; in production half
    of PORTAL_CHECK_RUN_TIMEOUT, while the run still holds its claim). The control is
    the first test of this module: within the timeout, only the sweep ends the run."""
    lonely = SchoolFactory.create_batch(2)
    marker = tmp_path / "slow-chunk-started"
    first = workers.start("doomed", CHECKRUN_SLOW_MARKER=str(marker))
    nightly_checks.apply_async(kwargs={"for_date": str(NEXT)}, queue=workers.queue)
    _until(marker.exists, first, workers, "slow chunk")
    delivered = time.time()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    run = CheckRun.objects.get(for_date=NEXT)
    assert run.status == CheckRun.Status.RUNNING and _pending(workers) == 1

    time.sleep(max(0.0, delivered + 2.5 - time.time()))
    second = workers.start(
        "heir", CHECKRUN_SLOW_MARKER=str(marker), PORTAL_BROKER_VISIBILITY_TIMEOUT="2"
    )
    done = _until(
        lambda: CheckRun.objects.exclude(status=CheckRun.Status.RUNNING).filter(pk=run.pk).first(),
        second,
        workers,
        "finished run",
    )
    assert Path(f"{marker}.again").exists()  # the slow chunk ran again, in the heir
    assert done.status == CheckRun.Status.SUCCEEDED, done.error
    assert {f.school for f in Finding.objects.filter(rule=NO_PRINCIPAL, resolved_at=None)} == set(
        lonely
    )
    assert CheckRun.objects.count() == 1
