"""A lapse recorded while the same person is being named on a course: with the person's row
locked the naming waits for the change and is refused; the control, with the lock off, shows
the lapsed person named (two real connections)."""

import datetime as dt
import threading
import time

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from afterschool import people as svc
from afterschool.models import Offering, OfferingPerson
from tests.afterschool.helpers import offering

pytestmark = pytest.mark.django_db(transaction=True)


def _race(world, *, lock):
    today = timezone.localdate()
    on = today - dt.timedelta(days=30)
    course = offering(world.school_a, status=Offering.Status.DRAFT)
    dates = {"no_criminal_record_on": on, "health_cert_on": on, "trained_on": on}
    person = svc.person_create(user=world.principal_a, name="陈老师", kind="artist", **dates)
    outcome = {}

    def lapse():
        try:
            svc.person_update(user=world.principal_a, person_id=person.pk,
                              no_criminal_record_on=today - relativedelta(months=13))  # fmt: skip
        finally:
            connection.close()

    def name():
        try:
            time.sleep(0.1)  # the lapse is written, not yet committed
            svc.offering_person_add(user=world.principal_a, offering_id=course.pk,
                                    person_id=person.pk, lock=lock)  # fmt: skip
            outcome["named"] = True
        except ValidationError as exc:
            outcome["refused"] = exc.messages[0]
        finally:
            connection.close()

    original = svc._after_vetting_write
    svc._after_vetting_write = lambda: time.sleep(0.5)
    try:
        threads = [threading.Thread(target=lapse), threading.Thread(target=name)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        svc._after_vetting_write = original
    return outcome, OfferingPerson.objects.filter(offering=course).count()


def test_without_the_lock_a_person_whose_lapse_is_being_recorded_is_named(world):
    assert _race(world, lock=False) == ({"named": True}, 1)


def test_with_the_lock_the_naming_waits_and_is_refused(world):
    outcome, rows = _race(world, lock=True)
    assert rows == 0 and "无犯罪记录证明" in outcome["refused"]
