"""Paying a bill through a payment provider.

Two providers stand behind one interface (``PROVIDERS``), for the after-school bills here and
for the training institutions' sales (institutions/sales.py, which checks its notices with
``verify_notification`` and books them itself); which of them parents are offered
is a setting, ``PORTAL_PAYMENT_PROVIDERS`` (the first is the default), read on every call:
  * ``transfer``: the family transfers to the school's account with the payment's reference
    in the memo; school staff confirm the transfer with the bank's reference, which becomes
    the event id (``transfer_confirm``).
  * ``sandbox``: a gateway for the demo and the tests. Its hosted page
    (/afterschool/sandbox/<reference>/) stands for the gateway's own site; paying there makes
    the gateway's notification, signed with HMAC-SHA256, and delivers it to the same
    handler as the HTTP callback (/afterschool/pay/notify/sandbox/), which anyone may call
    and which trusts nothing but a valid signature. It books a payment without any money
    moving, so it never runs in production: with ``PRODUCTION`` it is not offered whatever
    the setting says (``ProviderUnavailable``: its pages and callback answer 404), and
    listing it there stops the start (portal/deploy_checks.py).

A notification is applied once: its event id is stored under a UNIQUE constraint (per
school: a bank's reference is unique on one school's account only), so a replay changes
nothing; a forged one (bad signature) is refused before anything is read. Its fields are
checked explicitly (never with ``assert``, which ``python -O`` removes); an amount is a
positive number of 元 with at most two decimals, at most ``PORTAL_PAYMENT_MAX_AMOUNT``
(``parse_amount``), else the notice is refused (400) and nothing is written.
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
from portal.locks import locked
from portal.permissions import is_school_manager, require


class InvalidNotification(ValueError):
    """A notification that is not the provider's (bad signature) or cannot be read."""


class ProviderUnavailable(LookupError):
    """A provider this portal does not offer (the sandbox in production): its pages are 404."""


def _secret() -> bytes:
    # derived from the portal's secret key: no extra secret to deploy for the sandbox
    return hmac.new(
        settings.SECRET_KEY.encode(), b"afterschool-sandbox-gateway", hashlib.sha256
    ).digest()


def sign(body: bytes) -> str:
    return hmac.new(_secret(), body, hashlib.sha256).hexdigest()


class TransferProvider:
    """The offline bank transfer: the parent is shown the school's payee and the reference
    to write in the transfer's memo; the school confirms what reaches its account."""

    code = "transfer"
    label = "银行转账（学校确认到账）"
    button = "银行转账"
    callback = False  # confirmed by school staff, never by an HTTP callback

    def begin(self, payment: Payment) -> str:
        return reverse("afterschool:receipt", args=[payment.reference])


class SandboxGateway:
    code = "sandbox"
    label = "在线支付（演示网关）"
    button = "在线支付"
    callback = True

    def begin(self, payment: Payment) -> str:
        return reverse("afterschool:sandbox_pay", args=[payment.reference])

    def notification(self, payment, *, status: str = "paid", amount=None) -> tuple:
        """What the gateway sends when the family has paid on its page: (body, signature).
        ``payment``: anything payable with a ``reference`` and an ``amount`` (a bill's
        Payment, or a training purchase: institutions/sales.py)."""
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
        """The notification's fields, once its signature is the gateway's. Every check is an
        explicit ``raise``: they must hold under ``python -O`` too."""
        if not isinstance(signature, str) or not signature:
            raise InvalidNotification("签名无效")
        # bytes on both sides: a header with non-ASCII characters is a bad signature, not a
        # TypeError from compare_digest
        if not hmac.compare_digest(
            sign(body).encode(), signature.encode("utf-8", errors="replace")
        ):
            raise InvalidNotification("签名无效")
        try:
            data = json.loads(body)
        except ValueError:
            raise InvalidNotification("通知内容无法识别") from None
        return read_notification(data)


# Every provider the code knows; which are offered is the setting (``offered``).
PROVIDERS = {p.code: p for p in (TransferProvider(), SandboxGateway())}
SANDBOX = SandboxGateway.code
TRANSFER = TransferProvider.code


