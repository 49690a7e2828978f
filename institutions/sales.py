"""Selling through the escrow (预收费监管, the national way): the institution records the
sale, the parent accepts the contract and pays into the supervised account, and only then
is the purchase running (履行中, Purchase.Status.ACTIVE: money held).

The flow, one service per step (each opens its transaction, checks who, locks the purchase
row through portal.locks.locked, re-reads the state, moves it along Purchase.TRANSITIONS,
writes and audits):

  sale_offer       institution staff (管理员 or 教务/前台): parent by phone, course, lessons,
                   amount, dates; refused over the caps (escrow.cap_problems), for a course
                   not sellable, for an institution that may not sell (black, suspended),
                   without an active supervised account. The 示范文本 (ContractTemplate, its
                   latest version) is filled in and frozen on a SaleContract. -> OFFERED
  offer_accept     the parent, with the SHA-256 of the text they were shown. -> ACCEPTED
  offer_decline    the parent. -> CANCELLED;  sale_cancel: the institution. -> CANCELLED
  offer_lapse      an offer unanswered PORTAL_SALE_OFFER_DAYS after it was made. -> EXPIRED
                   (lazily when the parent opens or accepts it; ``offers_expire`` is the
                   nightly sweep)
  payment          through afterschool/payments.py's providers:
                   * transfer: the parent transfers to the supervised account with the
                     purchase's reference (its idempotency key) in the memo; the bureau's
                     statement import (escrow.statement_import / statement_rematch) calls
                     ``transfer_lines_book``, which books each new line carrying a sale's
                     reference; statement_match then pairs the line with the posting.
                   * sandbox (never in production): the gateway's signed notification
                     (``sale_notify``, the HTTP callback sales:notify; ``sandbox_complete``,
                     the gateway page), checked by payments.verify_notification.
                   Each notice is a SaleNotice, unique per (provider, event id; a bank line's
                   id for a transfer): a replay writes nothing. The right amount for a sale
                   awaiting payment posts Kind.PURCHASE (escrow.purchase_paid) -> ACTIVE.
                   Any other money (another amount, a sale not awaiting payment, twice) is
                   NOT booked as the sale's payment: the notice is kept with its outcome
                   (mismatch / not_payable) and shown on the sale's pages and in the nightly
                   check institutions.sale.money_to_return, and a transfer's bank line stays
                   open on the bureau's reconciliation page (booked by staff with
                   escrow.bank_line_book when it is returned): money that arrives is never
                   lost, and never silently becomes a payment it was not.

Linking to the parent's account: a sale names the parent by phone number. When exactly one
portal.Parent has that number the purchase is theirs at once; otherwise (no account yet, or
the number shared by two accounts: then nobody) it waits, and ``parent_sales_link`` (called
on every login by the receiver in sale_models.py) links the unlinked sales with the
logged-in parent's number, when that number is theirs alone. The institution never sees the
number whole again after the sale (Purchase.masked_phone on its pages and in the contract).
"""

import datetime as dt
import hashlib
import re
import secrets
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from afterschool import payments
from institutions import accounts, escrow
from institutions.escrow_models import BankStatementLine, Purchase
from institutions.models import Course, SupervisedAccount
from institutions.sale_models import ContractTemplate, SaleContract, SaleNotice
from portal.access import PARENT, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.models import Parent, mask_phone
from portal.permissions import is_bureau, is_institution_staff, require

Status = Purchase.Status
SELLERS = ("admin", "desk")  # 管理员, 教务/前台 (InstitutionStaff.Role)
MOBILE_RE = re.compile(r"^1\d{10}$")  # portal.Parent.phone's rule: 11 digits from 1


# --- the contract -----------------------------------------------------------------------

