"""Two bureau staff open the same institution's first account at the same moment, on two
real database connections. A pause in the service (accounts._pause, "checked") holds each
after it has checked that the institution has no 管理员. The control switches the
institution's row lock off and shows the race: both check, both write, two 管理员. With the
lock the second waits for the first to commit, then finds its 管理员 and is refused."""

import threading
import time

import pytest
from django.db import connection

from institutions import accounts
from institutions.account_models import InstitutionStaff
from tests.factories import InstitutionFactory
from tests.institutions.helpers import training_staff

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            call()
            results[i] = "created"
        except Exception as exc:  # noqa: BLE001 - the result is what the test asserts
            results[i] = type(exc).__name__
        finally:
            connection.close()  # each thread had its own connection

    original = accounts._pause
    accounts._pause = lambda point: time.sleep(0.4)
    try:
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        accounts._pause = original
    return sorted(results)


def _create(staff, inst, username, lock):
    return lambda: accounts.institution_admin_create(
        actor=staff, institution_id=inst.pk, username=username, name="王", lock=lock
    )


@pytest.mark.parametrize("lock", [False, True], ids=["control_without_lock", "with_lock"])
def test_two_creations_at_once_make_one_admin_only_under_the_lock(lock):
    staff = training_staff()
    inst = InstitutionFactory()
    results = _race(_create(staff, inst, "first", lock), _create(staff, inst, "second", lock))
    admins = InstitutionStaff.objects.filter(institution=inst, role="admin").count()
    if lock:
        assert results == ["ValidationError", "created"] and admins == 1
    else:
        assert results == ["created", "created"] and admins == 2  # the race is real
