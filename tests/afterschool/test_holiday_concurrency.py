"""Two bureau staff designate the same school as a host site of the same vacation at once,
on two real connections: with the vacation's lock the second is told it is one already;
the control without the lock shows the race ending at the UNIQUE index (a 500 on a page)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from afterschool import holiday
from afterschool.holiday_models import HostSite
from tests.afterschool.test_holiday_helpers import WEEK_1, bureau_as, designate

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    first, second = bureau_as("bureau_holiday_1"), bureau_as("bureau_holiday_2")
    designate(world, first, school_id=world.school_a.pk)  # the vacation exists
    holiday.school_site(world.school_b, capacity=10)  # and 乙小学's care site
    barrier = threading.Barrier(2)
    outcomes = []

    def staff(user):
        try:
            barrier.wait()
            designate(world, user, weeks=(WEEK_1,), lock=lock)
            outcomes.append("designated")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        except IntegrityError:
            outcomes.append("IntegrityError")
        finally:
            connection.close()

    original = holiday._after_exists_read
    holiday._after_exists_read = lambda: time.sleep(0.3)  # both look before either inserts
    try:
        threads = [threading.Thread(target=staff, args=(u,)) for u in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        holiday._after_exists_read = original
    return sorted(outcomes), HostSite.objects.filter(site__school=world.school_b).count()


def test_without_the_lock_the_second_designation_meets_the_unique_index(world):
    outcomes, hosts = _race(world, lock=False)
    assert outcomes == ["IntegrityError", "designated"] and hosts == 1, outcomes


def test_with_the_lock_the_second_is_told_the_school_is_a_host_already(world):
    outcomes, hosts = _race(world, lock=True)
    assert hosts == 1
    assert outcomes[0] == "designated" and outcomes[1].endswith("的托管点。"), outcomes
