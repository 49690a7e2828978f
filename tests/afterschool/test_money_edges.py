"""Money edge cases (issue 21 item 3): a payment notice's amount is a positive number of 元
with at most two decimals under PORTAL_PAYMENT_MAX_AMOUNT, else 400 and nothing written; a
bank reference is unique on one school's account (not across schools) and a reused one is
refused naming the bill it paid; cancelling a bill that is not the school's is a 404.

Requests run outside the test transaction (``transaction=True``), as production runs them."""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from afterschool import enrolment, fees, payments
from afterschool.models import Bill, FeeEntry, FeeTransaction, Payment, PaymentEvent
from portal import ledger
from portal.models import AuditLog, SchoolStaff
from tests.afterschool.fees_helpers import early, paid_course
from tests.factories import ChildFactory, ParentFactory, SchoolStaffFactory

NOTIFY = reverse("afterschool:notify", args=["sandbox"])
SANDBOX = override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["sandbox", "transfer"])


def _balanced():
    assert ledger.ledger_total(FeeEntry) == 0
    assert not ledger.unbalanced_transactions(FeeTransaction).exists()


def _bill(world, *, school=None, child=None, parent=None, course=None) -> Bill:
    """A 60 元 bill (three lessons of 20) of ``child`` in a course of ``school``."""
    school = school or world.school_a
    course = course or paid_course(school)
    e = enrolment.enrol(
        user=parent or world.parent_a,
        child_id=(child or world.child_a).pk,
        offering_id=course.pk,
        now=early(course),
    )
    return Bill.objects.get(enrolment=e)


def _family(school_class, name):
    parent = ParentFactory(user__username=f"p-{name}", name=f"{name}家长")
    child = ChildFactory(school_class=school_class, name=name)
    child.parents.add(parent)
    return child, parent.user


def _notice(payment, amount):
    """The gateway's signed notice for ``payment`` carrying ``amount`` (any JSON value)."""
    body, _sig = payments.PROVIDERS["sandbox"].notification(payment)
    data = {**json.loads(body), "amount": amount}
    body = json.dumps(data, sort_keys=True).encode()
    return body, payments.sign(body)


def _post(client, body, sig):
    return client.post(NOTIFY, body, content_type="application/json", HTTP_X_SIGNATURE=sig)


# --- the amount of a payment notice ---------------------------------------------------------

BAD_AMOUNTS = [
    "0", "0.00", "-60.00", "-0.01", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf",
    "0.001", "60.001", "1e12", "1E+30", "1e999999", "100000.01", "abc", "", " ", "60,00",
    "0x3C", None, 60, 60.0, True, [], {},
]  # fmt: skip


@pytest.mark.parametrize("raw", BAD_AMOUNTS, ids=repr)
def test_parse_amount_refuses_anything_but_a_positive_amount_in_cents(raw):
    with pytest.raises(ValueError):
        payments.parse_amount(raw)


@pytest.mark.parametrize(
    "raw,amount",
    [("0.01", "0.01"), ("60", "60.00"), ("60.5", "60.50"), (" 60.00 ", "60.00"),
     ("60.000", "60.00"), ("100000", "100000.00"), ("100000.00", "100000.00")],
)  # fmt: skip
def test_parse_amount_accepts_cents_up_to_the_bound(raw, amount):
    assert payments.parse_amount(raw) == Decimal(amount)
    assert str(payments.parse_amount(raw)) == amount


def test_the_bound_is_the_setting():
    from django.conf import settings

    assert settings.PORTAL_PAYMENT_MAX_AMOUNT == 100_000
    with override_settings(PORTAL_PAYMENT_MAX_AMOUNT=50):
        assert payments.parse_amount("50.00") == 50
        with pytest.raises(ValueError):
            payments.parse_amount("50.01")
    # never more than the amount column holds (max_digits=12, decimal_places=2)
    with override_settings(PORTAL_PAYMENT_MAX_AMOUNT=10**12):
        assert payments.max_amount() == Decimal("9999999999.99")


