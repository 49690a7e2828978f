"""Production gates of the after-school fees: in production the sandbox gateway does not
exist (its page, its button and its callback are 404 and book nothing), parents pay by bank
transfer that the school confirms, a production start with the sandbox listed is a system
check error, the gateway's notification is validated without ``assert`` (so ``python -O``
keeps every check), and the demo data refuses to load.

Requests run outside the test transaction (``transaction=True``), as production runs them
(no ATOMIC_REQUESTS; ``audit_record`` refuses to run outside a transaction)."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import override_settings
from django.urls import reverse

from afterschool import enrolment, fees, payments
from afterschool.models import Bill, FeeEntry, FeeTransaction, Payment, PaymentEvent
from portal import ledger
from portal.deploy_checks import payment_providers_check
from portal.models import AuditLog, District, SchoolStaff
from tests.afterschool.fees_helpers import early, paid_course
from tests.factories import SchoolStaffFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = override_settings(PRODUCTION=True, PORTAL_PAYMENT_PROVIDERS=["transfer"])
# a misconfigured production (the system check stops its start): still no sandbox
PRODUCTION_LISTING_SANDBOX = override_settings(
    PRODUCTION=True, PORTAL_PAYMENT_PROVIDERS=["sandbox", "transfer"]
)


def _bill(world) -> Bill:
    course = paid_course(world.school_a)
    e = enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    return Bill.objects.get(enrolment=e)


def _nothing_booked(bill: Bill):
    bill.refresh_from_db()
    assert bill.status == Bill.Status.OPEN
    assert not PaymentEvent.objects.exists()
    assert not FeeTransaction.objects.exists() and not FeeEntry.objects.exists()
    assert not AuditLog.objects.filter(action="afterschool.bill.paid").exists()


def _balanced():
    assert ledger.ledger_total(FeeEntry) == 0
    assert not ledger.unbalanced_transactions(FeeTransaction).exists()


# --- the sandbox gateway is not there in production -------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("gate", [PRODUCTION, PRODUCTION_LISTING_SANDBOX], ids=["prod", "listed"])
def test_in_production_the_sandbox_page_is_404_and_paying_there_books_nothing(
    world, client_for, gate
):
    bill = _bill(world)
    # a sandbox payment started before the switch to production (or by a forged form)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    url = reverse("afterschool:sandbox_pay", args=[payment.reference])
    c = client_for(world.parent_a)
    with gate:
        assert c.get(url).status_code == 404
        assert c.post(url, {"action": "pay"}).status_code == 404
        with pytest.raises(payments.ProviderUnavailable):
            payments.sandbox_complete(user=world.parent_a, reference=payment.reference, pay=True)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    _nothing_booked(bill)
    # the control: the same request outside production pays the bill
    r = c.post(url, {"action": "pay"})
    assert r.status_code == 302
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID and fees.held(bill) == bill.amount


@pytest.mark.django_db(transaction=True)
def test_in_production_the_sandbox_callback_is_404_and_books_nothing(world, client):
    bill = _bill(world)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    body, sig = payments.PROVIDERS["sandbox"].notification(payment)  # correctly signed
    url = reverse("afterschool:notify", args=["sandbox"])
    with PRODUCTION:
        r = client.post(url, body, content_type="application/json", HTTP_X_SIGNATURE=sig)
        assert r.status_code == 404
    _nothing_booked(bill)
    r = client.post(url, body, content_type="application/json", HTTP_X_SIGNATURE=sig)
    assert r.status_code == 200 and r.content == b"ok paid"  # the control, outside production


@pytest.mark.django_db(transaction=True)
def test_in_production_a_parent_cannot_start_a_sandbox_payment(world, client_for):
    bill = _bill(world)
    c = client_for(world.parent_a)
    with PRODUCTION:
        r = c.post(reverse("afterschool:bill_pay", args=[bill.pk]), {"provider": "sandbox"})
        assert r.status_code == 302 and r.url == reverse("afterschool:bills")
        assert "请选择支付方式" in c.get(r.url).content.decode()
    assert not Payment.objects.exists()
    assert not AuditLog.objects.filter(action="afterschool.payment.started").exists()
    _nothing_booked(bill)


@pytest.mark.django_db
def test_the_bills_page_offers_only_the_listed_providers(world, client_for):
    _bill(world)
    c = client_for(world.parent_a)
    with PRODUCTION:
        html = c.get(reverse("afterschool:bills")).content.decode()
    assert 'data-testid="pay-transfer"' in html
    assert 'data-testid="pay-sandbox"' not in html and "在线支付" not in html
    with PRODUCTION_LISTING_SANDBOX:
        html = c.get(reverse("afterschool:bills")).content.decode()
    assert 'data-testid="pay-sandbox"' not in html
    with override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["sandbox", "transfer"]):
        html = c.get(reverse("afterschool:bills")).content.decode()
    # outside production both, the default (the first listed) first
    assert html.index('data-testid="pay-sandbox"') < html.index('data-testid="pay-transfer"')
    with override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["transfer"]):
        assert payments.offered() == ["transfer"]
        html = c.get(reverse("afterschool:bills")).content.decode()
    assert 'data-testid="pay-sandbox"' not in html


@pytest.mark.django_db(transaction=True)
def test_a_sandbox_not_listed_is_404_outside_production_too(world, client_for):
    bill = _bill(world)
    payment = payments.payment_start(user=world.parent_a, bill_id=bill.pk, provider="sandbox")
    c = client_for(world.parent_a)
    with override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["transfer"]):
        url = reverse("afterschool:sandbox_pay", args=[payment.reference])
        assert c.post(url, {"action": "pay"}).status_code == 404
    _nothing_booked(bill)


# --- the bank transfer, end to end ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_in_production_a_parent_pays_by_transfer_and_the_school_confirms_it(world, client_for):
    bill = _bill(world)
    with PRODUCTION:
        parent = client_for(world.parent_a)
        # no provider named: the default, the first listed (transfer)
        r = parent.post(reverse("afterschool:bill_pay", args=[bill.pk]))
        payment = Payment.objects.get(bill=bill)
        assert payment.provider == "transfer" and payment.status == Payment.Status.PENDING
        assert r.url == reverse("afterschool:receipt", args=[payment.reference])
        html = parent.get(r.url).content.decode()
        assert "请通过银行转账缴费" in html and 'data-testid="transfer-instructions"' in html
        assert payment.reference in html and "60.00 元" in html and world.school_a.name in html
        assert not FeeTransaction.objects.exists()  # a started transfer is not money yet

        school = client_for(world.principal_a)
        desk = school.get(reverse("afterschool:fees")).content.decode()
        assert f"家长转账附言：{payment.reference}" in desk
        form = {
            "action": "confirm",
            "bill": bill.pk,
            "bank_reference": "ICBC-20260915-0001",
            "amount": "60.00",
        }
        r = school.post(reverse("afterschool:fees"), form)
        assert r.status_code == 302
        # the same bank line again (a double click): booked once
        assert school.post(reverse("afterschool:fees"), form).status_code == 302

        bill.refresh_from_db()
        payment.refresh_from_db()
        assert bill.status == Bill.Status.PAID
        # the parent's own payment (the reference they wrote in the memo) is the one paid
        assert Payment.objects.filter(bill=bill).count() == 1
        assert payment.status == Payment.Status.SUCCEEDED and "ICBC-20260915-0001" in payment.note
        assert FeeTransaction.objects.filter(kind="payment").count() == 1
        assert fees.held(bill) == Decimal("60.00")
        _balanced()
        confirmed = AuditLog.objects.get(action="afterschool.payment.transfer_confirmed")
        assert confirmed.actor == world.principal_a
        assert AuditLog.objects.filter(action="afterschool.bill.paid", actor=world.principal_a)
        parent = client_for(world.parent_a)  # (one test client: log the parent back in)
        receipt = parent.get(reverse("afterschool:receipt", args=[payment.reference]))
        assert "缴费成功" in receipt.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_transfer_confirmation_refused_or_invalid_writes_nothing(world, client_for):
    bill = _bill(world)
    url = reverse("afterschool:fees")
    form = {"action": "confirm", "bill": bill.pk, "bank_reference": "B-1", "amount": "60.00"}
    before = AuditLog.objects.count()
    with PRODUCTION:
        # a teacher does not run the fees; another school's principal cannot see the bill
        assert client_for(world.teacher_a).post(url, form).status_code == 403
        assert client_for(world.principal_b).post(url, form).status_code == 404
        assert client_for(world.parent_a).post(url, form).status_code == 403
        r = client_for(world.principal_a).post(url, {**form, "amount": "6o", "bank_reference": ""})
        html = r.content.decode()
        assert r.status_code == 200 and "请填写银行流水号" in html and "请填写到账金额" in html
    assert not Payment.objects.exists()
    assert AuditLog.objects.count() == before
    _nothing_booked(bill)


@pytest.mark.django_db(transaction=True)
def test_a_second_transfer_for_a_paid_bill_is_booked_and_handed_back(world):
    bill = _bill(world)
    with PRODUCTION:
        payments.payment_start(user=world.parent_a, bill_id=bill.pk)
        first = payments.transfer_confirm(
            actor=world.principal_a, bill_id=bill.pk, bank_reference="B-1", amount="60"
        )
        second = payments.transfer_confirm(
            actor=world.principal_a, bill_id=bill.pk, bank_reference="B-2", amount="60"
        )
    assert (first.outcome, second.outcome) == ("paid", "refunded")
    assert fees.held(bill) == Decimal("60.00")  # the second 60 went back to the family
    kinds = sorted(FeeTransaction.objects.values_list("kind", flat=True))
    assert kinds == ["payment", "payment", "return"]
    _balanced()


@pytest.mark.django_db
def test_a_transfer_of_another_amount_is_handed_back_and_the_parents_stays_pending(world):
    bill = _bill(world)
    with PRODUCTION:
        mine = payments.payment_start(user=world.parent_a, bill_id=bill.pk)
        wrong = payments.transfer_confirm(
            actor=world.principal_a, bill_id=bill.pk, bank_reference="B-59", amount="59.00"
        )
        mine.refresh_from_db()
        assert wrong.outcome == "refunded" and wrong.payment_id != mine.pk
        assert mine.status == Payment.Status.PENDING and fees.held(bill) == 0
        right = payments.transfer_confirm(
            actor=world.principal_a, bill_id=bill.pk, bank_reference="B-60", amount="60.00"
        )
    mine.refresh_from_db()
    assert right.outcome == "paid" and right.payment_id == mine.pk
    assert mine.status == Payment.Status.SUCCEEDED and fees.held(bill) == Decimal("60.00")
    _balanced()


# --- the start-up check ------------------------------------------------------------------


def _ids(messages):
    return sorted(m.id for m in messages)


def test_the_system_check_refuses_the_sandbox_in_production():
    with override_settings(PRODUCTION=True, PORTAL_PAYMENT_PROVIDERS=["sandbox", "transfer"]):
        errors = payment_providers_check()
    assert _ids(errors) == ["portal.E103"]
    assert errors[0].is_serious() and "sandbox" in errors[0].msg
    with PRODUCTION:
        assert payment_providers_check() == []
    with override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["sandbox", "transfer"]):
        assert payment_providers_check() == []


def test_the_system_check_refuses_an_unknown_or_empty_provider_list():
    with override_settings(PRODUCTION=False, PORTAL_PAYMENT_PROVIDERS=["transfer", "alipay"]):
        errors = payment_providers_check()
    assert _ids(errors) == ["portal.E102"] and "alipay" in errors[0].msg
    with override_settings(PRODUCTION=True, PORTAL_PAYMENT_PROVIDERS=["sandbox", "offline"]):
        assert _ids(payment_providers_check()) == ["portal.E102", "portal.E103"]
    with override_settings(PRODUCTION=True, PORTAL_PAYMENT_PROVIDERS=[]):
        assert _ids(payment_providers_check()) == ["portal.E101"]


def test_a_plain_manage_py_check_runs_it():
    with PRODUCTION_LISTING_SANDBOX:
        with pytest.raises(SystemCheckError, match="portal.E103"):
            call_command("check")
    with PRODUCTION:
        call_command("check")  # clean


def test_a_production_start_with_the_sandbox_listed_stops(tmp_path):
    """The real start: the environment of docker-compose's production with the sandbox
    added, ``manage.py check`` in a fresh process (settings read from the environment)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_")) or k == "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        PORTAL_PRODUCTION="true",
        DJANGO_SECRET_KEY="a-test-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="localhost",
        PORTAL_STATIC_ROOT=str(tmp_path / "static"),
        PORTAL_PAYMENT_PROVIDERS="sandbox,transfer",
    )
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and "portal.E103" in run.stderr, run.stderr
    env.pop("PORTAL_PAYMENT_PROVIDERS")  # production's default: transfer only
    run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr


