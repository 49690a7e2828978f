"""The portal's Celery app plus one test-only check, for the worker that
tests/portal/test_check_runs_worker.py starts and kills (``celery -A`` this module).

The check ``tests.worker.slow`` runs after every real rule (rules run in code order). With
CHECKRUN_SLOW_MARKER set it writes that file and sleeps, so the test knows a chunk is in
progress when it sends SIGKILL; without it (the worker started afterwards) it finds nothing.
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
    if marker:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)  # far longer than the test waits: only SIGKILL ends it
    return []
