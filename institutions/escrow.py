"""Every write of the fee escrow (预收费监管): purchases, consumption, releases, disputes,
refunds, bank statements; and the reads the staff pages and checks share.

Rules of this module
  * Money moves only through the ledger (portal/ledger.py); a purchase's paid, released and
    refunded sums are read from its entries, never kept in a column.
  * Each service runs in transaction.atomic(), locks the Purchase row through
    portal.locks.locked (select_for_update with a lock timeout: a waiting lock gives up
    and the request fails, a Celery task retries), re-reads the state, returns quietly if
    the state is already there, writes, checks the ledger, audits, all in the one transaction.
  * Lock order everywhere: SupervisedAccount (statement import only), then Purchase rows by
    primary key. No service holds two purchases.
  * Inside the lock, after posting, the purchase's account must not turn positive
    (released + refunded <= paid): a service that would pay out more fails and rolls back.
  * Requests that move money accept an idempotency key: replaying it returns what the first
    request did and changes nothing.
"""

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Upper
from django.utils import timezone

from institutions.escrow_models import (
    BankStatementImport,
    BankStatementLine,
    EscrowEntry,
    EscrowPolicy,
    EscrowTransaction,
    Purchase,
    ReleaseKind,
    ReleaseRule,
)
from institutions.models import Course, Institution, SupervisedAccount
from portal import ledger
from portal.audit import audit_record
from portal.locks import lock_timeout, locked
from portal.permissions import is_bureau, require

CENT = Decimal("0.01")
Kind = EscrowTransaction.Kind
Status = Purchase.Status
KEY_USED = "该幂等键（业务参考号）已用于另一笔不同的资金业务。"


def _no_pause(point: str):
    pass


# Tests put pauses here: at "read", after a payout has read the purchase's sums from the
# ledger, and at "posted", after it has posted and checked, before it commits. The control
# test shows two payouts racing without the lock (both read, both post, both commit); the
# real one that the lock closes the window (pretix's pair of concurrency tests).
_pause = _no_pause


def _money(value, field: str) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "请填写金额（元），如 1200.00。"}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValidationError({field: "金额最多保留两位小数（元、角、分）。"})
    if amount <= 0:
        raise ValidationError({field: "金额必须大于 0。"})
    return amount.quantize(CENT)


def _key(value) -> str | None:
    key = (value or "").strip()
    if len(key) > 100:
        raise ValidationError({"idempotency_key": "幂等键（业务参考号）不能超过 100 个字符。"})
    return key or None


# --- caps -----------------------------------------------------------------------------


def cap_limit_date(starts_on: dt.date) -> dt.date:
    """The last day a collection starting on ``starts_on`` may cover: exactly
    ESCROW_MAX_MONTHS calendar months later (month ends clamp: Nov 30 + 3 months = Feb 28)."""
    return starts_on + relativedelta(months=settings.ESCROW_MAX_MONTHS)


def cap_problems(*, lessons: int, amount: Decimal, starts_on, ends_on) -> dict[str, str]:
    """What breaks the caps on one collection: 教育部等六部门《关于加强校外培训机构预收费
    监管工作的通知》(2021): no collection may cover more than 3 months or 60 lessons, nor
    exceed 5000 yuan (settings.ESCROW_MAX_*)."""
    problems = {}
    max_months = settings.ESCROW_MAX_MONTHS
    max_lessons = settings.ESCROW_MAX_LESSONS
    max_amount = Decimal(settings.ESCROW_MAX_AMOUNT)
    if ends_on > cap_limit_date(starts_on):
        problems["ends_on"] = (
            f"一次收费的时间跨度不得超过{max_months}个月：{starts_on} 开始的服务最晚到 "
            f"{cap_limit_date(starts_on)}，本次到 {ends_on}。"
        )
    if lessons > max_lessons:
        problems["lessons"] = f"一次收费不得超过{max_lessons}课时，本次为{lessons}课时。"
    if amount > max_amount:
        cap = max_amount.to_integral() if max_amount % 1 == 0 else max_amount  # "5000元"
        problems["amount"] = f"一次收费不得超过{cap}元，本次为{amount}元。"
    return problems


# --- ledger helpers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    paid: Decimal
    released: Decimal
    refunded: Decimal

    @property
    def held(self) -> Decimal:
        return self.paid - self.released - self.refunded


def purchase_sums(purchase: Purchase) -> Sums:
    """Paid, released and refunded for one purchase, from its ledger account (one query)."""
    rows = dict(
        EscrowEntry.objects.filter(account=purchase.account)
        .values("transaction__kind")
        .annotate(s=Sum("amount"))
        .values_list("transaction__kind", "s")
    )
    zero = Decimal("0.00")
    return Sums(
        paid=-(rows.get(Kind.PURCHASE) or zero),
        released=rows.get(Kind.RELEASE) or zero,
        refunded=(rows.get(Kind.REFUND) or zero) + (rows.get(Kind.REFUND_FULL) or zero),
    )