# --- the gateway's notification is checked without assert --------------------------------


def _signed(**fields):
    data = {
        "event_id": "evt_1",
        "reference": "AS-1",
        "amount": "60.00",
        "status": "paid",
        "paid_at": "2026-09-15T10:00:00+08:00",
        **fields,
    }
    body = json.dumps(data).encode()
    return body, payments.sign(body)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "refund"},
        {"event_id": ""},
        {"event_id": "e" * 81},
        {"event_id": 7},
        {"reference": None},
        {"amount": "NaN"},
        {"amount": "-60.00"},
        {"amount": "0"},
        {"amount": "60.001"},
        {"amount": 60},
        {"amount": "sixty"},
    ],
)
def test_a_signed_notification_with_a_bad_field_is_refused(fields):
    body, sig = _signed(**fields)
    with pytest.raises(payments.InvalidNotification, match="通知内容无法识别"):
        payments.PROVIDERS["sandbox"].verify(body, sig)


def test_a_tampered_or_unsigned_notification_is_refused():
    gateway = payments.PROVIDERS["sandbox"]
    body, sig = _signed()
    assert gateway.verify(body, sig)["amount"] == Decimal("60.00")
    tampered = body.replace(b"60.00", b"0.01")
    for bad_body, bad_sig in [(tampered, sig), (body, ""), (body, None), (body, "签名")]:
        with pytest.raises(payments.InvalidNotification, match="签名无效"):
            gateway.verify(bad_body, bad_sig)
    body = b"[1, 2]"  # signed, but not an object
    with pytest.raises(payments.InvalidNotification):
        gateway.verify(body, payments.sign(body))