# The placeholders of the 示范文本 and what fills them. The parent's phone only masked:
# the contract is also shown to the institution.
PLACEHOLDERS = {
    "机构名称": lambda p: p.institution.name,
    "统一社会信用代码": lambda p: p.institution.credit_code,
    "办学许可证号": lambda p: p.institution.licence_number or "（无）",
    "家长姓名": lambda p: p.parent_name,
    "家长手机号": lambda p: mask_phone(p.parent_phone),
    "课程名称": lambda p: p.course.name,
    "科目": lambda p: p.course.get_subject_display(),
    "每课时分钟": lambda p: str(p.course.lesson_minutes),
    "课时数": lambda p: str(p.lessons),
    "金额": lambda p: f"{p.amount}",
    "服务开始": lambda p: f"{p.starts_on:%Y年%m月%d日}",
    "服务结束": lambda p: f"{p.ends_on:%Y年%m月%d日}",
    "监管方式": lambda p: p.get_supervision_display(),
    "监管银行": lambda p: p._account.bank,
    "监管账户名称": lambda p: p._account.account_name,
    "监管账号": lambda p: p._account.account_number,
    "释放规则": lambda p: p.get_release_kind_display(),
    "付款参考号": lambda p: p.idempotency_key,
}
PLACEHOLDER_RE = re.compile(r"\{([^{}\n]{1,20})\}")