@pytest.mark.django_db(transaction=True)
def test_a_signed_notice_with_a_bad_amount_is_400_and_writes_nothing(world, client):
    bill = _bill(world)
    with SANDBOX:
        payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
        audits = AuditLog.objects.count()
        for raw in BAD_AMOUNTS:
            r = _post(client, *_notice(payment, raw))
            assert r.status_code == 400, raw
            assert "amount" in r.content.decode()
    assert Payment.objects.count() == 1
    payment.refresh_from_db()
    bill.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and bill.status == Bill.Status.OPEN
    assert not PaymentEvent.objects.exists()
    assert not FeeTransaction.objects.exists() and not FeeEntry.objects.exists()
    assert AuditLog.objects.count() == audits
    _balanced()


@pytest.mark.django_db(transaction=True)
def test_the_bounds_of_a_notice_amount(world, client):
    """0.01 and the maximum are booked (and handed back: they are not the bill's 60 元); one
    cent over the maximum is refused; the bill's own amount pays it."""
    bill = _bill(world)
    with SANDBOX:
        payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
        r = _post(client, *_notice(payment, "100000.01"))
        assert r.status_code == 400 and not PaymentEvent.objects.exists()
        for raw in ("0.01", "100000.00"):
            # each a payment of its own (a returned payment is not pending any more)
            other = Payment.objects.create(
                bill=bill, provider="sandbox", amount=Decimal(raw), by=world.parent_a,
                reference=f"T{raw.replace('.', '')}",
            )  # fmt: skip
            r = _post(client, *_notice(other, raw))
            assert r.status_code == 200 and r.content == b"ok refunded", raw
        assert fees.held(bill) == 0
        r = _post(client, *_notice(payment, "60.00"))
        assert r.content == b"ok paid"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and fees.held(bill) == Decimal("60.00")
    assert PaymentEvent.objects.count() == 3
    assert sorted(FeeTransaction.objects.values_list("kind", flat=True)) == [
        "payment", "payment", "payment", "return", "return",
    ]  # fmt: skip
    _balanced()


@pytest.mark.django_db
def test_a_transfer_confirmation_over_the_bound_is_refused(world):
    bill = _bill(world)
    for raw in ("100000.01", "1e12", "NaN", "-60", "0", "0.001"):
        with pytest.raises(ValidationError) as exc:
            payments.transfer_confirm(
                actor=world.principal_a, bill_id=bill.pk, bank_reference="B-1", amount=raw
            )
        assert set(exc.value.message_dict) == {"amount"}
        assert "100000" in exc.value.message_dict["amount"][0]
    assert not Payment.objects.exists() and not FeeTransaction.objects.exists()


# --- bank references: unique on one school's account -----------------------------------------


@pytest.fixture
def two_schools(world):
    """A 60 元 bill in school A and one in school B, each with a pending transfer."""
    course_a = paid_course(world.school_a)
    SchoolStaffFactory(school=world.school_b, name="乙老师", user__username="tb")
    course_b = paid_course(world.school_b, term=course_a.plan.term)
    parent_b = ParentFactory(user__username="parent_b", name="乙家长")
    world.child_b.parents.add(parent_b)
    bill_a = _bill(world, course=course_a)
    bill_b = _bill(world, child=world.child_b, parent=parent_b.user, course=course_b)
    return bill_a, bill_b, course_a


