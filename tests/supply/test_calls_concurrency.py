"""An expert changes a score while the bureau admits (two real connections): with the call's
row lock the score waits and is refused once the result is published, so the published
totals are the scores' totals; the control test shows the stale result without it."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from supply import calls
from supply.call_models import CallApplication
from tests.supply import call_helpers
from tests.supply.call_helpers import apply, bureau_officer, close, member, open_call, panel, score

pytestmark = pytest.mark.django_db(transaction=True)

fast_passwords = call_helpers.fast_passwords


def _race(*, lock):
    bureau = bureau_officer(f"race_bureau{int(lock)}")
    call = open_call(bureau, admit_count=1)
    a = apply(call, member())
    close(call)
    experts = panel(bureau, call, 3)
    for e in experts:
        score(e, a, [10, 10, 10, 10, 10])  # 50
    criteria = list(call.criteria.all())
    outcome = {}
    barrier = threading.Barrier(2)

    def admit():
        try:
            barrier.wait()
            calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
        finally:
            connection.close()

    def rescore():
        try:
            barrier.wait()
            time.sleep(0.2)  # admission has read the ranking and holds the call
            calls.score_save(
                actor=experts[0].user, application_id=a.pk,
                values={c.pk: 20 if c.weight >= 20 else c.weight for c in criteria}, lock=lock,
            )  # fmt: skip
            outcome["score"] = "saved"
        except ValidationError as exc:
            outcome["score"] = exc.messages[0]
        finally:
            connection.close()

    original = calls._pause
    calls._pause = lambda point: time.sleep(0.8) if point == "ranked" else None
    try:
        threads = [threading.Thread(target=admit), threading.Thread(target=rescore)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        calls._pause = original
    published = CallApplication.objects.get(pk=a.pk).total
    (now,) = calls.ranking(call)
    return outcome["score"], published, now.total_display


def test_without_the_lock_a_score_lands_after_the_ranking_was_read():
    saved, published, now = _race(lock=False)
    assert saved == "saved"
    assert published != now  # the published result no longer matches the scores


def test_with_the_lock_the_score_waits_and_is_refused_after_publication():
    refused, published, now = _race(lock=True)
    assert refused == "结果已公布，评分不能再修改。"
    assert published == now == 50