def contract_fill(body: str, purchase: Purchase) -> str:
    """The template's text with the sale's data; an unknown placeholder stays as written."""

    def value(match):
        fill = PLACEHOLDERS.get(match.group(1).strip())
        return fill(purchase) if fill else match.group(0)

    return PLACEHOLDER_RE.sub(value, body)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def contract_template_publish(*, actor, title: str, body: str, note: str = "") -> ContractTemplate:
    """The bureau's 校外培训 staff publish a new version of the 示范文本 (an edit in the
    admin is a new version; the earlier ones stay, as the contracts issued under them)."""
    require(is_bureau(actor, line="institutions", perm="institutions.add_contracttemplate"))
    errors = {}
    if not (title or "").strip():
        errors["title"] = "请填写合同标题。"
    elif len(title.strip()) > 200:
        errors["title"] = "合同标题不能超过 200 个字。"
    if not (body or "").strip():
        errors["body"] = "请填写合同正文。"
    unknown = sorted({m.strip() for m in PLACEHOLDER_RE.findall(body or "")} - set(PLACEHOLDERS))
    if unknown:
        errors["body"] = (
            f"正文中有无法填写的占位符：{'、'.join('{' + u + '}' for u in unknown)}；"
            f"可用：{'、'.join('{' + k + '}' for k in PLACEHOLDERS)}。"
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # versions one after another: the table's lock for the moment of the insert (two
        # editors saving at once would otherwise both take "last + 1")
        last = locked(ContractTemplate.objects.order_by("-version")).first()
        template = ContractTemplate.objects.create(
            version=(last.version + 1) if last else 1, title=title.strip(), body=body.strip(),
            note=(note or "").strip()[:300],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="institutions.sale.contract_published",
            obj=template,
            new={"version": template.version, "sha256": text_hash(template.body)},
        )
    return template


def current_template() -> ContractTemplate | None:
    return ContractTemplate.objects.order_by("-version").first()


# --- who may sell what --------------------------------------------------------------------


def course_refusal(course: Course) -> str | None:
    """Why ``course`` may not be sold now (None: it may). The org helper's
    accounts.course_sellable (备案 approved and on sale) when it exists; until then the course
    must be on sale and its filing approved. Then the institution's own refusal."""
    sellable = getattr(accounts, "course_sellable", None)
    if sellable is not None:
        why = sellable(course)
    elif not course.active:
        why = f"课程“{course.name}”已停售，不能销售。"
    elif getattr(course, "filing", Course.Filing.APPROVED) != Course.Filing.APPROVED:
        why = f"课程“{course.name}”尚未备案通过，不能销售。"
    else:
        why = None
    return why or accounts.selling_refusal(course.institution)


def _new_key() -> str:
    """The purchase's reference: its idempotency key, the ledger key of its payment and what
    the parent writes in the transfer's memo (short, unambiguous letters and digits)."""
    return f"SL{timezone.localdate():%Y%m%d}{secrets.token_hex(4).upper()}"


def _only_parent(phone: str) -> Parent | None:
    """The portal parent whose phone this is, when exactly one has it."""
    found = list(Parent.objects.filter(phone=phone).select_related("user")[:2])
    return found[0] if len(found) == 1 else None


def sale_offer(
    *, actor, course_id: int, parent_name: str, parent_phone: str, lessons, amount,
    starts_on: dt.date, ends_on: dt.date,
) -> Purchase:  # fmt: skip
    """Institution staff record a sale (待家长确认). See the module's docstring."""
    require(is_institution_staff(actor, roles=SELLERS))
    institution_id = actor.institution_staff.institution_id
    phone = (parent_phone or "").strip().replace(" ", "").replace("-", "")
    name = (parent_name or "").strip()
    errors = {}
    if not name:
        errors["parent_name"] = "请填写家长姓名。"
    elif len(name) > 50:
        errors["parent_name"] = "家长姓名不能超过 50 个字。"
    if not MOBILE_RE.match(phone):
        errors["parent_phone"] = "请填写家长的 11 位手机号码（以 1 开头）。"
    try:
        amount = escrow._money(amount, "amount")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        amount = None
    if not isinstance(lessons, int) or isinstance(lessons, bool) or lessons < 1:
        errors["lessons"] = "购买课时至少为 1。"
    elif not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        errors["ends_on"] = "请填写服务开始和结束日期。"
    elif ends_on < starts_on:
        errors["ends_on"] = "服务结束日期不能早于开始日期。"
    elif amount is not None:
        errors.update(
            escrow.cap_problems(lessons=lessons, amount=amount, starts_on=starts_on,
                                ends_on=ends_on)
        )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        course = Course.objects.select_related("institution").filter(pk=course_id).first()
        if course is None or course.institution_id != institution_id:
            raise PermissionDenied  # another institution's course (the view answers 404)
        why = course_refusal(course)
        if why:
            raise ValidationError({"course": why})
        institution = course.institution
        account = SupervisedAccount.objects.filter(institution=institution, active=True).first()
        if account is None:
            raise ValidationError(
                f"{institution.name}没有有效的资金监管账户（银行托管或风险保证金），"
                "不得收取预收费。"
            )
        template = current_template()
        if template is None:
            raise ValidationError("教育局尚未发布培训合同示范文本，暂不能登记销售。")
        parent = _only_parent(phone)
        purchase = Purchase.objects.create(
            institution=institution, course=course, parent_name=name, parent_phone=phone,
            parent=parent, lessons=lessons, amount=amount, starts_on=starts_on, ends_on=ends_on,
            status=Status.OFFERED, supervision=account.kind, idempotency_key=_new_key(),
            offer_expires_at=timezone.now() + dt.timedelta(days=settings.PORTAL_SALE_OFFER_DAYS),
            recorded_by=actor, **escrow._release_terms(institution),
        )  # fmt: skip
        purchase._account = account
        text = contract_fill(template.body, purchase)
        contract = SaleContract.objects.create(
            purchase=purchase, template=template, text=text, text_sha256=text_hash(text)
        )
        audit_record(
            actor=actor,
            action="institutions.sale.offered",
            obj=purchase,
            new={"course": course.pk, "parent_phone": mask_phone(phone),
                 "parent_linked": parent is not None, "lessons": lessons, "amount": amount,
                 "starts_on": starts_on, "ends_on": ends_on, "template": template.version,
                 "contract_sha256": contract.text_sha256, "reference": purchase.idempotency_key},
        )  # fmt: skip
    return purchase


def parent_sales_link(user) -> int:
    """Link the sales recorded with this parent's phone number and no account yet (the
    login receiver); only when no other portal parent has the number. Returns how many."""
    if kind_of(user) != PARENT:
        return 0
    parent = user.parent
    if not parent.phone or _only_parent(parent.phone) is None:
        return 0
    waiting = Purchase.objects.filter(parent__isnull=True, parent_phone=parent.phone)
    if not waiting.exists():  # the usual login: one query, nothing written
        return 0
    with transaction.atomic():
        ids = list(locked(waiting.order_by("pk")).values_list("pk", flat=True))
        Purchase.objects.filter(pk__in=ids, parent__isnull=True).update(parent=parent)
        audit_record(actor=user, action="institutions.sale.linked", obj=parent,
                     new={"purchases": ids})  # fmt: skip
    return len(ids)


# --- the parent's answer ------------------------------------------------------------------


def _lapse_due(purchase: Purchase, now) -> bool:
    return (
        purchase.status == Status.OFFERED
        and purchase.offer_expires_at is not None
        and purchase.offer_expires_at <= now
    )


def _lapse(purchase: Purchase, actor) -> None:
    escrow._move(purchase, Status.EXPIRED)
    purchase.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="institutions.sale.expired", obj=purchase,
                 old={"status": Status.OFFERED}, new={"status": Status.EXPIRED})  # fmt: skip


