"""The stored colour under concurrency: a refresh that meets a transaction changing an input
waits for it and computes from what it committed (colour.refresh locks the rows before it
reads the inputs; the triggers of migration 0009 lock the row for every input change)."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from institutions import colour
from institutions.models import AnnualReview, Institution, SupervisedAccount
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refresh_waits_for_an_input_change_and_stores_what_it_committed(world):
    inst = make_institution(training_staff(), world.school_a.district, white=False)
    SupervisedAccount.objects.create(
        institution=inst, kind="escrow", bank="工商银行", account_name="x", account_number="1"
    )
    colour.refresh([inst.pk])
    assert Institution.objects.get(pk=inst.pk).list_colour == colour.GREY  # no review yet
    inserted, release, done = threading.Event(), threading.Event(), {}

    def writer():  # a raw writer: no service, no refresh of its own
        try:
            with transaction.atomic():
                AnnualReview.objects.create(
                    institution_id=inst.pk, year=2026, result="passed",
                    date=timezone.localdate() - dt.timedelta(days=10),
                )  # fmt: skip
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def refresher():
        try:
            done["verdicts"] = colour.refresh([inst.pk])
        finally:
            connection.close()

    first = threading.Thread(target=writer)
    first.start()
    assert inserted.wait(10)
    second = threading.Thread(target=refresher)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the writer's lock on the institution
    release.set()
    first.join(10)
    second.join(10)
    assert done["verdicts"][inst.pk].colour == colour.WHITE  # the committed review counted
    row = Institution.objects.get(pk=inst.pk)
    assert row.list_colour == colour.WHITE and row.colour_until is not None
    assert colour.stored_verdict(row) == colour.verdict(row)
