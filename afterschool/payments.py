"""Paying a bill through a payment provider.

Two providers stand behind one interface (``PROVIDERS``):
  * ``offline``: the family transfers to the school's account; school staff confirm the
    transfer with the bank's reference, which becomes the event id.
  * ``sandbox``: a gateway for the demo and the tests. Its hosted page
    (/afterschool/sandbox/<reference>/) stands for the gateway's own site; paying there makes
    the gateway's notification, signed with HMAC-SHA256, and delivers it to the same
    handler as the HTTP callback (/afterschool/pay/notify/sandbox/), which anyone may call
    and which trusts nothing but a valid signature.

A notification is applied once: its event id is stored under a UNIQUE constraint, so a
replay changes nothing; a forged one (bad signature) is refused before anything is read.
Money that arrives is always booked: a payment for a bill that is cancelled or already paid,
or of another amount, is booked and refunded in the same transaction, never lost.
"""

import hashlib
import hmac
import json
import secrets
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from afterschool import fees
from afterschool.models import Bill, Payment, PaymentEvent
from portal.access import PARENT, kind_of
from portal.audit import audit_record
from portal.locks import lock_timeout


class InvalidNotification(ValueError):
    """A notification that is not the provider's (bad signature) or cannot be read."""


def _secret() -> bytes:
    # derived from the portal's secret key: no extra secret to deploy for the sandbox
    return hmac.new(
        settings.SECRET_KEY.encode(), b"afterschool-sandbox-gateway", hashlib.sha256
    ).digest()


def sign(body: bytes) -> str:
    return hmac.new(_secret(), body, hashlib.sha256).hexdigest()


class OfflineProvider:
    code = "offline"
    label = "银行转账（学校确认到账）"

    def begin(self, payment: Payment) -> str:
        return reverse("afterschool:receipt", args=[payment.reference])


class SandboxGateway:
    code = "sandbox"
    label = "在线支付（演示网关）"

    def begin(self, payment: Payment) -> str:
        return reverse("afterschool:sandbox_pay", args=[payment.reference])

    def notification(self, payment: Payment, *, status: str = "paid", amount=None) -> tuple:
        """What the gateway sends when the family has paid on its page: (body, signature)."""
        body = json.dumps(
            {
                "event_id": f"evt_{secrets.token_hex(8)}",
                "reference": payment.reference,
                "amount": str(payment.amount if amount is None else amount),
                "status": status,
                "paid_at": timezone.now().isoformat(),
            },
            sort_keys=True,
        ).encode()
        return body, sign(body)

    def verify(self, body: bytes, signature: str) -> dict:
        if not signature or not hmac.compare_digest(sign(body), signature):
            raise InvalidNotification("签名无效")
        try:
            data = json.loads(body)
            data["amount"] = Decimal(data["amount"])
            assert data["status"] in {"paid", "failed"}
            assert isinstance(data["event_id"], str) and 0 < len(data["event_id"]) <= 80
            assert isinstance(data["reference"], str)
        except (ValueError, KeyError, TypeError, AssertionError, InvalidOperation):
            raise InvalidNotification("通知内容无法识别") from None
        return data


PROVIDERS = {p.code: p for p in (OfflineProvider(), SandboxGateway())}


def payment_start(*, user, bill_id: int, provider: str) -> Payment:
    """A parent starts paying their child's bill; pressing again reuses the pending payment
    (one pending payment a bill and provider), so a double tap never charges twice."""
    if kind_of(user) != PARENT:
        raise PermissionDenied
    if provider not in PROVIDERS:
        raise ValidationError({"provider": "请选择支付方式。"})
    with transaction.atomic():
        bill = (
            Bill.objects.select_for_update().filter(pk=bill_id, child__parents__user=user).first()
        )
        if bill is None:
            raise PermissionDenied
        if bill.status != Bill.Status.OPEN:
            raise ValidationError(f"该账单{bill.get_status_display()}，无需缴费。")
        pending = bill.payments.filter(provider=provider, status=Payment.Status.PENDING).first()
        if pending is not None:
            return pending
        payment = Payment.objects.create(
            bill=bill,
            provider=provider,
            amount=bill.amount,
            by=user,
            reference=f"AS{timezone.localdate():%Y%m%d}{secrets.token_hex(6).upper()}",
        )
        audit_record(
            actor=user,
            action="afterschool.payment.started",
            obj=payment,
            new={"provider": provider, "amount": payment.amount},
        )
    return payment


def notify(provider_code: str, body: bytes, signature: str, *, lock: bool = True) -> PaymentEvent:
    """Apply a provider's notification (the HTTP callback and the sandbox page)."""
    provider = PROVIDERS.get(provider_code)
    if not isinstance(provider, SandboxGateway):
        raise InvalidNotification("未知的支付渠道")
    data = provider.verify(body, signature)
    return _apply(provider_code, data, actor=None, lock=lock)


def _no_pause():
    pass


# Tests widen the window between reading the bill's status and booking the payment here.
_after_bill_read = _no_pause