def _parents_locked(user, purchase_id: int) -> Purchase:
    require(kind_of(user) == PARENT)
    purchase = locked(
        Purchase.objects.filter(pk=purchase_id, parent__user=user), of=("self",)
    ).first()
    if purchase is None:
        raise PermissionDenied  # someone else's offer (the views answer 404 first)
    return purchase


def offer_accept(*, user, purchase_id: int, text_sha256: str, now=None) -> Purchase:
    """The parent accepts the contract they were shown (its SHA-256 comes back with the
    form: a text that is not the issued one is refused). Who, when, which version and the
    text's hash are kept on the SaleContract. Accepting twice changes nothing."""
    now = now or timezone.now()
    lapsed = False
    with transaction.atomic():
        purchase = _parents_locked(user, purchase_id)
        contract = SaleContract.objects.select_related("template").get(purchase=purchase)
        if purchase.status == Status.ACCEPTED and contract.accepted_by_id == user.pk:
            return purchase
        if _lapse_due(purchase, now):
            _lapse(purchase, user)
            lapsed = True
        elif purchase.status != Status.OFFERED:
            raise ValidationError(f"该笔销售{purchase.get_status_display()}，不能再确认。")
        else:
            if (text_sha256 or "").strip().lower() != contract.text_sha256:
                raise ValidationError(
                    {
                        "text_sha256": "您确认的合同文本与机构出具的不一致，"
                        "请刷新页面重新阅读后确认。"
                    }
                )
            why = accounts.selling_refusal(purchase.institution)
            if why:
                raise ValidationError(why)
            escrow._move(purchase, Status.ACCEPTED)
            purchase.save(update_fields=["status", "updated_at"])
            contract.accepted_by = user
            contract.accepted_at = now
            contract.save(update_fields=["accepted_by", "accepted_at"])
            audit_record(
                actor=user,
                action="institutions.sale.accepted",
                obj=purchase,
                old={"status": Status.OFFERED},
                new={"status": Status.ACCEPTED, "template": contract.template.version,
                     "contract_sha256": contract.text_sha256},
            )  # fmt: skip
    if lapsed:  # the lapse is committed; the parent is told
        raise ValidationError(
            f"该要约已超过 {settings.PORTAL_SALE_OFFER_DAYS} 天未确认，已过期；"
            "如仍需购买请联系机构重新登记。"
        )
    return purchase


def offer_decline(*, user, purchase_id: int) -> Purchase:
    """The parent declines the offer (or withdraws before paying)."""
    with transaction.atomic():
        purchase = _parents_locked(user, purchase_id)
        if purchase.status == Status.CANCELLED:
            return purchase
        if purchase.status not in (Status.OFFERED, Status.ACCEPTED):
            raise ValidationError(f"该笔销售{purchase.get_status_display()}，不能再拒绝。")
        old = purchase.status
        escrow._move(purchase, Status.CANCELLED)
        purchase.save(update_fields=["status", "updated_at"])
        audit_record(actor=user, action="institutions.sale.declined", obj=purchase,
                     old={"status": old}, new={"status": purchase.status})  # fmt: skip
    return purchase


