"""Refunds of parents' prepaid fees (退费, issue 16 parts 5 and 7): every write, one service
per change.

The parent's request (``request_ask``): the refund of the unconsumed part of a paid
purchase (status 履行中), with a reason; one open request per purchase (the database's
partial UNIQUE index, ``refundrequest_one_open``). The institution's 管理员 or 财务 answers
(``request_answer``) by the deadline, PORTAL_REFUND_ANSWER_DAYS calendar days after the day
of the request (the day itself is day 0; the institution may answer on the deadline day).
Agreeing pays at once through ``escrow.refund_unconsumed`` (per lesson: the value of what is
not consumed at that moment; never twice: the escrow's purchase lock and its idempotency key
``REFUND-REQ-<id>``). A refusal goes to the bureau at once; no answer by the deadline goes
there with the nightly ``escalate_overdue``. The bureau's 校外培训 staff decide
(``request_decide``): refund (paid the same way) or reject, with a reason.

The bureau's batch (``batch_run``) for a closed or suspended institution (卷钱跑路): every
purchase still 履行中 gets back what the escrow holds for it (``escrow.refund_full``), each
purchase in its own transaction, its ``RefundBatchLine`` written with the refund; a re-run
finds the line (or the purchase no longer 履行中) and pays nothing twice. A purchase under
风险保证金 (supervision "deposit") has no money in the escrow: the institution collected it
itself, so nothing is paid from the ledger and its whole unconsumed value is the shortfall,
for the bureau to cover from the risk deposit outside this ledger.

Lock order: a RefundRequest row, then its Purchase (taken inside the escrow's services).
``request_ask`` locks only the purchase; the batch locks a purchase's open requests first.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from institutions import escrow
from institutions.account_models import InstitutionStaff
from institutions.escrow_models import EscrowEntry, Purchase
from institutions.models import Institution
from institutions.refund_models import RefundBatch, RefundBatchLine, RefundRequest
from portal import ledger
from portal.access import kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.notices import line_staff, notify
from portal.permissions import PARENT, is_bureau, is_institution_staff, require

S = RefundRequest.Status
ANSWER_ROLES = (InstitutionStaff.Role.ADMIN, InstitutionStaff.Role.FINANCE)
ZERO = Decimal("0.00")
DEPOSIT_NOTE = "风险保证金监管：预收费由机构自行收取，托管账户无资金可退，缺口由风险保证金另行赔付"


def _today(today):
    return today or timezone.localdate()


def _reason(value, field: str, *, required: bool, label: str) -> str:
    text = (value or "").strip()
    cap = settings.PORTAL_REFUND_REASON_MAX_CHARS
    if required and not text:
        raise ValidationError({field: f"请填写{label}。"})
    if len(text) > cap:
        raise ValidationError({field: f"{label}最多 {cap} 个字，现为 {len(text)} 个字。"})
    return text


def answer_deadline(asked_on: dt.date) -> dt.date:
    """The last day the institution may answer a request made on ``asked_on``."""
    return asked_on + dt.timedelta(days=settings.PORTAL_REFUND_ANSWER_DAYS)


def is_overdue(request: RefundRequest, today=None) -> bool:
    return request.status == S.PENDING and _today(today) > request.deadline


def unconsumed_lessons(purchase: Purchase) -> int:
    return purchase.lessons - purchase.lessons_consumed


# --- who is told ----------------------------------------------------------------------------


def institution_users(institution_id: int) -> list[int]:
    """The institution's active 管理员 and 财务, who answer refund requests."""
    return list(
        InstitutionStaff.objects.filter(
            institution_id=institution_id, active=True, role__in=ANSWER_ROLES
        ).values_list("user_id", flat=True)
    )


def _parent_users(purchase: Purchase) -> list[int]:
    if purchase.parent_id is None:
        return []
    from portal.models import Parent

    return list(Parent.objects.filter(pk=purchase.parent_id).values_list("user_id", flat=True))


def _url(name: str, request: RefundRequest) -> str:
    """Where a notice about ``request`` leads: the parent's status page ("status"), the
    institution's answer page ("answer") or the bureau's decision page ("decide")."""
    return reverse(f"refunds:{name}", args=[request.pk])


# --- the parent asks ------------------------------------------------------------------------


