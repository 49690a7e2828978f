"""Two members of the review group decide on one design at the same moment, on two real
database connections: one approves, the other returns it.

A pause in the service (designs._pause) holds each review after it has read the design's
state. The control test switches the row lock off and shows the race really happens: both
read "待审核", both write, the design ends in whichever came last while the log says it was
both approved and returned. The real test shows the lock closes it: the second waits for
the row, re-reads "已通过" (or "已退回") and is refused by the transition table."""

import threading
import time

import pytest
from django.db import connection

from homework import designs
from homework.design_models import HomeworkDesign
from portal.models import AuditLog
from tests.homework.design_helpers import reviewer, submit

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock: bool):
    first, second = reviewer(world, "r1", "组员一"), reviewer(world, "r2", "组员二")
    design = submit(world)
    calls = [
        lambda: designs.design_review(actor=first, design_id=design.pk, decision="approve"),
        lambda: designs.design_review(
            actor=second, design_id=design.pk, decision="return", comment="请补充参考答案"
        ),
    ]
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i, call):
        try:
            barrier.wait()
            call()
            results[i] = "ok"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()  # each thread had its own connection

    original_pause, original_lock = designs._pause, designs._lock
    designs._pause = lambda: time.sleep(0.4)
    if not lock:
        designs._lock = lambda queryset, **options: queryset
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        designs._pause, designs._lock = original_pause, original_lock
    decisions = AuditLog.objects.filter(
        action__in=["homework.design.approved", "homework.design.returned"],
        object_id=str(design.pk),
    ).count()
    return sorted(results), decisions, HomeworkDesign.objects.get(pk=design.pk).status


def test_control_without_the_lock_both_reviews_go_through(world):
    results, decisions, _status = _race(world, lock=False)
    assert results == ["ok", "ok"]
    assert decisions == 2  # approved and returned, both "from 待审核"


def test_with_the_lock_the_second_review_is_refused(world):
    results, decisions, status = _race(world, lock=True)
    assert results == ["ValidationError", "ok"]
    assert decisions == 1 and status in (HomeworkDesign.Status.APPROVED,
                                         HomeworkDesign.Status.RETURNED)  # fmt: skip