def read_notification(data) -> dict:
    """A notification's fields checked one by one (status, event id, reference, amount);
    anything else is an ``InvalidNotification`` naming the field."""
    if not isinstance(data, dict):
        raise InvalidNotification("通知内容无法识别")
    if data.get("status") not in {"paid", "failed"}:
        raise InvalidNotification("通知内容无法识别：status")
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 80:
        raise InvalidNotification("通知内容无法识别：event_id")
    reference = data.get("reference")
    if not isinstance(reference, str) or not 0 < len(reference) <= 40:
        raise InvalidNotification("通知内容无法识别：reference")
    try:
        amount = parse_amount(data.get("amount"))
    except ValueError:
        raise InvalidNotification("通知内容无法识别：amount") from None
    return {**data, "amount": amount}


# what a Payment's amount column holds (max_digits=12, decimal_places=2)
_COLUMN_MAX = Decimal("9999999999.99")


def max_amount() -> Decimal:
    """The largest amount one payment may carry (``PORTAL_PAYMENT_MAX_AMOUNT``, read now)."""
    return min(Decimal(str(settings.PORTAL_PAYMENT_MAX_AMOUNT)), _COLUMN_MAX)


def parse_amount(raw) -> Decimal:
    """A money amount given as text: a positive, finite number of 元 with at most two
    decimals, at most ``max_amount()``. Anything else (0, negative, NaN, Infinity, 0.001,
    1e12, not a number, not text) is a ``ValueError``. The bound is checked before the
    quantize, which would raise on a number too long for the decimal context."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise ValueError("amount")
    try:
        amount = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError("amount") from None
    if not amount.is_finite() or amount <= 0 or amount > max_amount():
        raise ValueError("amount")
    if amount != amount.quantize(fees.CENT):
        raise ValueError("amount")
    return amount.quantize(fees.CENT)


def offered() -> list[str]:
    """The providers parents are offered, the default first: ``PORTAL_PAYMENT_PROVIDERS``
    (read now, so a changed setting takes effect), never the sandbox in production."""
    codes = []
    for code in settings.PORTAL_PAYMENT_PROVIDERS:
        if code not in PROVIDERS or code in codes:
            continue  # an unknown name is an error of deploy_checks; it offers nothing
        if code == SANDBOX and settings.PRODUCTION:
            continue
        codes.append(code)
    return codes


def offered_providers() -> list:
    return [PROVIDERS[code] for code in offered()]


def default_provider() -> str | None:
    codes = offered()
    return codes[0] if codes else None


def provider_offered(code: str):
    """The provider ``code``, or ``ProviderUnavailable`` when it is not offered here."""
    if code not in offered():
        raise ProviderUnavailable(code)
    return PROVIDERS[code]


def begin_url(payment: Payment) -> str:
    """Where the parent goes once the payment is started (the provider's page)."""
    return provider_offered(payment.provider).begin(payment)


def payment_start(*, user, bill_id: int, provider: str | None = None) -> Payment:
    """A parent starts paying their child's bill with one of the offered providers (the
    default when none is named); pressing again reuses the pending payment (one pending
    payment a bill and provider), so a double tap never charges twice."""
    require(kind_of(user) == PARENT)
    provider = provider or default_provider()
    if provider not in offered():
        raise ValidationError({"provider": "请选择支付方式。"})
    with transaction.atomic():
        # the bill only (of=self): the join through the child's parents locks nothing else
        bill = locked(
            Bill.objects.filter(pk=bill_id, child__parents__user=user), of=("self",)
        ).first()
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


def verify_notification(provider_code: str, body: bytes, signature: str) -> dict:
    """A provider's notification checked, for whatever it pays (a bill here; a training
    purchase in institutions/sales.py, which books its own notices): the provider must take
    callbacks and be offered here (else ``ProviderUnavailable``, before anything is read),
    the signature must be the provider's and the fields readable (``InvalidNotification``).
    Returns the fields (``read_notification``); nothing is written."""
    provider = PROVIDERS.get(provider_code)
    if provider is None or not provider.callback:
        raise InvalidNotification("未知的支付渠道")
    provider_offered(provider_code)
    return provider.verify(body, signature)


def notify(provider_code: str, body: bytes, signature: str, *, lock: bool = True) -> PaymentEvent:
    """Apply a provider's notification (the HTTP callback and the sandbox page). A provider
    that is not offered here (the sandbox in production) is ``ProviderUnavailable`` before
    anything is read."""
    data = verify_notification(provider_code, body, signature)
    return _apply(provider_code, data, actor=None, lock=lock)


def sandbox_complete(*, user, reference: str, pay: bool) -> Payment:
    """The parent's choice on the sandbox gateway's page (pay, or give up), delivered as the
    gateway's signed notification would be. Only where the sandbox is offered (never in
    production: ``ProviderUnavailable``), only for the parent's own pending payment."""
    gateway = provider_offered(SANDBOX)
    require(kind_of(user) == PARENT)
    with transaction.atomic():
        payment = Payment.objects.filter(
            reference=reference, provider=SANDBOX, bill__child__parents__user=user
        ).first()
        if payment is None:
            raise PermissionDenied
        if payment.status == Payment.Status.PENDING:
            body, signature = gateway.notification(payment, status="paid" if pay else "failed")
            notify(SANDBOX, body, signature)  # as the gateway's callback would
            payment.refresh_from_db()
    return payment


def _no_pause():
    pass


# Tests widen the window between reading the bill's status and booking the payment here.
_after_bill_read = _no_pause


def transfer_confirm(*, actor, bill_id: int, bank_reference: str, amount) -> PaymentEvent:
    """School staff (principal or 教导处) confirm a bank transfer seen on the school's account.

    The transfer pays the parent's pending transfer payment of the bill when there is one
    (the reference they were shown), else a payment recorded now. The bank's reference is
    the event id, unique on the school's account: the same confirmation twice (same bill,
    same amount: a double click) is booked once and returned with ``replayed = True``; the
    reference already confirmed on another bill, or with another amount, is refused with a
    message naming that bill. Money for a bill that no longer takes it is booked and handed
    back (``_settle``)."""
    require(is_school_manager(actor))
    school_id = actor.school_staff.school_id
    bank_reference = (bank_reference or "").strip()
    errors = {}
    if not bank_reference or len(bank_reference) > 80:
        errors["bank_reference"] = "请填写银行流水号（80 个字符以内）。"
    try:
        amount = parse_amount(amount if isinstance(amount, str) else str(amount))
    except ValueError:
        errors["amount"] = f"请填写到账金额（元，大于 0、不超过 {max_amount()}，最多两位小数）。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # lock order: the bill, then its payment (as in _apply). Under the bill's lock two
        # confirmations of one bill go one after the other: the second finds the parent's
        # payment paid and records its own, which is handed back, never dropped.
        bill = locked(Bill.objects.filter(pk=bill_id, school_id=school_id)).first()
        if bill is None:
            raise PermissionDenied
        used = PaymentEvent.objects.filter(
            school_id=school_id, provider=TRANSFER, event_id=bank_reference
        ).first()
        if used is not None:
            return _confirmed_before(used, bill, amount)
        # the parent's transfer when the amount is theirs; another amount is its own payment
        # (booked and handed back by _settle), leaving the parent's pending
        payment = locked(
            bill.payments.filter(
                provider=TRANSFER, status=Payment.Status.PENDING, amount=amount
            ).order_by("created_at", "id")
        ).first()
        note = f"银行流水 {bank_reference}"
        if payment is None:
            payment = Payment.objects.create(
                bill=bill,
                provider=TRANSFER,
                amount=amount,
                by=actor,
                reference=f"OF{timezone.localdate():%Y%m%d}{secrets.token_hex(6).upper()}",
                note=note,
            )
        else:
            payment.note = note
            payment.save(update_fields=["note"])
        data = {
            "event_id": bank_reference,
            "reference": payment.reference,
            "amount": amount,
            "status": "paid",
            "paid_at": timezone.now().isoformat(),
        }
        try:
            with transaction.atomic():
                event = _apply(TRANSFER, data, actor=actor)
        except _Replayed as replay:
            # the same bank line confirmed at the same moment (the check above passed for
            # both): the first confirmation stands, nothing of this one is kept
            first = _confirmed_before(replay.event, bill, amount)  # (queries before the
            transaction.set_rollback(True)  # rollback mark, which refuses any further query)
            return first
        audit_record(
            actor=actor,
            action="afterschool.payment.transfer_confirmed",
            obj=payment,
            new={"bank_reference": bank_reference, "amount": amount, "outcome": event.outcome},
        )
    return event


def _confirmed_before(event: PaymentEvent, bill: Bill, amount: Decimal) -> PaymentEvent:
    """A bank reference already confirmed on this school's account: the same confirmation
    again (same bill, same amount) returns the first one with ``replayed = True``; else the
    reference was used for other money and is refused, naming the bill it was used on."""
    used = Payment.objects.select_related("bill__child").get(pk=event.payment_id)
    if used.bill_id == bill.pk and used.amount == amount:
        event.replayed = True
        return event
    other = used.bill
    raise ValidationError(
        {
            "bank_reference": (
                f"银行流水号“{event.event_id}”已用于账单 #{other.pk}"
                f"（{other.child.name}，{other.period_start:%Y-%m}，{used.amount} 元），"
                "同一笔到账不能再次确认，请核对流水号。"
            )
        }
    )


class _Replayed(Exception):
    def __init__(self, event):
        self.event = event


def _ledger_key(school_id: int, provider_code: str, event_id: str) -> str:
    """The ledger's idempotency key of a payment event (at most 100 characters; unique per
    school like the event)."""
    key = f"pay:{school_id}:{provider_code}:{event_id}"
    if len(key) > 100:
        digest = hashlib.sha256(event_id.encode()).hexdigest()
        key = f"pay:{school_id}:{provider_code}:sha256:{digest}"
    return key


def _apply(provider_code: str, data: dict, *, actor, lock: bool = True) -> PaymentEvent:
    payload = {k: str(v) for k, v in data.items()}
    payment_row = (
        Payment.objects.filter(reference=data["reference"], provider=provider_code)
        .select_related("bill")
        .first()
    )
    if payment_row is None:
        raise InvalidNotification("没有这笔支付")
    school_id = payment_row.bill.school_id
    events = PaymentEvent.objects.filter(
        school_id=school_id, provider=provider_code, event_id=data["event_id"]
    )
    existing = events.first()
    if existing is not None:
        if actor is not None:
            raise _Replayed(existing)
        return existing
    try:
        with transaction.atomic():
            # lock order: the bill, then its payment. The bill's lock makes two payments of
            # one bill (two tabs, two channels) book one after the other: the second finds
            # the bill paid and is handed back (tests/afterschool/test_payment_concurrency.py,
            # whose control passes lock=False)
            bills = Bill.objects.filter(pk=payment_row.bill_id)
            bill = (locked(bills) if lock else bills).get()
            payment = locked(Payment.objects.filter(pk=payment_row.pk)).get()
            _after_bill_read()
            event = PaymentEvent.objects.create(
                school_id=school_id,
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
        event = events.first()
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
        audit_record(
            actor=actor,
            action="afterschool.payment.failed",
            obj=payment,
            old={"status": Payment.Status.PENDING},
            new={"status": Payment.Status.FAILED},
        )
        return "failed"
    amount = data["amount"]
    payment.paid_at = timezone.now()
    fees.post(
        kind=fees.Kind.PAYMENT,
        school_id=bill.school_id,
        bill=bill,
        payment=payment,
        entries=[(fees.cash_account(bill.school_id), amount), (bill.account, -amount)],
        key=_ledger_key(bill.school_id, payment.provider, data["event_id"]),
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