def ask_refusal(purchase: Purchase) -> str | None:
    """Why a refund of ``purchase`` cannot be asked now (Chinese), or None."""
    if purchase.status != Purchase.Status.ACTIVE:
        return f"该预收费状态为“{purchase.get_status_display()}”，不能申请退费。"
    if unconsumed_lessons(purchase) <= 0:
        return "该课程已全部消课，没有可退的未消课费用。"
    if purchase.refund_requests.filter(status__in=RefundRequest.OPEN).exists():
        return "该预收费已有一份退费申请正在办理，请等待答复。"
    return None


def request_ask(*, actor, purchase_id: int, reason: str, today=None) -> RefundRequest:
    """The parent whose purchase it is asks for the refund of the unconsumed part."""
    require(kind_of(actor) == PARENT)
    reason = _reason(reason, "reason", required=True, label="退费原因")
    today = _today(today)
    with transaction.atomic():
        purchase = locked(
            Purchase.objects.select_related("institution", "course").filter(pk=purchase_id),
            of=("self",),
        ).get()
        # another parent's purchase is not theirs to see: the view gives a 404 before this
        require(purchase.parent_id is not None and purchase.parent.user_id == actor.pk)
        refusal = ask_refusal(purchase)
        if refusal:
            raise ValidationError({"reason": refusal})
        try:
            with transaction.atomic():  # savepoint: the partial UNIQUE index is the last word
                request = RefundRequest.objects.create(
                    purchase=purchase, reason=reason, asked_by=actor,
                    deadline=answer_deadline(today),
                )  # fmt: skip
        except IntegrityError:
            raise ValidationError(
                {"reason": "该预收费已有一份退费申请正在办理，请等待答复。"}
            ) from None
        audit_record(
            actor=actor, action="institutions.refund.asked", obj=request,
            new={"purchase": purchase.pk, "reason": reason, "deadline": request.deadline,
                 "unconsumed_lessons": unconsumed_lessons(purchase),
                 "unconsumed_value": purchase.unconsumed_value},
        )  # fmt: skip
        notify(
            institution_users(purchase.institution_id),
            key=f"refund:{request.pk}:asked",
            message=f"家长申请退还{purchase.course.name}未消课费用（{request}），请在 "
            f"{request.deadline} 前答复。",
            url=_url("answer", request),
        )
    return request


# --- paying a decision ----------------------------------------------------------------------


def _pay(request: RefundRequest, *, actor, today, lock: bool):
    """Pay the refund of the unconsumed part (the caller holds the request's lock); returns
    (transaction or None, amount)."""
    tx = escrow.refund_unconsumed(
        actor=actor, purchase_id=request.purchase_id, reason=request.reason[:300],
        idempotency_key=f"REFUND-REQ-{request.pk}", today=today, lock=lock,
    )  # fmt: skip
    if tx is None:
        return None, ZERO
    purchase_account = f"parent_prepaid:purchase:{request.purchase_id}"
    amount = sum(
        EscrowEntry.objects.filter(transaction=tx, account=purchase_account).values_list(
            "amount", flat=True
        ),
        ZERO,
    )
    return tx, amount


def _locked_request(request_id: int) -> RefundRequest:
    return locked(
        RefundRequest.objects.select_related("purchase", "purchase__course").filter(pk=request_id),
        of=("self",),
    ).get()


def _paid_message(request, amount) -> str:
    if amount > 0:
        return f"已退还未消课费用 {amount} 元（{request}）。"
    return f"经核对已无未消课费用可退（{request}）。"


# --- the institution answers ----------------------------------------------------------------