def _post(*, kind, institution_id, purchase=None, entries, key=None, actor=None, memo=""):
    try:
        return ledger.post(
            tx_model=EscrowTransaction,
            entry_model=EscrowEntry,
            kind=kind,
            entries=entries,
            idempotency_key=key,
            actor=actor,
            memo=memo,
            fields={"institution_id": institution_id, "purchase": purchase},
        )
    except ledger.IdempotencyConflict:
        raise ValidationError({"idempotency_key": KEY_USED}) from None


def _payout(purchase: Purchase, kind, amount: Decimal, *, key, actor, memo):
    """Post money out of the purchase (release or refund), then check the ledger: read
    inside the lock, after this transaction's own entries, the purchase's account is a
    liability whose balance may reach zero and never go above (paid out <= paid)."""
    tx = _post(
        kind=kind, institution_id=purchase.institution_id, purchase=purchase,
        entries=[(purchase.account, amount), (purchase.holding_account, -amount)],
        key=key, actor=actor, memo=memo,
    )  # fmt: skip
    owed = ledger.balance(EscrowEntry, purchase.account)
    if owed > 0:
        raise ledger.LedgerError(f"purchase #{purchase.pk} would pay out {owed} more than paid")
    _pause("posted")
    return tx


def _replay(key: str | None, purchase: Purchase, kinds) -> EscrowTransaction | None:
    """The transaction an earlier request with this key posted, or None."""
    if key is None:
        return None
    tx = EscrowTransaction.objects.filter(idempotency_key=key).first()
    if tx is None:
        return None
    if tx.purchase_id != purchase.pk or tx.kind not in kinds:
        raise ValidationError({"idempotency_key": KEY_USED})
    tx.replayed = True
    return tx


def _locked_purchase(purchase_id: int, lock: bool = True) -> Purchase:
    qs = Purchase.objects.filter(pk=purchase_id)
    if lock:  # the row lock that serialises every payout of this purchase
        qs = locked(qs)
    return qs.get()


def _today(today):
    return today or timezone.localdate()


def _move(purchase: Purchase, to: str):
    """Change the status along Purchase.TRANSITIONS (the caller holds the row lock)."""
    if to not in Purchase.TRANSITIONS[Status(purchase.status)]:
        raise ValidationError(f"预收费状态为“{purchase.get_status_display()}”，不能再变更。")
    purchase.status = to


# --- purchases ------------------------------------------------------------------------

PHONE_RE = re.compile(r"^[0-9+\- ]{7,20}$")


def _release_terms(institution: Institution) -> dict:
    rule = ReleaseRule.objects.filter(institution=institution).first()
    source = rule or EscrowPolicy.current()
    kind = source.kind if rule else source.release_kind
    return {
        "release_kind": kind,
        "tranche_1_percent": source.tranche_1_percent,
        "tranche_2_percent": source.tranche_2_percent,
        "delay_days": source.delay_days,
    }


