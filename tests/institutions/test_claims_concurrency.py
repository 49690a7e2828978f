"""Two claims of the same lesson for one purchase at the same moment, on two real database
connections (the house's concurrency pair, tests/institutions/test_escrow_concurrency.py).

A pause in claims.claim_record (claims._pause at "read") holds each claim after it has read
the purchase's existing claims and consumed lessons, before it writes. The control test
switches off both the row lock and the UNIQUE constraint on (purchase, date, start): both
claims read "not claimed yet", both write, the lesson is claimed twice. The next one shows
the constraint alone already refuses the second (the database's last word); the real one
shows the lock makes the second wait and refuse cleanly, with the reason, writing nothing."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from institutions import claims
from institutions.claim_models import LessonClaim
from tests.institutions.claim_helpers import DAY, institution_with_staff, paid_purchase

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.date(2026, 4, 10)
CONSTRAINT = "lessonclaim_once_per_lesson"


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def setup(db):
    inst, staff = institution_with_staff()
    return staff, paid_purchase(inst, lessons=10)


def _claim(staff, purchase, lock):
    return lambda: claims.claim_record(
        actor=staff, course_id=purchase.course_id, purchase_ids=[purchase.pk], date=DAY,
        start=dt.time(18, 0), end=dt.time(18, 45), today=TODAY, lock=lock,
    )  # fmt: skip


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def pause(point):
        time.sleep(0.4)  # both have read before either writes (without the lock)

    def run(i, call):
        try:
            barrier.wait()
            call()
            results[i] = "claimed"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()

    original = claims._pause
    claims._pause = pause
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        claims._pause = original
    return sorted(results)


@pytest.fixture
def no_constraint():
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE institutions_lessonclaim DROP CONSTRAINT {CONSTRAINT}")
    try:
        yield
    finally:
        LessonClaim.objects.all().delete()  # the duplicates would stop the constraint's return
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE institutions_lessonclaim ADD CONSTRAINT {CONSTRAINT} "
                "UNIQUE (purchase_id, date, start)"
            )


def test_without_lock_and_constraint_the_same_lesson_is_claimed_twice(setup, no_constraint):
    staff, purchase = setup
    assert _race(_claim(staff, purchase, False), _claim(staff, purchase, False)) == [
        "claimed",
        "claimed",
    ]
    assert LessonClaim.objects.filter(purchase=purchase).count() == 2  # the race is real
    purchase.refresh_from_db()
    assert purchase.lessons_consumed == 1  # and the purchase's count no longer matches


def test_without_the_lock_the_constraint_still_refuses_the_second(setup):
    staff, purchase = setup
    results = _race(_claim(staff, purchase, False), _claim(staff, purchase, False))
    assert results == ["ValidationError", "claimed"]
    assert LessonClaim.objects.filter(purchase=purchase).count() == 1
    purchase.refresh_from_db()
    assert purchase.lessons_consumed == 1


def test_with_the_lock_the_second_claim_waits_and_is_refused(setup):
    staff, purchase = setup
    results = _race(_claim(staff, purchase, True), _claim(staff, purchase, True))
    assert results == ["ValidationError", "claimed"]
    assert LessonClaim.objects.filter(purchase=purchase).count() == 1
    purchase.refresh_from_db()
    assert purchase.lessons_consumed == 1