@pytest.mark.django_db(transaction=True)
def test_one_schools_bank_reference_does_not_block_anothers(world, client_for, two_schools):
    bill_a, bill_b, _course = two_schools
    url = reverse("afterschool:fees")
    form = {"action": "confirm", "bank_reference": "ICBC-0001", "amount": "60.00"}
    r = client_for(world.principal_a).post(url, {**form, "bill": bill_a.pk}, follow=True)
    assert "已确认到账" in r.content.decode()
    r = client_for(world.principal_b).post(url, {**form, "bill": bill_b.pk}, follow=True)
    assert "已确认到账" in r.content.decode()
    for bill in (bill_a, bill_b):
        bill.refresh_from_db()
        assert bill.status == Bill.Status.PAID and fees.held(bill) == Decimal("60.00")
    events = PaymentEvent.objects.filter(event_id="ICBC-0001")
    assert sorted(events.values_list("school_id", flat=True)) == sorted(
        [world.school_a.pk, world.school_b.pk]
    )
    assert FeeTransaction.objects.filter(kind="payment").count() == 2
    _balanced()


@pytest.mark.django_db(transaction=True)
def test_a_reference_reused_in_the_school_is_refused_naming_its_bill(
    world, client_for, two_schools
):
    bill_a, _bill_b, course = two_schools
    child, parent = _family(world.class_a, "丙同学")
    other = _bill(world, child=child, parent=parent, course=course)
    url = reverse("afterschool:fees")
    form = {"action": "confirm", "bank_reference": "ICBC-0001", "amount": "60.00"}
    school = client_for(world.principal_a)
    r = school.post(url, {**form, "bill": bill_a.pk}, follow=True)
    assert "已确认到账" in r.content.decode()
    counts = (Payment.objects.count(), PaymentEvent.objects.count(), FeeTransaction.objects.count())
    audits = AuditLog.objects.count()

    # the same reference on another bill of the school: refused, naming the first bill
    r = school.post(url, {**form, "bill": other.pk})
    html = r.content.decode()
    assert r.status_code == 200 and "已确认到账" not in html
    assert f"已用于账单 #{bill_a.pk}" in html and "甲同学" in html and "ICBC-0001" in html
    assert 'value="ICBC-0001"' in html  # the form shows what was typed

    # the same reference on the same bill with another amount: refused too
    r = school.post(url, {**form, "bill": bill_a.pk, "amount": "59.00"})
    assert f"已用于账单 #{bill_a.pk}" in r.content.decode()

    # the same confirmation again (a double click): booked once, and said so
    r = school.post(url, {**form, "bill": bill_a.pk}, follow=True)
    html = r.content.decode()
    assert "已确认过，未重复入账" in html and "已确认到账" not in html

    assert (
        Payment.objects.count(),
        PaymentEvent.objects.count(),
        FeeTransaction.objects.count(),
    ) == counts
    assert AuditLog.objects.count() == audits
    other.refresh_from_db()
    assert other.status == Bill.Status.OPEN and fees.held(other) == 0
    _balanced()


@pytest.mark.django_db
def test_the_service_returns_a_repeated_confirmation_marked_replayed(world, two_schools):
    bill_a, _bill_b, _course = two_schools
    first = payments.transfer_confirm(
        actor=world.principal_a, bill_id=bill_a.pk, bank_reference="R-1", amount="60"
    )
    assert not getattr(first, "replayed", False)
    again = payments.transfer_confirm(
        actor=world.principal_a, bill_id=bill_a.pk, bank_reference="R-1", amount="60.00"
    )
    assert again.pk == first.pk and again.replayed is True
    assert first.school_id == world.school_a.pk


@pytest.mark.django_db
def test_a_sandbox_notice_replayed_is_still_applied_once(world):
    bill = _bill(world)
    with SANDBOX:
        payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
        body, sig = payments.PROVIDERS["sandbox"].notification(payment)
        first = payments.notify("sandbox", body, sig)
        again = payments.notify("sandbox", body, sig)
    assert first.pk == again.pk and first.school_id == world.school_a.pk
    assert PaymentEvent.objects.count() == 1
    assert FeeTransaction.objects.filter(kind="payment").count() == 1