def purchase_record(
    *,
    actor,
    course_id: int,
    parent_name: str,
    parent_phone: str,
    lessons: int,
    amount,
    starts_on: dt.date,
    ends_on: dt.date,
    idempotency_key: str,
) -> Purchase:
    """Record a parent's prepaid purchase and its payment into the supervised account.

    Refused over the caps (``cap_problems``), or when the institution has no active
    supervised account. ``idempotency_key`` (the payment's reference) is required: the same
    key again returns the purchase already recorded (``replayed``) and changes nothing; it
    is also the ledger transaction's key, so the bank line of the payment matches it."""
    amount = _money(amount, "amount")
    key = _key(idempotency_key)
    errors = {}
    if key is None:
        errors["idempotency_key"] = "请填写支付参考号（幂等键），重复提交时据此识别。"
    if not (parent_name or "").strip():
        errors["parent_name"] = "请填写家长姓名。"
    if not PHONE_RE.match((parent_phone or "").strip()):
        errors["parent_phone"] = "请填写家长的手机号码。"
    if not isinstance(lessons, int) or lessons < 1:
        errors["lessons"] = "购买课时至少为 1。"
    elif ends_on < starts_on:
        errors["ends_on"] = "服务结束日期不能早于开始日期。"
    else:
        errors.update(cap_problems(lessons=lessons, amount=amount, starts_on=starts_on,
                                   ends_on=ends_on))  # fmt: skip
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lock_timeout()  # a concurrent insert of the same key waits on its unique index
        existing = Purchase.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _purchase_replayed(existing, course_id, lessons, amount)
        course = Course.objects.select_related("institution").get(pk=course_id)
        institution = course.institution
        if not course.active:
            raise ValidationError({"course_id": f"课程“{course.name}”已停售，不能收费。"})
        account = SupervisedAccount.objects.filter(institution=institution, active=True).first()
        if account is None:
            raise ValidationError(
                f"{institution.name}没有有效的资金监管账户（银行托管或风险保证金），"
                "不得收取预收费。"
            )
        try:
            with transaction.atomic():  # savepoint: a concurrent request with the same key
                purchase = Purchase.objects.create(
                    institution=institution, course=course, parent_name=parent_name.strip(),
                    parent_phone=parent_phone.strip(), lessons=lessons, amount=amount,
                    starts_on=starts_on, ends_on=ends_on, supervision=account.kind,
                    idempotency_key=key, paid_at=timezone.now(),
                    recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
                    **_release_terms(institution),
                )  # fmt: skip
        except IntegrityError:
            existing = Purchase.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
            return _purchase_replayed(existing, course_id, lessons, amount)
        _post(
            kind=Kind.PURCHASE,
            institution_id=institution.pk,
            purchase=purchase,
            entries=[(purchase.holding_account, amount), (purchase.account, -amount)],
            key=key,
            actor=actor,
            memo=f"收取预收费：{course.name} {lessons}课时",
        )
        audit_record(
            actor=actor,
            action="institutions.escrow.purchase_recorded",
            obj=purchase,
            new={"course": course.pk, "lessons": lessons, "amount": amount,
                 "starts_on": starts_on, "ends_on": ends_on, "supervision": account.kind,
                 "release_kind": purchase.release_kind, "key": key},
        )  # fmt: skip
    purchase.replayed = False
    return purchase


def purchase_paid(purchase: Purchase, *, actor, memo: str) -> EscrowTransaction:
    """A sale's payment has arrived (institutions/sales.py books the notice): the purchase,
    awaiting payment (ACCEPTED), becomes ACTIVE and its amount is posted into the holding
    account (Kind.PURCHASE) under the purchase's key, which is also the reference the parent
    wrote on the transfer, so the bank line matches it. The caller holds the row lock."""
    _move(purchase, Status.ACTIVE)
    purchase.paid_at = timezone.now()
    purchase.save(update_fields=["status", "paid_at", "updated_at"])
    amount = purchase.amount
    return _post(
        kind=Kind.PURCHASE,
        institution_id=purchase.institution_id,
        purchase=purchase,
        entries=[(purchase.holding_account, amount), (purchase.account, -amount)],
        key=purchase.idempotency_key,
        actor=actor,
        memo=memo,
    )


def _purchase_replayed(existing: Purchase, course_id, lessons, amount) -> Purchase:
    if (existing.course_id, existing.lessons, existing.amount) != (course_id, lessons, amount):
        raise ValidationError(
            {"idempotency_key": "该支付参考号已用于另一笔预收费，请核对后重新提交。"}
        )
    existing.replayed = True
    return existing


def lessons_consume(*, actor, purchase_id: int, total: int) -> Purchase:
    """The institution reports ``total`` lessons consumed so far (消课). A total, not an
    increment, so a replayed report changes nothing; it may go down to correct a report
    but never below what the parent has confirmed."""
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id)
        if total == purchase.lessons_consumed:
            return purchase
        if purchase.status in Purchase.UNPAID:
            raise ValidationError("该预收费尚未付款，不能登记消课。")
        if purchase.status != Status.ACTIVE:
            raise ValidationError("该预收费已退费，不能再登记消课。")
        if total > purchase.lessons:
            raise ValidationError({"total": f"消课不能超过购买的{purchase.lessons}课时。"})
        if total < purchase.lessons_confirmed:
            raise ValidationError(
                {"total": f"家长已确认{purchase.lessons_confirmed}课时，已确认的消课不能撤销。"}
            )
        old = purchase.lessons_consumed
        purchase.lessons_consumed = total
        purchase.save(update_fields=["lessons_consumed", "updated_at"])
        audit_record(actor=actor, action="institutions.escrow.lessons_consumed", obj=purchase,
                     old={"lessons_consumed": old}, new={"lessons_consumed": total})  # fmt: skip
    return purchase