def request_answer(
    *, actor, request_id: int, agree: bool, reason: str = "", today=None, lock: bool = True
) -> RefundRequest:
    """The institution's 管理员 or 财务 agrees (paid at once) or refuses with a reason (to the
    bureau at once), by the deadline. The same answer again changes nothing.
    ``lock=False`` only for the concurrency control test (the escrow's purchase lock off)."""
    today = _today(today)
    reason = _reason(reason, "reason", required=not agree, label="拒绝理由")
    with transaction.atomic():
        request = _locked_request(request_id)
        require(
            is_institution_staff(
                actor, roles=ANSWER_ROLES, institution_id=request.purchase.institution_id
            )
        )
        current = S(request.status)
        if agree and current in (S.AGREED, S.REFUNDED) and request.answered_by_id:
            return request
        if not agree and current == S.REFUSED:
            return request
        if current != S.PENDING:
            raise ValidationError(f"该退费申请当前为“{current.label}”，机构不能再答复。")
        if today > request.deadline:
            raise ValidationError(
                f"答复期限（{request.deadline}）已过，该申请将转教育局处理，机构不能再答复。"
            )
        request.answered_by = actor
        request.answered_at = timezone.now()
        request.answer_reason = reason
        fields = ["answered_by", "answered_at", "answer_reason", "status", "updated_at"]
        if agree:
            tx, amount = _pay(request, actor=actor, today=today, lock=lock)
            request.status = S.REFUNDED if tx is not None else S.AGREED
            request.transaction = tx
            request.refund_amount = amount
            fields += ["transaction", "refund_amount"]
        else:
            request.status = S.REFUSED
        request.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="institutions.refund.agreed" if agree else "institutions.refund.refused",
            obj=request, old={"status": current},
            new={"status": request.status, "reason": reason,
                 "amount": request.refund_amount if agree else None,
                 "transaction": request.transaction_id},
        )  # fmt: skip
        parent = _parent_users(request.purchase)
        if agree:
            notify(parent, key=f"refund:{request.pk}:agreed",
                   message="机构已同意退费：" + _paid_message(request, request.refund_amount),
                   url=_url("status", request))  # fmt: skip
        else:
            notify(parent, key=f"refund:{request.pk}:refused",
                   message=f"机构拒绝了您的退费申请（{request}）：{reason}。已转教育局处理。",
                   url=_url("status", request))  # fmt: skip
            notify(line_staff("institutions"), key=f"refund:{request.pk}:refused",
                   message=f"机构拒绝退费，请教育局处理（{request}）。",
                   url=_url("decide", request))  # fmt: skip
    return request


# --- the nightly sweep ----------------------------------------------------------------------


def escalate_overdue(*, today) -> int:
    """Requests still unanswered after their deadline go to the bureau (已转教育局); each in
    its own transaction, re-checked under its lock; returns how many moved."""
    candidates = list(
        RefundRequest.objects.filter(status=S.PENDING, deadline__lt=today).values_list(
            "pk", flat=True
        )
    )
    moved = 0
    for pk in candidates:
        with transaction.atomic():
            request = _locked_request(pk)
            if request.status != S.PENDING or request.deadline >= today:
                continue  # answered meanwhile
            request.status = S.ESCALATED
            request.escalated_at = timezone.now()
            request.save(update_fields=["status", "escalated_at", "updated_at"])
            audit_record(
                actor="system", action="institutions.refund.escalated", obj=request,
                old={"status": S.PENDING},
                new={"status": S.ESCALATED, "deadline": request.deadline, "today": today},
            )  # fmt: skip
            notify(line_staff("institutions"), key=f"refund:{request.pk}:escalated",
                   message=f"机构逾期未答复退费申请，已转教育局（{request}）。",
                   url=_url("decide", request))  # fmt: skip
            notify(_parent_users(request.purchase), key=f"refund:{request.pk}:escalated",
                   message=f"机构未在期限内答复您的退费申请，已转教育局处理（{request}）。",
                   url=_url("status", request))  # fmt: skip
            notify(institution_users(request.purchase.institution_id),
                   key=f"refund:{request.pk}:escalated",
                   message=f"退费申请逾期未答复，已转教育局处理（{request}）。",
                   url=_url("answer", request))  # fmt: skip
            moved += 1
    return moved


# --- the bureau decides ---------------------------------------------------------------------


def bureau_may_decide(request: RefundRequest, today=None) -> bool:
    """Refused, escalated, or past its deadline (before the nightly sweep moved it)."""
    return request.status in RefundRequest.FOR_BUREAU or is_overdue(request, today)