def offline_confirm(*, actor, bill_id: int, bank_reference: str, amount) -> PaymentEvent:
    """School staff confirm a bank transfer seen on the school's account."""
    staff = fees.fee_staff(actor)
    bank_reference = (bank_reference or "").strip()
    errors = {}
    if not bank_reference or len(bank_reference) > 80:
        errors["bank_reference"] = "请填写银行流水号（80 个字符以内）。"
    try:
        amount = Decimal(str(amount).strip())
        if amount <= 0 or amount != amount.quantize(fees.CENT):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = "请填写到账金额（元，最多两位小数）。"
    if errors:
        raise ValidationError(errors)
    bill = Bill.objects.filter(pk=bill_id, school_id=staff.school_id).first()
    if bill is None:
        raise PermissionDenied
    with transaction.atomic():
        payment = Payment.objects.create(
            bill=bill,
            provider=OfflineProvider.code,
            amount=amount,
            by=actor,
            reference=f"OF{timezone.localdate():%Y%m%d}{secrets.token_hex(6).upper()}",
            note=f"银行流水 {bank_reference}",
        )
        data = {
            "event_id": bank_reference,
            "reference": payment.reference,
            "amount": amount,
            "status": "paid",
            "paid_at": timezone.now().isoformat(),
        }
        try:
            with transaction.atomic():
                return _apply(OfflineProvider.code, data, actor=actor)
        except _Replayed as replay:
            # the same bank line confirmed twice: the first confirmation stands
            transaction.set_rollback(True)
            return replay.event


class _Replayed(Exception):
    def __init__(self, event):
        self.event = event


def _apply(provider_code: str, data: dict, *, actor, lock: bool = True) -> PaymentEvent:
    payload = {k: str(v) for k, v in data.items()}
    existing = PaymentEvent.objects.filter(
        provider=provider_code, event_id=data["event_id"]
    ).first()
    if existing is not None:
        if actor is not None:
            raise _Replayed(existing)
        return existing
    payment_row = Payment.objects.filter(
        reference=data["reference"], provider=provider_code
    ).first()
    if payment_row is None:
        raise InvalidNotification("没有这笔支付")
    try:
        with transaction.atomic():
            lock_timeout()
            # lock order: the bill, then its payment. The bill's lock makes two payments of
            # one bill (two tabs, two channels) book one after the other: the second finds
            # the bill paid and is handed back (tests/afterschool/test_payment_concurrency.py)
            bills = Bill.objects.select_for_update() if lock else Bill.objects
            bill = bills.get(pk=payment_row.bill_id)
            payment = Payment.objects.select_for_update().get(pk=payment_row.pk)
            _after_bill_read()
            event = PaymentEvent.objects.create(
                provider=provider_code,
                event_id=data["event_id"],
                payment=payment,
                payload=payload,
                outcome="pending",
            )
            event.outcome = _settle(bill, payment, data, actor=actor)
            event.save(update_fields=["outcome"])
    except IntegrityError:
        # the same event delivered twice at once: the other delivery committed it
        event = PaymentEvent.objects.filter(
            provider=provider_code, event_id=data["event_id"]
        ).first()
        if event is None:
            raise
        if actor is not None:
            raise _Replayed(event) from None
    return event


def _settle(bill: Bill, payment: Payment, data: dict, *, actor) -> str:
    """Book what the notification says (bill and payment locked). Returns the outcome."""
    if payment.status != Payment.Status.PENDING:
        return f"ignored:{payment.status}"
    if data["status"] == "failed":
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status"])
        return "failed"
    amount = data["amount"]
    payment.paid_at = timezone.now()
    fees.post(
        kind=fees.Kind.PAYMENT,
        school_id=bill.school_id,
        bill=bill,
        payment=payment,
        entries=[(fees.cash_account(bill.school_id), amount), (bill.account, -amount)],
        key=f"pay:{payment.provider}:{data['event_id']}"[:100],
        actor=actor,
        memo=f"{payment.provider} {payment.reference}",
    )
    if bill.status == Bill.Status.OPEN and amount == bill.amount:
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "paid_at"])
        bill.status = Bill.Status.PAID
        bill.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="afterschool.bill.paid",
            obj=bill,
            new={"payment": payment.reference, "amount": amount},
        )
        return "paid"
    # Money came for a bill that no longer takes it (cancelled, paid already) or of another
    # amount: booked, then handed back in full.
    why = (
        "账单已作废"
        if bill.status == Bill.Status.CANCELLED
        else ("账单已缴清" if bill.status != Bill.Status.OPEN else "金额与账单不符")
    )
    payment.status = Payment.Status.REFUNDED
    payment.note = f"{why}，原路退回"
    payment.save(update_fields=["status", "paid_at", "note"])
    fees.post(
        kind=fees.Kind.RETURN,
        school_id=bill.school_id,
        bill=bill,
        payment=payment,
        entries=[(bill.account, amount), (fees.cash_account(bill.school_id), -amount)],
        actor=actor,
        memo=f"{why}，退回 {payment.reference}",
    )
    fees._check_not_overdrawn(bill)
    audit_record(
        actor=actor,
        action="afterschool.payment.returned",
        obj=payment,
        new={"amount": amount, "why": why},
    )
    return "refunded"
