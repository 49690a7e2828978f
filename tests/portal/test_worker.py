"""The nightly checks through a real Celery worker process on Redis (not eager mode)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal.celery import app as celery_app
from portal.models import CheckRun, Finding
from portal.tasks import nightly_checks
from tests.factories import SchoolFactory
from tests.workers import worker_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    old = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PORTAL_CELERY_QUEUE": queue,
        "PORTAL_CHECK_CHUNK_SIZE": "2",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue, "-c", "2",
         "-l", "info", "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        yield worker
    finally:
        celery_app.conf.task_default_queue = old
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_goes_through_a_real_worker_in_chunks(worker_queue):
    SchoolFactory.create_batch(5)  # no principals: five findings, in three chunks of two
    nightly_checks.apply_async(kwargs={"for_date": "2026-11-24"})
    deadline = time.monotonic() + 90
    run = None
    while time.monotonic() < deadline:
        run = CheckRun.objects.filter(for_date="2026-11-24").first()
        if run and run.status != CheckRun.Status.RUNNING:
            break
        if worker_queue.poll() is not None:
            pytest.fail(f"worker died:\n{worker_queue.stdout.read()}")
        time.sleep(0.25)
    else:
        worker_queue.terminate()
        pytest.fail(f"no finished run within 90 s:\n{worker_queue.communicate()[0][-4000:]}")
    assert run.status == CheckRun.Status.SUCCEEDED, run.error
    assert run.trigger == "nightly"
    assert run.chunks.filter(rule="portal.school.no_principal").count() == 3
    assert not run.chunks.filter(done=False).exists()
    assert Finding.objects.filter(rule="portal.school.no_principal", resolved_at=None).count() == 5
    assert Finding.objects.filter(rule="portal.calendar.next_year_missing").count() == 1
    assert run.duration is not None