def lessons_confirm(*, actor, purchase_id: int, total: int, today=None) -> Purchase:
    """The parent confirms ``total`` lessons so far; then whatever the release rule makes
    due is released in the same transaction."""
    today = _today(today)
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id)
        if total == purchase.lessons_confirmed:
            return purchase
        if purchase.status == Status.REFUNDED_FULL:
            raise ValidationError("该预收费已全额退费，无需再确认消课。")
        if purchase.status in Purchase.UNPAID:
            raise ValidationError("该预收费尚未付款，不能确认消课。")
        if total < purchase.lessons_confirmed:
            raise ValidationError({"total": "已确认的课时不能撤回；如有异议请提出争议。"})
        if total > purchase.lessons_consumed:
            raise ValidationError(
                {"total": f"只能确认机构已登记的消课（目前{purchase.lessons_consumed}课时）。"}
            )
        old = purchase.lessons_confirmed
        purchase.lessons_confirmed = total
        fields = ["lessons_confirmed", "updated_at"]
        if total == purchase.lessons and purchase.completed_on is None:
            purchase.completed_on = today
            fields.append("completed_on")
        purchase.save(update_fields=fields)
        audit_record(actor=actor, action="institutions.escrow.lessons_confirmed", obj=purchase,
                     old={"lessons_confirmed": old}, new={"lessons_confirmed": total})  # fmt: skip
        _release(purchase, actor=actor, today=today)
    return purchase


# --- releases ---------------------------------------------------------------------------


def release_due(purchase: Purchase, today: dt.date) -> Decimal:
    """How much of the purchase the rule lets the institution have by ``today``, in total
    (releases so far included). Only confirmed lessons count.
      一课一销: the value of the confirmed lessons.
      tranches: tranche 1 once 1/3 of the lessons are confirmed, tranche 2 at 2/3, the rest
                on completion (or, after a refund, the value of what was confirmed).
      delay:    everything confirmed, ``delay_days`` after completion (or the refund)."""
    if purchase.status == Status.REFUNDED_FULL:
        return Decimal("0.00")
    confirmed_value = purchase.value_of(purchase.lessons_confirmed)
    kind = purchase.release_kind
    if kind == ReleaseKind.PER_LESSON:
        return confirmed_value
    if kind == ReleaseKind.TRANCHES:
        if purchase.is_finished:
            return confirmed_value
        percent = Decimal("0")
        confirmed, lessons = purchase.lessons_confirmed, purchase.lessons
        if 3 * confirmed >= lessons:  # integers: no rounding of "a third"
            percent += purchase.tranche_1_percent
        if 3 * confirmed >= 2 * lessons:
            percent += purchase.tranche_2_percent
        share = (purchase.amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return min(share, confirmed_value)
    release_date = purchase.release_date
    if release_date is not None and today >= release_date:
        return confirmed_value
    return Decimal("0.00")


def _release(purchase: Purchase, *, actor, today, key=None) -> EscrowTransaction | None:
    """Release what is due; the caller holds the purchase's lock."""
    replayed = _replay(key, purchase, {Kind.RELEASE})
    if replayed is not None:
        return replayed
    if purchase.dispute_open or purchase.status == Status.REFUNDED_FULL:
        return None  # an open dispute holds every release
    sums = purchase_sums(purchase)
    _pause("read")
    amount = min(release_due(purchase, today) - sums.released, sums.held)
    if amount <= 0:
        return None
    memo = f"按{purchase.get_release_kind_display()}释放"
    tx = _payout(purchase, Kind.RELEASE, amount, key=key, actor=actor, memo=memo)
    audit_record(actor=actor, action="institutions.escrow.released", obj=purchase,
                 new={"amount": amount, "transaction": tx.pk,
                      "released_total": sums.released + amount})  # fmt: skip
    return tx


def escrow_release(
    *, actor, purchase_id: int, today=None, idempotency_key=None, lock: bool = True
) -> EscrowTransaction | None:
    """Release to the institution what the purchase's rule makes due by ``today`` (None:
    nothing due, or held by a dispute). ``lock=False`` only for the control test."""
    key = _key(idempotency_key)
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id, lock)
        return _release(purchase, actor=actor, today=_today(today), key=key)


def escrow_release_due(*, today=None, actor=None) -> int:
    """The nightly sweep (for a Celery task): release what the delay rule has made due.
    Each purchase in its own transaction; returns how many releases were posted."""
    today = _today(today)
    candidates = Purchase.objects.filter(
        release_kind=ReleaseKind.DELAY, completed_on__isnull=False, dispute_open=False,
        status__in=[Status.ACTIVE, Status.REFUNDED],
    ).values_list("pk", "completed_on", "delay_days")  # fmt: skip
    posted = 0
    for pk, completed_on, delay_days in candidates:
        if completed_on + dt.timedelta(days=delay_days) <= today:
            tx = escrow_release(actor=actor or "system", purchase_id=pk, today=today)
            posted += tx is not None
    return posted


