"""Two at once on two real connections: the last granted visit is recorded once, a package
is dispatched once (the order row and the package row are locked; a pause between the read
and the write makes both requests read before either writes, as a race would)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from supply import catalogue
from supply.catalogue_models import CatalogueOrder, CataloguePackage, CatalogueVisit
from tests.post_routes.cases_catalogue import (
    bureau_user,
    dispatched_order,
    make_order,
    make_package,
    term_for,
    venue_member,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _both(calls):
    """Run the calls at once; returns what each did ("ok" or the refusal)."""
    barrier = threading.Barrier(len(calls))
    out = []

    def run(call):
        try:
            barrier.wait()
            call()
            out.append("ok")
        except ValidationError as exc:
            out.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return sorted(out)


def test_the_last_granted_visit_is_recorded_once(world, monkeypatch):
    member, order, _bureau = dispatched_order(world)  # 2 visits granted
    today = timezone.localdate()
    catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=40)

    class Slow:  # visit_record reads the visits done, then asks for today: pause there
        @staticmethod
        def localdate():
            time.sleep(0.3)
            return today

        now = staticmethod(timezone.now)

    monkeypatch.setattr(catalogue, "timezone", Slow)
    record = lambda: catalogue.visit_record(  # noqa: E731
        actor=member, order_id=order.pk, date=today, pupils_reached=20
    )
    got = _both([record, record])
    # the second waited for the first's lock, then counted its visit
    assert got == ["ok", "该点单派单 2 场，已记录 2 场，不能再记录。"]
    assert CatalogueVisit.objects.filter(order=order).count() == 2


def test_a_package_is_dispatched_once(world, monkeypatch):
    package = make_package(venue_member(), term_for(world.school_a.district))
    make_order(world.principal_a, package, pupils=40)
    b1, b2 = bureau_user("cat_b1"), bureau_user("cat_b2")
    original = catalogue.visits_needed

    def slow(pupils, places):  # after the status was read, before anything is written
        time.sleep(0.3)
        return original(pupils, places)

    monkeypatch.setattr(catalogue, "visits_needed", slow)
    got = _both([
        lambda: catalogue.dispatch(actor=b1, package_id=package.pk),
        lambda: catalogue.dispatch(actor=b2, package_id=package.pk),
    ])  # fmt: skip
    assert got == ["ok", "该课程包已派单（每个课程包只派单一次）。"]
    assert CataloguePackage.objects.get().status == CataloguePackage.Status.DISPATCHED
    assert CatalogueOrder.objects.get().rank == 1