def request_decide(
    *, actor, request_id: int, refund: bool, reason: str, today=None, lock: bool = True
) -> RefundRequest:
    """The bureau's 校外培训 staff decide a refused or overdue request: refund (paid at once)
    or reject, with a reason either way. The same decision again changes nothing."""
    require(is_bureau(actor, line="institutions"))
    today = _today(today)
    reason = _reason(reason, "reason", required=True, label="决定理由")
    with transaction.atomic():
        request = _locked_request(request_id)
        current = S(request.status)
        if request.decided_at is not None:
            done = (
                current in (S.BUREAU_REFUND, S.REFUNDED)
                if refund
                else (current == S.BUREAU_REJECTED)
            )
            if done:
                return request
        if not bureau_may_decide(request, today):
            raise ValidationError(f"该退费申请当前为“{current.label}”，不需要教育局决定。")
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_reason = reason
        fields = ["decided_by", "decided_at", "decision_reason", "status", "updated_at"]
        if refund:
            tx, amount = _pay(request, actor=actor, today=today, lock=lock)
            request.status = S.REFUNDED if tx is not None else S.BUREAU_REFUND
            request.transaction = tx
            request.refund_amount = amount
            fields += ["transaction", "refund_amount"]
        else:
            request.status = S.BUREAU_REJECTED
        request.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="institutions.refund.decided_refund" if refund
            else "institutions.refund.decided_reject",
            obj=request, old={"status": current},
            new={"status": request.status, "reason": reason,
                 "amount": request.refund_amount if refund else None,
                 "transaction": request.transaction_id},
        )  # fmt: skip
        if refund:
            words = "教育局决定退费：" + _paid_message(request, request.refund_amount)
        else:
            words = f"教育局驳回了退费申请（{request}）：{reason}。"
        notify(_parent_users(request.purchase), key=f"refund:{request.pk}:decided",
               message=words, url=_url("status", request))  # fmt: skip
        notify(institution_users(request.purchase.institution_id),
               key=f"refund:{request.pk}:decided", message=words,
               url=_url("answer", request))  # fmt: skip
    return request


# --- the batch of a closed or suspended institution -----------------------------------------


def batch_refusal(institution: Institution) -> str | None:
    """Why the bureau may not run the batch refund for ``institution`` (None: it may): only a
    suspended (暂停办学) or closed institution (许可证吊销, 注销) is refunded in a batch."""
    closed = institution.licence_revoked or institution.governance in (
        Institution.Governance.DEREGISTERED,
        Institution.Governance.DEREGISTERING,
    )
    if institution.suspended_reason or closed:
        return None
    return (
        f"{institution.name}未被暂停办学、吊销许可证或注销，不能批量退费；"
        "个别家长的退费请走退费申请。"
    )


@dataclass
class BatchRow:
    purchase: Purchase
    paid: Decimal
    unconsumed: Decimal
    refundable: Decimal  # what the escrow holds for it (0 under 风险保证金)
    listed: bool  # already in an earlier batch (a deposit purchase: nothing more to pay)

    @property
    def shortfall(self) -> Decimal:
        return max(ZERO, self.unconsumed - self.refundable)


def batch_rows(institution: Institution) -> list[BatchRow]:
    """Each purchase still 履行中 with what a batch would pay now (two queries)."""
    purchases = list(
        Purchase.objects.filter(institution=institution, status=Purchase.Status.ACTIVE)
        .select_related("batch_line")
        .order_by("pk")
    )
    accounts = {p.account: p for p in purchases}
    sums = {}
    for account, kind, amount in (
        EscrowEntry.objects.filter(account__in=list(accounts))
        .values("account", "transaction__kind")
        .annotate(s=Sum("amount"))
        .values_list("account", "transaction__kind", "s")
    ):
        sums.setdefault(account, {})[kind] = amount
    rows = []
    K = escrow.Kind
    for p in purchases:
        by_kind = sums.get(p.account, {})
        paid = -(by_kind.get(K.PURCHASE) or ZERO)
        out = (
            (by_kind.get(K.RELEASE) or ZERO)
            + (by_kind.get(K.REFUND) or ZERO)
            + (by_kind.get(K.REFUND_FULL) or ZERO)
        )
        held = paid - out
        listed = hasattr(p, "batch_line")
        refundable = held if p.supervision == "escrow" and not listed else ZERO
        rows.append(BatchRow(p, paid, p.unconsumed_value, refundable, listed))
    return rows