def test_under_python_O_a_tampered_and_a_malformed_notification_are_still_refused():
    """``python -O`` strips ``assert``: the checks must hold there too."""
    script = """
import json, django
django.setup()
from afterschool import payments
g = payments.PROVIDERS["sandbox"]
def refused(body, sig):
    try:
        g.verify(body, sig)
    except payments.InvalidNotification:
        return True
    return False
body = json.dumps({"event_id": "e", "reference": "AS-1", "amount": "60.00",
                   "status": "paid"}).encode()
sig = payments.sign(body)
bad = json.dumps({"event_id": "", "reference": "AS-1", "amount": "60.00",
                  "status": "refund"}).encode()
print(__debug__, refused(body, sig), refused(body.replace(b"60.00", b"0.01"), sig),
      refused(bad, payments.sign(bad)))
"""
    run = subprocess.run(
        [sys.executable, "-O", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False", "True", "True"]


# --- demo data -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_refuses_to_run_in_production():
    users = get_user_model().objects.count()
    with override_settings(PRODUCTION=True):
        with pytest.raises(CommandError, match="生产环境"):
            call_command("load_demo")
        from portal.demo import DemoRefused, load_demo

        with pytest.raises(DemoRefused):
            load_demo()
    assert not District.objects.filter(code="440199").exists()
    assert get_user_model().objects.count() == users
    assert not SchoolStaff.objects.filter(user__username="principal_shiyan").exists()


# --- settlement: the principal's --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_only_the_principal_posts_the_settlement(world, client_for):
    course = paid_course(world.school_a)
    academic = SchoolStaffFactory(
        school=world.school_a, role=SchoolStaff.Role.ACADEMIC, user__username="jw_a"
    ).user
    url = reverse("afterschool:settlement") + f"?term={course.plan.term_id}"
    c = client_for(academic)
    html = c.get(url).content.decode()
    assert "学期结算须由校长确认入账" in html and "确认结算入账" not in html
    assert c.post(url, {"term": course.plan.term_id}).status_code == 403
    assert not AuditLog.objects.filter(action="afterschool.settlement.posted").exists()
