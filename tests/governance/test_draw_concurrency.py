"""Two runs of one published draw at the same moment (a double click, two managers), on two
real database connections. A pause in the service (draw._pause) holds each run after it has
read the draw and found it runnable, before it writes. The control switches the row lock off
and shows the race is real: both runs pass the check and both write and audit a draw. With
the lock the second waits for the row, then finds the draw run and is refused."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from governance import draw as draws
from portal.models import AuditLog
from tests.governance.draw_helpers import due, published

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def pause(point):
        time.sleep(0.4)  # both have read before either writes (without the lock)

    def run(i, call):
        try:
            barrier.wait()
            call()
            results[i] = "drawn"
        except ValidationError:
            results[i] = "refused"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()

    original = draws._pause
    draws._pause = pause
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        draws._pause = original
    return sorted(results)


def _run(world, draw, lock):
    return lambda: draws.draw_run(actor=world.principal_a, draw_id=draw.pk, lock=lock)


def test_without_the_lock_two_runs_both_draw(world):
    draw = due(published(world.principal_a, world.bureau, n=12, classes=3, teachers=()))
    results = _race(_run(world, draw, False), _run(world, draw, False))
    assert results == ["drawn", "drawn"]  # the race is real
    assert AuditLog.objects.filter(action="governance.draw.drawn").count() == 2


def test_with_the_lock_the_second_run_is_refused(world):
    draw = due(published(world.principal_a, world.bureau, n=12, classes=3, teachers=()))
    results = _race(_run(world, draw, True), _run(world, draw, True))
    assert results == ["drawn", "refused"]
    assert AuditLog.objects.filter(action="governance.draw.drawn").count() == 1