# --- disputes ---------------------------------------------------------------------------


def dispute_open(*, actor, purchase_id: int, reason: str) -> Purchase:
    """A parent's complaint holds every release of the purchase until it is closed."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写争议事由。"})
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id)
        if purchase.dispute_open:
            return purchase
        if purchase.status == Status.REFUNDED_FULL:
            raise ValidationError("该预收费已全额退费，不能再提出争议。")
        if purchase.status in Purchase.UNPAID:
            raise ValidationError("该预收费尚未付款，没有可争议的消课或资金。")
        purchase.dispute_open = True
        purchase.dispute_reason = reason.strip()[:300]
        purchase.save(update_fields=["dispute_open", "dispute_reason", "updated_at"])
        audit_record(actor=actor, action="institutions.escrow.dispute_opened", obj=purchase,
                     new={"reason": purchase.dispute_reason})  # fmt: skip
    return purchase


def dispute_close(*, actor, purchase_id: int, resolution: str, today=None) -> Purchase:
    """Close the dispute; what was held and is due is released at once."""
    if not (resolution or "").strip():
        raise ValidationError({"resolution": "请填写争议的处理结果。"})
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id)
        if not purchase.dispute_open:
            return purchase
        purchase.dispute_open = False
        purchase.save(update_fields=["dispute_open", "updated_at"])
        audit_record(actor=actor, action="institutions.escrow.dispute_closed", obj=purchase,
                     old={"reason": purchase.dispute_reason},
                     new={"resolution": resolution.strip()})  # fmt: skip
        _release(purchase, actor=actor, today=_today(today))
    return purchase


# --- refunds ----------------------------------------------------------------------------


def refund_unconsumed(
    *, actor, purchase_id: int, reason: str = "", idempotency_key=None, today=None,
    lock: bool = True,
) -> EscrowTransaction | None:  # fmt: skip
    """Return the value of the lessons not consumed (per lesson, 按课时退费) and end the
    purchase. What was consumed stays for the institution: released when confirmed (after
    the delay, under that rule). None when there was nothing to refund or it was done."""
    key = _key(idempotency_key)
    today = _today(today)
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id, lock)
        replayed = _replay(key, purchase, {Kind.REFUND})
        if replayed is not None:
            return replayed
        if purchase.status != Status.ACTIVE:
            return None  # already refunded: nothing more to give back
        sums = purchase_sums(purchase)
        _pause("read")
        amount = min(purchase.amount - purchase.value_of(purchase.lessons_consumed), sums.held)
        old_status = purchase.status
        _move(purchase, Status.REFUNDED)
        purchase.refund_reason = (reason or "").strip()[:300]
        purchase.completed_on = purchase.completed_on or today
        purchase.save(update_fields=["status", "refund_reason", "completed_on", "updated_at"])
        tx = None
        if amount > 0:
            memo = f"退还未消课{purchase.lessons - purchase.lessons_consumed}课时"
            tx = _payout(purchase, Kind.REFUND, amount, key=key, actor=actor, memo=memo)
        audit_record(actor=actor, action="institutions.escrow.refunded", obj=purchase,
                     old={"status": old_status},
                     new={"status": purchase.status, "amount": amount if tx else Decimal("0"),
                          "transaction": tx.pk if tx else None,
                          "reason": purchase.refund_reason})  # fmt: skip
        _release(purchase, actor=actor, today=today)
    return tx


def refund_full(
    *, actor, purchase_id: int, reason: str, idempotency_key=None, lock: bool = True
) -> EscrowTransaction | None:
    """The institution is at fault (stopped teaching, closed, broke the contract): the
    parent gets back everything still held, consumed-but-unreleased lessons included, and
    the purchase ends. Money already released cannot come back from the escrow; the audit
    row names it for the bureau to recover from the institution (or its risk deposit)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "全额退费须写明机构的过错（如停止办学、违约）。"})
    key = _key(idempotency_key)
    with transaction.atomic():
        purchase = _locked_purchase(purchase_id, lock)
        replayed = _replay(key, purchase, {Kind.REFUND_FULL})
        if replayed is not None:
            return replayed
        if purchase.status == Status.REFUNDED_FULL:
            return None
        sums = purchase_sums(purchase)
        _pause("read")
        amount = sums.held
        old_status = purchase.status
        _move(purchase, Status.REFUNDED_FULL)
        purchase.refund_reason = reason.strip()[:300]
        purchase.dispute_open = False
        purchase.save(update_fields=["status", "refund_reason", "dispute_open", "updated_at"])
        tx = None
        if amount > 0:
            memo = "机构过错，全额退费"
            tx = _payout(purchase, Kind.REFUND_FULL, amount, key=key, actor=actor, memo=memo)
        audit_record(actor=actor, action="institutions.escrow.refunded_full", obj=purchase,
                     old={"status": old_status},
                     new={"status": purchase.status, "amount": amount if tx else Decimal("0"),
                          "transaction": tx.pk if tx else None, "reason": purchase.refund_reason,
                          "to_recover_from_institution": sums.released})  # fmt: skip
    return tx