def sale_cancel(*, actor, purchase_id: int, reason: str) -> Purchase:
    """The institution withdraws a sale not yet paid. Money that arrives for it later is
    not booked as its payment (a SaleNotice ``not_payable``, to be returned)."""
    require(is_institution_staff(actor, roles=SELLERS))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因。"})
    if len(reason) > 300:
        raise ValidationError({"reason": "撤销原因不能超过 300 个字。"})
    with transaction.atomic():
        purchase = locked(
            Purchase.objects.filter(
                pk=purchase_id, institution_id=actor.institution_staff.institution_id
            )
        ).first()
        if purchase is None:
            raise PermissionDenied
        if purchase.status == Status.CANCELLED:
            return purchase
        if purchase.status not in (Status.OFFERED, Status.ACCEPTED):
            raise ValidationError(f"该笔销售{purchase.get_status_display()}，不能撤销。")
        old = purchase.status
        escrow._move(purchase, Status.CANCELLED)
        purchase.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="institutions.sale.cancelled",
            obj=purchase,
            old={"status": old},
            new={"status": purchase.status, "reason": reason},
        )
    return purchase


def offer_lapse(*, purchase_id: int, now=None, actor="system") -> bool:
    """Lapse one offer if its time is over (the sweep, one transaction each)."""
    now = now or timezone.now()
    with transaction.atomic():
        purchase = locked(Purchase.objects.filter(pk=purchase_id)).get()
        if not _lapse_due(purchase, now):
            return False
        _lapse(purchase, actor)
    return True


def offers_expire(*, now=None) -> int:
    """The nightly sweep: every offer past its time lapses (for institutions/tasks.py)."""
    now = now or timezone.now()
    due = Purchase.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now)
    return sum(offer_lapse(purchase_id=pk, now=now) for pk in due.values_list("pk", flat=True))


# --- payment ---------------------------------------------------------------------------------


def _no_pause(point: str):
    pass


# Tests pause here ("read": after a notice has read the purchase's state, before it books):
# the control test shows two paid notices of one purchase both booked as its payment without
# the row lock; the real one that the lock makes the second find it paid already.
_pause = _no_pause


def _book(purchase: Purchase, *, provider: str, event_id: str, amount, status: str,
          payload: dict, actor) -> SaleNotice:  # fmt: skip
    """Apply one payment notice to a purchase whose row lock the caller holds. A notice
    already applied (same provider and event id) is returned with ``replayed`` and nothing
    is written."""
    existing = SaleNotice.objects.filter(provider=provider, event_id=event_id).first()
    if existing is not None:
        existing.replayed = True
        return existing
    if status == "failed":
        outcome = SaleNotice.Outcome.FAILED
    elif purchase.status != Status.ACCEPTED:
        outcome = SaleNotice.Outcome.NOT_PAYABLE
    elif amount != purchase.amount:
        outcome = SaleNotice.Outcome.MISMATCH
    else:
        outcome = SaleNotice.Outcome.PAID
    _pause("read")
    try:
        with transaction.atomic():  # savepoint: the same event delivered twice at once
            notice = SaleNotice.objects.create(
                provider=provider, event_id=event_id, purchase=purchase, amount=amount,
                outcome=outcome, payload={k: str(v) for k, v in payload.items()},
            )  # fmt: skip
    except IntegrityError:
        notice = SaleNotice.objects.get(provider=provider, event_id=event_id)
        notice.replayed = True
        return notice
    tx = None
    if outcome == SaleNotice.Outcome.PAID:
        tx = escrow.purchase_paid(
            purchase, actor=actor, memo=f"收取预收费（{provider} {event_id}）"[:300]
        )
    audit_record(
        actor=actor,
        action="institutions.sale.paid" if tx else "institutions.sale.notice_kept",
        obj=purchase,
        new={"provider": provider, "event_id": event_id, "amount": amount,
             "outcome": outcome, "transaction": tx.pk if tx else None},
    )  # fmt: skip
    notice.replayed = False
    return notice


