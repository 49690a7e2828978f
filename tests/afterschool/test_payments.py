import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from afterschool import enrolment, fees, payments
from afterschool.models import Bill, FeeTransaction, Payment, PaymentEvent
from tests.afterschool.fees_helpers import balanced_ledger, during, early, paid_course  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]


@pytest.fixture
def bill(world):
    course = paid_course(world.school_a)
    e = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    return Bill.objects.get(enrolment=e)


def start(world, bill, provider="sandbox"):
    return payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider=provider)


def test_a_signed_notification_pays_the_bill_once(world, bill):
    payment = start(world, bill)
    assert start(world, bill).pk == payment.pk  # a double tap reuses the pending payment
    body, sig = payments.PROVIDERS["sandbox"].notification(payment)
    event = payments.notify("sandbox", body, sig)
    assert event.outcome == "paid"
    bill.refresh_from_db()
    payment.refresh_from_db()
    assert bill.status == Bill.Status.PAID and payment.status == Payment.Status.SUCCEEDED
    assert fees.held(bill) == 60
    # the gateway delivers the same event again: nothing changes
    again = payments.notify("sandbox", body, sig)
    assert again.pk == event.pk
    assert FeeTransaction.objects.filter(kind="payment").count() == 1
    assert fees.held(bill) == 60


def test_a_forged_notification_is_refused_over_http_and_changes_nothing(world, bill, client):
    payment = start(world, bill)
    body, sig = payments.PROVIDERS["sandbox"].notification(payment)
    url = reverse("afterschool:notify", args=["sandbox"])
    forged = json.dumps({**json.loads(body), "amount": "0.01"}).encode()
    r = client.post(url, forged, content_type="application/json", HTTP_X_SIGNATURE=sig)
    assert r.status_code == 400
    r = client.post(url, body, content_type="application/json")  # no signature at all
    assert r.status_code == 400
    r = client.post(
        reverse("afterschool:notify", args=["transfer"]),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sig,
    )
    assert r.status_code == 400  # bank transfers are confirmed by staff, not by callback
    assert not PaymentEvent.objects.exists() and not FeeTransaction.objects.exists()
    r = client.post(url, body, content_type="application/json", HTTP_X_SIGNATURE=sig)
    assert r.status_code == 200 and r.content == b"ok paid"


def test_money_for_a_cancelled_bill_is_booked_and_handed_back(world, bill):
    payment = start(world, bill)
    fees.bill_cancel(actor=world.principal_a, bill_id=bill.pk, reason="课程停开")
    body, sig = payments.PROVIDERS["sandbox"].notification(payment)
    assert payments.notify("sandbox", body, sig).outcome == "refunded"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and "作废" in payment.note
    kinds = sorted(FeeTransaction.objects.values_list("kind", flat=True))
    assert kinds == ["payment", "return"] and fees.held(bill) == 0


def test_a_second_payment_of_a_paid_bill_is_handed_back(world, bill):
    first = start(world, bill)
    second = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="transfer")
    # (the transfer stays pending; a second sandbox tab pays too)
    other = Payment.objects.create(
        bill=bill, provider="sandbox", reference="AS-TAB-2", amount=bill.amount, by=world.parent_a
    )
    gateway = payments.PROVIDERS["sandbox"]
    payments.notify("sandbox", *gateway.notification(first))
    assert payments.notify("sandbox", *gateway.notification(other)).outcome == "refunded"
    assert fees.held(bill) == 60
    second.refresh_from_db()
    assert second.status == Payment.Status.PENDING


def test_a_wrong_amount_is_handed_back_and_the_bill_stays_open(world, bill):
    payment = start(world, bill)
    body, sig = payments.PROVIDERS["sandbox"].notification(payment, amount="59.00")
    assert payments.notify("sandbox", body, sig).outcome == "refunded"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.OPEN and fees.held(bill) == 0


def test_a_failed_payment_leaves_the_bill_open_and_the_ledger_untouched(world, bill):
    payment = start(world, bill)
    body, sig = payments.PROVIDERS["sandbox"].notification(payment, status="failed")
    assert payments.notify("sandbox", body, sig).outcome == "failed"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.OPEN and not FeeTransaction.objects.exists()


def test_school_staff_confirm_a_bank_transfer_once(world, bill):
    with pytest.raises(PermissionDenied):
        payments.transfer_confirm(
            actor=world.teacher_a, bill_id=bill.pk, bank_reference="B1", amount="60"
        )
    with pytest.raises(PermissionDenied):
        payments.transfer_confirm(
            actor=world.principal_b, bill_id=bill.pk, bank_reference="B1", amount="60"
        )
    with pytest.raises(ValidationError) as exc:
        payments.transfer_confirm(
            actor=world.principal_a, bill_id=bill.pk, bank_reference="", amount="6o"
        )
    assert set(exc.value.message_dict) == {"bank_reference", "amount"}
    event = payments.transfer_confirm(
        actor=world.principal_a, bill_id=bill.pk, bank_reference="B1", amount="60.00"
    )
    assert event.outcome == "paid"
    again = payments.transfer_confirm(
        actor=world.principal_a, bill_id=bill.pk, bank_reference="B1", amount="60.00"
    )
    assert again.pk == event.pk
    assert Payment.objects.filter(provider="transfer").count() == 1
    assert fees.held(bill) == 60


def test_only_the_childs_parent_may_pay(world, bill):
    from tests.factories import ParentFactory

    stranger = ParentFactory(user__username="stranger").user
    with pytest.raises(PermissionDenied):
        payments.payment_start(user=stranger, bill_id=bill.pk, provider="sandbox")
    with pytest.raises(PermissionDenied):
        payments.payment_start(user=world.principal_a, bill_id=bill.pk, provider="sandbox")
    with pytest.raises(ValidationError):
        payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="cash")