def transaction_reverse(*, actor, transaction_id: int, memo: str) -> EscrowTransaction:
    """Correct a posting by its reversal (never by editing it). Refused when the reversal
    would leave the purchase owing more than was paid (e.g. a payment reversed after
    releases: refund or reverse those first)."""
    if not (memo or "").strip():
        raise ValidationError({"memo": "冲正须写明原因。"})
    with transaction.atomic():
        tx = EscrowTransaction.objects.get(pk=transaction_id)
        purchase = _locked_purchase(tx.purchase_id) if tx.purchase_id else None
        if tx.reverses_id is not None:
            raise ValidationError("这是一笔冲正记账，不能再冲正；如需更正请重新记账。")
        reversal = ledger.reverse(tx, entry_model=EscrowEntry, actor=actor, memo=memo.strip())
        if reversal.replayed:
            return reversal
        if purchase is not None and ledger.balance(EscrowEntry, purchase.account) > 0:
            raise ValidationError("冲正后该笔预收费的退费与释放将超过实收金额，请先处理相关记账。")
        audit_record(actor=actor, action="institutions.escrow.reversed", obj=tx,
                     new={"reversal": reversal.pk, "memo": memo.strip()})  # fmt: skip
    return reversal


# --- bank statements ------------------------------------------------------------------


def statement_import(
    *, actor, account_id: int, filename: str, rows, encoding: str = ""
) -> BankStatementImport:
    """Import the rows of a statement of an escrow account (parsed and validated whole by
    escrow_views.statement_parse: all rows or none), then match them to the ledger. A line
    already imported from an earlier statement (same date, amount, reference and
    counterparty) is skipped, so overlapping statements do no harm. ``rows``: objects with
    row_number, date, amount, reference, counterparty."""
    with transaction.atomic():
        # lock order: the account first; two imports of one account take turns, so the
        # duplicate count below is exact
        account = locked(SupervisedAccount.objects.filter(pk=account_id)).get()
        if account.kind != SupervisedAccount.Kind.ESCROW:
            raise ValidationError("只有银行托管账户需要导入流水核对。")
        have = Counter(
            (d, a, r, c)
            for d, a, r, c in BankStatementLine.objects.filter(account=account).values_list(
                "date", "amount", "reference", "counterparty"
            )
        )
        new_rows = []
        for row in rows:
            key = (row.date, row.amount, row.reference, row.counterparty)
            if have[key] > 0:
                have[key] -= 1
                continue
            new_rows.append(row)
        statement = BankStatementImport.objects.create(
            account=account, filename=(filename or "statement.csv")[:200], encoding=encoding,
            lines_imported=len(new_rows), lines_skipped=len(rows) - len(new_rows),
            uploaded_by=actor,
        )  # fmt: skip
        BankStatementLine.objects.bulk_create(
            [BankStatementLine(statement=statement, account=account, row_number=r.row_number,
                               date=r.date, amount=r.amount, reference=r.reference,
                               counterparty=r.counterparty) for r in new_rows]
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="institutions.escrow.statement_imported",
            obj=account,
            new={"statement": statement.pk, "filename": statement.filename,
                 "imported": len(new_rows), "skipped": len(rows) - len(new_rows)},
        )  # fmt: skip
        _sale_transfers_book(account, actor)
        statement_match(account=account)
    return statement


def statement_rematch(*, actor, account_id: int) -> int:
    """Match an account's open bank lines again (the staff page's button), under the
    account's lock like the import; audited. Returns how many lines matched now."""
    require(is_bureau(actor, line="institutions", perm="institutions.add_bankstatementline"))
    with transaction.atomic():
        account = locked(SupervisedAccount.objects.filter(pk=account_id)).get()
        _sale_transfers_book(account, actor)
        matched = statement_match(account=account)
        audit_record(
            actor=actor,
            action="institutions.escrow.statement_rematched",
            obj=account,
            new={"matched": matched},
        )
    return matched


def _sale_transfers_book(account: SupervisedAccount, actor) -> None:
    """Book the sales paid by bank transfer that the statement shows (institutions/sales.py;
    imported here, not at the top: sales builds on this module). Under the account's lock."""
    from institutions import sales

    sales.transfer_lines_book(account=account, actor=actor)