def sale_notify(
    provider_code: str, body: bytes, signature: str, *, lock: bool = True
) -> SaleNotice:
    """A provider's callback for a sale (sales:notify). Checked by the provider interface
    (payments.verify_notification: offered here, signature, fields) before anything is
    read; then booked once under the purchase's lock."""
    data = payments.verify_notification(provider_code, body, signature)
    reference = data["reference"].strip().upper()
    pk = Purchase.objects.filter(idempotency_key=reference).values_list("pk", flat=True).first()
    if pk is None or not SaleContract.objects.filter(purchase_id=pk).exists():
        raise payments.InvalidNotification("没有这笔支付")
    with transaction.atomic():
        # the row lock: two notices of one purchase book one after the other (lock=False
        # only for the control test)
        rows = Purchase.objects.filter(pk=pk)
        purchase = (locked(rows) if lock else rows).get()
        return _book(
            purchase, provider=provider_code, event_id=data["event_id"], amount=data["amount"],
            status=data["status"], payload=data, actor=None,
        )  # fmt: skip


def sandbox_complete(*, user, purchase_id: int, pay: bool) -> SaleNotice:
    """The parent's choice on the sandbox gateway's page, delivered as the gateway's signed
    notification (never in production: ``payments.ProviderUnavailable``)."""
    gateway = payments.provider_offered(payments.SANDBOX)
    require(kind_of(user) == PARENT)
    purchase = Purchase.objects.filter(pk=purchase_id, parent__user=user).first()
    if purchase is None:
        raise PermissionDenied
    if purchase.status != Status.ACCEPTED:
        raise ValidationError(f"该笔销售{purchase.get_status_display()}，无需付款。")
    payable = SimpleNamespace(reference=purchase.idempotency_key, amount=purchase.amount)
    body, signature = gateway.notification(payable, status="paid" if pay else "failed")
    return sale_notify(payments.SANDBOX, body, signature)


def transfer_lines_book(*, account: SupervisedAccount, actor) -> int:
    """Book the bank lines of ``account`` that carry a sale's reference (money in, not yet
    matched, not yet seen): the statement import's step before matching; the caller holds
    the account's lock (lock order: the account, then each purchase by primary key). The
    line's id is the event id: a line is applied once. Returns how many sales were paid."""
    lines = list(
        BankStatementLine.objects.filter(account=account, amount__gt=0)
        .exclude(match=BankStatementLine.Match.MATCHED)
        .exclude(reference="")
        .order_by("date", "pk")
    )
    if not lines:
        return 0
    refs = {line.reference.strip().upper() for line in lines}
    sales = dict(
        Purchase.objects.filter(
            institution_id=account.institution_id, idempotency_key__in=refs,
            contract__isnull=False,
        ).values_list("idempotency_key", "pk")
    )  # fmt: skip
    seen = set(
        SaleNotice.objects.filter(
            provider=payments.TRANSFER, event_id__in=[f"bankline:{ln.pk}" for ln in lines]
        ).values_list("event_id", flat=True)
    )
    paid = 0
    for line in sorted(lines, key=lambda ln: (sales.get(ln.reference.strip().upper(), 0), ln.pk)):
        pk = sales.get(line.reference.strip().upper())
        event_id = f"bankline:{line.pk}"
        if pk is None or event_id in seen:
            continue
        purchase = locked(Purchase.objects.filter(pk=pk)).get()
        notice = _book(
            purchase, provider=payments.TRANSFER, event_id=event_id, amount=line.amount,
            status="paid", actor=actor,
            payload={"line": line.pk, "date": line.date, "amount": line.amount,
                     "reference": line.reference, "counterparty": line.counterparty},
        )  # fmt: skip
        paid += notice.outcome == SaleNotice.Outcome.PAID and not notice.replayed
    return paid