# --- cancelling a bill that is not the school's ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_bill_not_of_the_school_is_404_and_changes_nothing(
    world, client_for, two_schools
):
    bill_a, bill_b, _course = two_schools
    url = reverse("afterschool:fees")
    form = {"action": "cancel", "reason": "课程取消"}
    audits = AuditLog.objects.count()
    school = client_for(world.principal_a)
    assert school.post(url, {**form, "bill": bill_b.pk}).status_code == 404  # another school's
    missing = Bill.objects.order_by("-pk").first().pk + 1000
    assert school.post(url, {**form, "bill": missing}).status_code == 404  # none
    assert school.post(url, {**form, "bill": 10**20}).status_code == 404  # beyond bigint
    assert school.post(url, {**form, "bill": -1}).status_code == 404
    r = school.post(url, {**form, "bill": "abc"})  # not a number: the form says so
    assert r.status_code == 200 and "请检查填写的日期、金额和编号" in r.content.decode()
    bill_b.refresh_from_db()
    assert bill_b.status == Bill.Status.OPEN
    assert AuditLog.objects.count() == audits
    # the school's own bill is cancelled (the control)
    r = school.post(url, {**form, "bill": bill_a.pk}, follow=True)
    assert "账单已作废" in r.content.decode()
    bill_a.refresh_from_db()
    assert bill_a.status == Bill.Status.CANCELLED


@pytest.mark.django_db
def test_the_staff_of_another_school_cannot_cancel_through_the_service(world, two_schools):
    from django.core.exceptions import PermissionDenied

    _bill_a, bill_b, _course = two_schools
    assert SchoolStaff.objects.get(user=world.principal_a).school_id != bill_b.school_id
    with pytest.raises(PermissionDenied):
        fees.bill_cancel(actor=world.principal_a, bill_id=bill_b.pk, reason="x")
    bill_b.refresh_from_db()
    assert bill_b.status == Bill.Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_one_reference_confirmed_on_two_bills_at_once_books_one(world, two_schools):
    """Two staff confirm one bank line on two bills of the school at the same moment: both
    pass the look-up (each holds its own bill's lock); the event's UNIQUE constraint lets one
    book, and the other is refused naming the first bill, with nothing of it kept."""
    import threading
    import time

    from django.db import connection

    bill_a, _bill_b, course = two_schools
    child, parent = _family(world.class_a, "丙同学")
    other = _bill(world, child=child, parent=parent, course=course)
    barrier = threading.Barrier(2)
    outcomes = {}

    def confirm(bill):
        try:
            barrier.wait()
            outcomes[bill.pk] = payments.transfer_confirm(
                actor=world.principal_a, bill_id=bill.pk, bank_reference="R-9", amount="60.00"
            ).outcome
        except ValidationError as exc:
            outcomes[bill.pk] = exc.message_dict["bank_reference"][0]
        finally:
            connection.close()

    original = payments._after_bill_read
    paused = []

    def pause():  # both past the look-up before either books
        paused.append(1)
        time.sleep(0.3)

    payments._after_bill_read = pause
    try:
        threads = [threading.Thread(target=confirm, args=(b,)) for b in (bill_a, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        payments._after_bill_read = original
    assert len(paused) == 2  # the race took place: both reached the booking
    assert sorted(outcomes) == sorted([bill_a.pk, other.pk])
    paid = [pk for pk, outcome in outcomes.items() if outcome == "paid"]
    assert len(paid) == 1, outcomes
    loser = other.pk if paid[0] == bill_a.pk else bill_a.pk
    assert f"已用于账单 #{paid[0]}" in outcomes[loser]
    assert PaymentEvent.objects.filter(event_id="R-9").count() == 1
    # no payment recorded for the refused confirmation
    assert not Payment.objects.filter(bill_id=loser, by=world.principal_a).exists()
    assert Bill.objects.get(pk=loser).status == Bill.Status.OPEN
    assert FeeTransaction.objects.filter(kind="payment").count() == 1
    _balanced()