def escrow_account_code(institution_id: int) -> str:
    return f"escrow:inst:{institution_id}"


def statement_match(*, account: SupervisedAccount) -> int:
    """Match the account's open bank lines to ledger transactions: the line's reference is
    the transaction's idempotency key or ``LEDGER-<id>`` (case ignored), and its amount the
    transaction's net effect on the escrow account. Returns how many lines matched."""
    code = escrow_account_code(account.institution_id)
    lines = list(
        BankStatementLine.objects.filter(account=account).exclude(
            match=BankStatementLine.Match.MATCHED
        )
    )
    refs = {line.reference.strip().upper() for line in lines if line.reference.strip()}
    if not refs:
        return 0
    ids = [int(r[7:]) for r in refs if re.fullmatch(r"LEDGER-\d{1,18}", r)]
    candidates = (
        EscrowTransaction.objects.filter(
            institution_id=account.institution_id, bank_line__isnull=True
        )
        .annotate(
            ukey=Upper("idempotency_key"),
            net=Sum("entries__amount", filter=Q(entries__account=code)),
        )
        .filter(Q(ukey__in=refs) | Q(pk__in=ids))
        .values_list("pk", "ukey", "net")
    )
    by_ref = {}
    for pk, ukey, net in candidates:
        if net is None:  # does not touch the escrow account
            continue
        by_ref[f"LEDGER-{pk}"] = (pk, net)
        if ukey:
            by_ref[ukey] = (pk, net)
    taken, matched = set(), 0
    for line in sorted(lines, key=lambda ln: (ln.date, ln.pk)):
        found = by_ref.get(line.reference.strip().upper())
        line.transaction = None
        if found is None or found[0] in taken:
            line.match = BankStatementLine.Match.UNMATCHED
        elif found[1] != line.amount:
            line.match = BankStatementLine.Match.AMOUNT_MISMATCH
        else:
            line.match = BankStatementLine.Match.MATCHED
            line.transaction_id = found[0]
            taken.add(found[0])
            matched += 1
    BankStatementLine.objects.bulk_update(lines, ["match", "transaction"])
    return matched


def _kept_to_return(line: BankStatementLine) -> bool:
    """A transfer with a sale's reference that was not its payment (another amount, paid
    twice: institutions/sales.py keeps it as a SaleNotice to return): it carries the sale's
    reference, so matching calls it an amount mismatch, yet it is booked like any other
    line once it is handed back."""
    from institutions.sale_models import SaleNotice

    return SaleNotice.objects.filter(
        provider="transfer", event_id=f"bankline:{line.pk}",
        outcome__in=[SaleNotice.Outcome.MISMATCH, SaleNotice.Outcome.NOT_PAYABLE],
    ).exists()  # fmt: skip


def bank_line_book(*, actor, line_id: int, memo: str) -> EscrowTransaction:
    """Book an unmatched bank line into the ledger (bank charges, interest, or money taken
    from the escrow without a release: then the escrow balance falls short and the nightly
    check reports it). Idempotent: a booked line returns its transaction."""
    if not (memo or "").strip():
        raise ValidationError({"memo": "请说明这笔银行流水的性质（如手续费、利息、违规划转）。"})
    with transaction.atomic():
        # the line and its account (the statement import's lock) in one statement
        line = locked(BankStatementLine.objects.select_related("account").filter(pk=line_id)).get()
        if line.transaction_id is not None:
            tx = line.transaction
            tx.replayed = True
            return tx
        if line.match != BankStatementLine.Match.UNMATCHED and not _kept_to_return(line):
            raise ValidationError("参考号相符但金额不符的流水须先核实原记账，不能直接补记。")
        institution_id = line.account.institution_id
        tx = _post(
            kind=Kind.ADJUSTMENT,
            institution_id=institution_id,
            entries=[(escrow_account_code(institution_id), line.amount),
                     (f"bank_adjustment:inst:{institution_id}", -line.amount)],
            key=f"BANKLINE-{line.pk}",
            actor=actor,
            memo=memo.strip(),
        )  # fmt: skip
        line.transaction = tx
        line.match = BankStatementLine.Match.MATCHED
        line.save(update_fields=["transaction", "match"])
        audit_record(
            actor=actor,
            action="institutions.escrow.bank_line_booked",
            obj=line,
            new={"transaction": tx.pk, "amount": line.amount, "memo": memo.strip()},
        )
    return tx


# --- reads shared by the staff pages and the nightly checks ---------------------------