def _batch_one(*, actor, batch: RefundBatch, purchase_id: int, reason: str):
    with transaction.atomic():
        # lock order: the purchase's open requests, then the purchase (as request_answer)
        open_requests = list(
            locked(
                RefundRequest.objects.filter(
                    purchase_id=purchase_id, status__in=RefundRequest.OPEN
                ),
                of=("self",),
            ).order_by("pk")
        )
        purchase = locked(Purchase.objects.filter(pk=purchase_id), of=("self",)).get()
        if purchase.status != Purchase.Status.ACTIVE:
            return None  # refunded meanwhile
        if RefundBatchLine.objects.filter(purchase_id=purchase_id).exists():
            return None  # in an earlier batch
        sums = escrow.purchase_sums(purchase)
        unconsumed = purchase.unconsumed_value
        tx, refunded, note = None, ZERO, ""
        if purchase.supervision == "escrow":
            tx = escrow.refund_full(
                actor=actor, purchase_id=purchase.pk, reason=reason,
                idempotency_key=f"REFUND-FULL-{purchase.pk}",
            )  # fmt: skip
            if tx is not None:
                refunded = sums.held
        else:
            note = (
                "风险保证金监管：预收费由机构自行收取，托管账户无资金可退，缺口由风险保证金另行赔付"
            )
        shortfall = max(ZERO, unconsumed - refunded)
        line = RefundBatchLine.objects.create(
            batch=batch, purchase=purchase, supervision=purchase.supervision, paid=sums.paid,
            unconsumed=unconsumed, refunded=refunded, shortfall=shortfall, transaction=tx,
            note=note,
        )  # fmt: skip
        for request in open_requests:
            old = request.status
            request.status = S.REFUNDED if tx is not None else S.BUREAU_REFUND
            request.decided_by = actor
            request.decided_at = timezone.now()
            request.decision_reason = f"停业机构批量退费（第 {batch.pk} 批）：{reason}"[:300]
            request.transaction = tx
            request.refund_amount = refunded
            request.save(update_fields=["status", "decided_by", "decided_at",
                                        "decision_reason", "transaction", "refund_amount",
                                        "updated_at"])  # fmt: skip
            audit_record(actor=actor, action="institutions.refund.decided_refund", obj=request,
                         old={"status": old}, new={"status": request.status, "batch": batch.pk,
                                                   "amount": refunded})  # fmt: skip
        audit_record(
            actor=actor, action="institutions.refund.batch_refunded", obj=purchase,
            new={"batch": batch.pk, "paid": sums.paid, "unconsumed": unconsumed,
                 "refunded": refunded, "shortfall": shortfall, "transaction": tx,
                 "supervision": purchase.supervision},
        )  # fmt: skip
        if shortfall > 0:
            words = (f"{purchase.institution.name}已停止办学，教育局已为您退还 {refunded} 元，"
                     f"尚有 {shortfall} 元未能从托管资金退还，将另行处理。")  # fmt: skip
        else:
            words = f"{purchase.institution.name}已停止办学，教育局已为您全额退还 {refunded} 元。"
        notify(_parent_users(purchase), key=f"refund:batch:{purchase.pk}", message=words,
               url=reverse("refunds:mine"))  # fmt: skip
        return line


def batch_run(*, actor, institution_id: int, reason: str) -> RefundBatch:
    """Refund every buyer of a closed or suspended institution (the bureau's confirmed run).
    Each purchase in its own transaction; one that fails (a lock that timed out, the ledger's
    check) is listed in ``failed`` and left as it was, for a re-run."""
    require(is_bureau(actor, line="institutions"))
    reason = _reason(reason, "reason", required=True, label="退费事由")
    institution = Institution.objects.get(pk=institution_id)
    refusal = batch_refusal(institution)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        batch = RefundBatch.objects.create(institution=institution, reason=reason, run_by=actor)
        audit_record(actor=actor, action="institutions.refund.batch_started", obj=institution,
                     new={"batch": batch.pk, "reason": reason})  # fmt: skip
    ids = list(
        Purchase.objects.filter(institution=institution, status=Purchase.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done, failed = 0, []
    for pk in ids:
        try:
            line = _batch_one(actor=actor, batch=batch, purchase_id=pk, reason=reason)
        except (ValidationError, DatabaseError, ledger.LedgerError) as exc:
            message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            failed.append({"purchase": pk, "error": message[:200]})
            continue
        done += line is not None
    with transaction.atomic():
        batch.purchases = done
        batch.failed = failed
        batch.save(update_fields=["purchases", "failed"])
        audit_record(actor=actor, action="institutions.refund.batch_finished", obj=institution,
                     new={"batch": batch.pk, "purchases": done, "failed": failed})  # fmt: skip
    return batch
