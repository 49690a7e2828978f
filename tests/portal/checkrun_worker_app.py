"""The portal's Celery app plus one test-only check, for the worker that
tests/portal/test_check_runs_worker.py starts and kills (``celery -A`` this module).

The check ``tests.worker.slow`` runs after every real rule (rules run in code order). With
CHECKRUN_SLOW_MARKER set it writes its process id to that file and sleeps, so the test knows
a chunk is in progress (and in which pool process) when it sends SIGKILL; run again once
the file exists (the chunk delivered again) it writes its process id to ``<file>.again`` and
finds nothing, as it does without CHECKRUN_SLOW_MARKER (a worker started afterwards).

With CHECKRUN_NO_REDELIVERY=1 the worker neither retries nor requeues a chunk whose pool
process was lost (the control: Celery's defaults, the message acknowledged and gone).
"""

import os
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from portal.celery import app  # noqa: E402
from portal.compliance import register  # noqa: E402

SLOW_RULE = "tests.worker.slow"

__all__ = ["app"]


@register(SLOW_RULE, title="测试：慢检查", severity="info")
def slow(for_date):
    marker = os.environ.get("CHECKRUN_SLOW_MARKER")
    if marker and Path(marker).exists():
        Path(f"{marker}.again").write_text(str(os.getpid()))
    elif marker:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)  # far longer than the test waits: only SIGKILL ends it
    return []


if os.environ.get("CHECKRUN_NO_REDELIVERY") == "1":
    from portal.tasks import check_chunk

    app.conf.task_reject_on_worker_lost = False
    check_chunk.retry_on_worker_lost = False
    check_chunk.reject_on_worker_lost = False