def escrow_balances(institution_ids) -> dict[int, Decimal]:
    """The ledger balance of each institution's escrow account (one query)."""
    codes = {escrow_account_code(i): i for i in institution_ids}
    found = ledger.balances(EscrowEntry, codes)
    return {i: found[code] for code, i in codes.items()}


def unconsumed_values(institution_ids) -> dict[int, Decimal]:
    """The value of the lessons not yet consumed of each institution's escrow-supervised
    purchases still running (one query; Purchase.value_of's rounding)."""
    totals = dict.fromkeys(institution_ids, Decimal("0.00"))
    rows = Purchase.objects.filter(
        institution_id__in=list(totals), status=Status.ACTIVE, supervision="escrow"
    ).only("institution_id", "amount", "lessons", "lessons_consumed", "status")
    for purchase in rows:
        totals[purchase.institution_id] += purchase.unconsumed_value
    return totals


@dataclass(frozen=True)
class AccountState:
    account: SupervisedAccount
    have: Decimal  # escrow: ledger balance; deposit: the deposit
    need: Decimal  # escrow: value of unconsumed lessons; deposit: the required amount
    level: str  # "", "yellow", "red"


def account_states(accounts, policy: EscrowPolicy | None = None) -> list[AccountState]:
    """Each supervised account against what it must cover (a constant number of queries;
    ``accounts`` with their institution selected)."""
    policy = policy or EscrowPolicy.current()
    accounts = list(accounts)
    escrow_ids = [a.institution_id for a in accounts if a.kind == SupervisedAccount.Kind.ESCROW]
    balances = escrow_balances(escrow_ids)
    unconsumed = unconsumed_values(escrow_ids)
    states = []
    for a in accounts:
        if a.kind == SupervisedAccount.Kind.ESCROW:
            have, need = balances[a.institution_id], unconsumed[a.institution_id]
        else:
            have, need = a.deposit_amount, policy.deposit_required(a.institution.scale)
        states.append(AccountState(a, have, need, policy.level(have, need)))
    return states


WARNING_SQL = """
WITH acc AS (
    SELECT a.institution_id, a.kind, a.deposit_amount, i.scale
    FROM institutions_supervisedaccount a
    JOIN institutions_institution i ON i.id = a.institution_id
    WHERE a.active AND i.district_id = %(district)s
),
bal AS (
    SELECT e.account, SUM(e.amount) AS have
    FROM institutions_escrowentry e
    WHERE e.account IN (SELECT 'escrow:inst:' || institution_id FROM acc WHERE kind = 'escrow')
    GROUP BY e.account
),
unc AS (  -- Purchase.unconsumed_value: amount less value_of(lessons_consumed), half up
    SELECT p.institution_id,
           SUM(p.amount - CASE WHEN p.lessons_consumed >= p.lessons THEN p.amount
                               ELSE ROUND(p.amount * p.lessons_consumed / p.lessons, 2) END) AS need
    FROM institutions_purchase p
    WHERE p.status = 'active' AND p.supervision = 'escrow'
      AND p.institution_id IN (SELECT institution_id FROM acc WHERE kind = 'escrow')
    GROUP BY p.institution_id
),
state AS (
    SELECT CASE WHEN acc.kind = 'escrow' THEN COALESCE(bal.have, 0) ELSE acc.deposit_amount END
               AS have,
           CASE WHEN acc.kind = 'escrow' THEN COALESCE(unc.need, 0)
                ELSE GREATEST(%(minimum)s, ROUND(%(per_student)s * acc.scale, 2)) END AS need
    FROM acc
    LEFT JOIN bal ON bal.account = 'escrow:inst:' || acc.institution_id
    LEFT JOIN unc ON unc.institution_id = acc.institution_id
)
SELECT CASE WHEN need <= 0 THEN ''
            WHEN have * 100 / need < %(red)s THEN 'red'
            WHEN have * 100 / need < %(yellow)s THEN 'yellow'
            ELSE '' END AS level,
       COUNT(*)
FROM state GROUP BY 1
"""


def warning_levels(district) -> dict[str, int]:
    """How many of a district's active supervised accounts are at each warning level, as
    ``account_states`` and ``EscrowPolicy.level`` judge them, in one SQL statement (the
    dashboard; a district has thousands of accounts). {"": n, "yellow": n, "red": n}"""
    policy = EscrowPolicy.current()
    with connection.cursor() as cursor:
        cursor.execute(WARNING_SQL, {
            "district": district.pk, "minimum": policy.deposit_minimum,
            "per_student": policy.deposit_per_student, "red": policy.red_below_percent,
            "yellow": policy.yellow_below_percent,
        })  # fmt: skip
        found = dict(cursor.fetchall())
    return {level: found.get(level, 0) for level in ("", "yellow", "red")}
