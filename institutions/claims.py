"""消课 claims and the parent's confirmation (教育部等六部门《关于加强校外培训机构预收费
监管工作的通知》, 2021: money is released as lessons are consumed, 消课, and the national
model is 一课一销 after the parent confirms each lesson).

- ``claim_record``: after a lesson, the institution's 管理员 or 教务/前台 claims it for one
  or several buyers of a course at once; all of them or none (a batch is one transaction).
  Each claim raises the purchase's consumed lessons through ``escrow.lessons_consume``.
- ``claim_confirm`` / ``claim_dispute``: the parent answers each claim. A confirmation
  raises the confirmed lessons through ``escrow.lessons_confirm`` (which releases what the
  purchase's rule makes due); a dispute holds every release (``escrow.dispute_open``),
  tells the training line's staff and may also file a complaint.
- ``auto_confirm_due``: the nightly sweep; a claim unanswered PORTAL_CLAIM_CONFIRM_DAYS days
  counts as confirmed (逾期未确认，视为确认), set-based, chunk by chunk.

Locks follow escrow.py: Purchase rows by primary key, taken before any claim row changes; a
claim changes only while its purchase is locked, so a confirmation, a dispute, a second
claim of the same lesson and the nightly sweep take turns on the purchase.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from institutions import escrow
from institutions.account_models import InstitutionStaff
from institutions.claim_models import LessonClaim
from institutions.escrow_models import Purchase
from institutions.models import Course
from portal.audit import audit_record
from portal.locks import lock_timeout, locked
from portal.notices import notify
from portal.permissions import PARENT, bureau_of_line, is_institution_staff, require

S = LessonClaim.Status
P = Purchase.Status
CLAIM_ROLES = (InstitutionStaff.Role.ADMIN, InstitutionStaff.Role.DESK)
AUTO_NOTE = "逾期未确认，视为确认"


def _no_pause(point: str):
    pass


# Tests put a pause at "read": after a claim has read the purchase's existing claims and
# consumed lessons, before it writes (the concurrency pair of tests/institutions/
# test_claims_concurrency.py).
_pause = _no_pause


def confirm_days() -> int:
    return settings.PORTAL_CLAIM_CONFIRM_DAYS


def answer_by(claim: LessonClaim) -> dt.date:
    """The last day the parent may answer; the night after, the claim counts as confirmed."""
    return timezone.localdate(claim.claimed_at) + dt.timedelta(days=confirm_days())


def buyer_label(purchase: Purchase) -> str:
    """How an institution's page and its messages name a buyer: masked (the rule of the
    portal's pages), with the purchase number to tell two buyers apart."""
    return f"{purchase.masked_name}（{purchase.masked_phone}，#{purchase.pk}）"


# --- the institution claims a lesson ------------------------------------------------------


def _lesson_errors(course: Course, day, start, end, lessons, today) -> dict:
    errors = {}
    if not isinstance(lessons, int) or lessons < 1:
        errors["lessons"] = "消课课时至少为 1。"
    if day is None:
        errors["date"] = "请填写上课日期。"
    elif day > today:
        errors["date"] = f"上课日期 {day} 晚于今天，课上完后才能消课。"
    if start is None:
        errors["start"] = "请填写开始时间。"
    if end is None:
        errors["end"] = "请填写结束时间。"
    elif start is not None and end <= start:
        errors["end"] = "结束时间须晚于开始时间。"
    if not errors:
        # the training-time rules for this one lesson (after 20:30, holidays, rest days and
        # vacations for subject-type courses): institutions.services.lesson_problems
        from institutions.services import lesson_problems

        problems = lesson_problems(course, day, start, end)
        if problems:
            errors["__all__"] = problems
    return errors


def claim_record(
    *, actor, course_id: int, purchase_ids, date, start, end, lessons: int = 1, today=None,
    lock: bool = True,
) -> list[LessonClaim]:  # fmt: skip
    """Claim one lesson (``date`` ``start``-``end``, worth ``lessons``) of a course for each
    purchase of ``purchase_ids``. All or nothing: one refused buyer refuses the batch, with
    every reason named. ``lock=False`` only for the control test of the concurrency pair."""
    require(is_institution_staff(actor, roles=CLAIM_ROLES))
    institution_id = actor.institution_staff.institution_id
    today = today or timezone.localdate()
    course = Course.objects.select_related("institution").filter(pk=course_id).first()
    if course is None or course.institution_id != institution_id:
        raise PermissionDenied
    ids = sorted({int(i) for i in purchase_ids or ()})
    errors = _lesson_errors(course, date, start, end, lessons, today)
    if not ids:
        errors["purchases"] = "请至少勾选一位购买人。"
    if errors:
        raise ValidationError(errors)
    claims = []
    with transaction.atomic():
        qs = Purchase.objects.filter(pk__in=ids).order_by("pk")
        # lock order (escrow.py): Purchase rows by primary key; every claim of these
        # purchases and their consumed lessons change only under this lock
        purchases = list(locked(qs) if lock else qs)
        if len(purchases) != len(ids) or any(p.institution_id != institution_id for p in purchases):
            raise PermissionDenied  # another institution's purchase (the view 404s first)
        taken = set(
            LessonClaim.objects.filter(purchase_id__in=ids, date=date, start=start).values_list(
                "purchase_id", flat=True
            )
        )
        _pause("read")
        problems = []
        for p in purchases:
            who = buyer_label(p)
            if p.course_id != course.pk:
                problems.append(f"{who}购买的不是本课程。")
            elif p.status != P.ACTIVE:
                problems.append(f"{who}的预收费状态为“{p.get_status_display()}”，不能消课。")
            elif not p.starts_on <= date <= p.ends_on:
                problems.append(
                    f"{who}的服务期为 {p.starts_on} 至 {p.ends_on}，{date} 不在服务期内。"
                )
            elif p.pk in taken:
                problems.append(f"{who}已登记过 {date} {start:%H:%M} 的消课，不能重复消课。")
            elif p.lessons_consumed + lessons > p.lessons:
                left = p.lessons - p.lessons_consumed
                problems.append(
                    f"{who}共购买{p.lessons}课时，已消{p.lessons_consumed}课时，"
                    f"剩余{left}课时，不能再消{lessons}课时。"
                )
        if problems:
            raise ValidationError({"purchases": problems})
        for p in purchases:
            try:
                with transaction.atomic():  # savepoint: the UNIQUE refuses a second claim
                    claim = LessonClaim.objects.create(
                        purchase=p, date=date, start=start, end=end, lessons=lessons,
                        claimed_by=actor,
                    )  # fmt: skip
            except IntegrityError:
                raise ValidationError(
                    {
                        "purchases": f"{buyer_label(p)}已登记过 {date} {start:%H:%M} 的消课，"
                        "不能重复消课。"
                    }  # fmt: skip
                ) from None
            escrow.lessons_consume(
                actor=actor, purchase_id=p.pk, total=p.lessons_consumed + lessons
            )
            audit_record(
                actor=actor, action="institutions.claim.recorded", obj=claim,
                new={"purchase": p.pk, "date": date, "start": start, "end": end,
                     "lessons": lessons, "consumed": p.lessons_consumed + lessons},
            )  # fmt: skip
            if p.parent_id is not None:
                notify(
                    [p.parent.user_id],
                    key=f"claim:{claim.pk}:recorded",
                    message=f"{course.institution.name}登记了“{course.name}”{date} "
                    f"{start:%H:%M} 的消课（{lessons}课时），请在 {confirm_days()} 天内"
                    "确认或提出异议，逾期视为确认。",
                    url=reverse("training:purchase", args=[p.pk]),
                )
            claims.append(claim)
    return claims


# --- the parent answers -------------------------------------------------------------------


def _answerable(actor, claim_id: int) -> tuple[LessonClaim, Purchase]:
    """The claim and its purchase, the purchase locked (lock order: the purchase first),
    both re-read under the lock; only the purchase's own parent may answer."""
    purchase_id = (
        LessonClaim.objects.filter(pk=claim_id).values_list("purchase_id", flat=True).first()
    )
    if purchase_id is None:
        raise PermissionDenied
    purchase = locked(
        Purchase.objects.select_related("parent").filter(pk=purchase_id), of=("self",)
    ).get()
    if purchase.parent is None or purchase.parent.user_id != getattr(actor, "pk", None):
        raise PermissionDenied  # someone else's claim (the view 404s first)
    claim = LessonClaim.objects.get(pk=claim_id)
    return claim, purchase


def claim_confirm(*, actor, claim_id: int, today=None) -> LessonClaim:
    """The parent confirms the lesson: the purchase's confirmed lessons rise by the claim's
    and the rule's due money is released (escrow.lessons_confirm). Confirming twice is
    quiet; confirming a disputed claim is refused."""
    from portal.access import kind_of

    require(kind_of(actor) == PARENT)
    with transaction.atomic():
        claim, purchase = _answerable(actor, claim_id)
        if claim.status == S.CONFIRMED:
            return claim
        if claim.status != S.PENDING:
            raise ValidationError(f"该消课已{claim.get_status_display()}，不能再确认。")
        if purchase.status == P.REFUNDED_FULL:
            raise ValidationError("该预收费已全额退费，无需再确认消课。")
        claim.status = S.CONFIRMED
        claim.answered_at = timezone.now()
        claim.answered_by = actor
        claim.save(update_fields=["status", "answered_at", "answered_by"])
        escrow.lessons_confirm(
            actor=actor, purchase_id=purchase.pk,
            total=min(purchase.lessons_confirmed + claim.lessons, purchase.lessons_consumed),
            today=today,
        )  # fmt: skip
        audit_record(actor=actor, action="institutions.claim.confirmed", obj=claim,
                     old={"status": S.PENDING}, new={"status": claim.status})  # fmt: skip
    return claim


def claim_dispute(*, actor, claim_id: int, reason: str, complain: bool = False):
    """The parent disputes the lesson (reason required): every release of the purchase is
    held (escrow.dispute_open), the training line's staff are told (the purchase becomes a
    case on their escrow purchase page), and when ``complain`` a complaint is filed too
    (category 违规收费/预收费). Returns (claim, the complaint's tracking code or None)."""
    from institutions.complaint_models import Complaint
    from institutions.complaints import complaint_file
    from portal.access import kind_of

    require(kind_of(actor) == PARENT)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写异议事由（如：当天没有上课）。"})
    if len(reason) > 300:
        raise ValidationError({"reason": "异议事由最多 300 个字。"})
    code = None
    with transaction.atomic():
        claim, purchase = _answerable(actor, claim_id)
        if claim.status == S.DISPUTED:
            return claim, None
        if claim.status != S.PENDING:
            raise ValidationError(f"该消课已{claim.get_status_display()}，不能再提出异议。")
        if purchase.status == P.REFUNDED_FULL:
            raise ValidationError("该预收费已全额退费，无需再提出异议。")
        claim.status = S.DISPUTED
        claim.dispute_reason = reason
        claim.answered_at = timezone.now()
        claim.answered_by = actor
        claim.save(update_fields=["status", "dispute_reason", "answered_at", "answered_by"])
        lesson = f"{claim.date} {claim.start:%H:%M}"
        escrow.dispute_open(
            actor=actor, purchase_id=purchase.pk, reason=f"家长对 {lesson} 的消课有异议：{reason}"
        )
        if complain:
            parent = purchase.parent
            _complaint, code = complaint_file(
                user=actor, category=Complaint.Category.FEES,
                institution_id=purchase.institution_id,
                text=f"对{purchase.course.name} {lesson} 的消课有异议（预收费 #{purchase.pk}）："
                     f"{reason}",
                happened_on=claim.date, contact_name=parent.name, contact_phone=parent.phone,
            )  # fmt: skip
        audit_record(actor=actor, action="institutions.claim.disputed", obj=claim,
                     old={"status": S.PENDING},
                     new={"status": claim.status, "reason": reason,
                          "complaint": code is not None})  # fmt: skip
        notify(
            bureau_of_line("institutions"),
            key=f"claim:{claim.pk}:disputed",
            message=f"家长对{purchase.institution.name}{lesson} 的消课提出异议，该笔预收费"
            f"（#{purchase.pk}）已暂停释放，请处理。",
            url=reverse("institutions:escrow_purchase", args=[purchase.pk]),
        )
    return claim, code


# --- the nightly sweep --------------------------------------------------------------------

SWEEP_CANDIDATES = """
SELECT DISTINCT c.purchase_id
FROM institutions_lessonclaim c
WHERE c.status = 'pending' AND c.claimed_at < %(cutoff)s
ORDER BY 1
"""

# Under the chunk's row locks: the claims turn 逾期自动确认 and each purchase's confirmed
# lessons rise by their sum (capped at the consumed ones, the table's CHECK), completion
# dated like escrow.lessons_confirm does. One statement for the chunk.
SWEEP_CONFIRM = """
WITH done AS (
    UPDATE institutions_lessonclaim c
    SET status = 'auto', answered_at = %(now)s
    WHERE c.purchase_id = ANY(%(ids)s) AND c.status = 'pending' AND c.claimed_at < %(cutoff)s
    RETURNING c.purchase_id, c.lessons
), n AS (
    SELECT purchase_id, SUM(lessons) AS lessons, COUNT(*) AS claims FROM done GROUP BY 1
)
UPDATE institutions_purchase p
SET lessons_confirmed = LEAST(p.lessons_confirmed + n.lessons, p.lessons_consumed),
    completed_on = CASE WHEN p.completed_on IS NULL
                         AND LEAST(p.lessons_confirmed + n.lessons, p.lessons_consumed) >= p.lessons
                        THEN %(today)s ELSE p.completed_on END,
    updated_at = %(now)s
FROM n
WHERE p.id = n.purchase_id
RETURNING p.id, p.institution_id, p.amount, p.lessons, p.lessons_consumed, p.lessons_confirmed,
          p.completed_on, p.status, p.supervision, p.release_kind, p.tranche_1_percent,
          p.tranche_2_percent, p.delay_days, p.dispute_open, p.parent_id, n.claims
"""

SWEEP_SUMS = """
SELECT e.account, t.kind, SUM(e.amount)
FROM institutions_escrowentry e
JOIN institutions_escrowtransaction t ON t.id = e.transaction_id
WHERE e.account = ANY(%(accounts)s)
GROUP BY 1, 2
"""

SWEEP_TX = """
INSERT INTO institutions_escrowtransaction
    (kind, idempotency_key, created_at, actor_id, memo, reverses_id, institution_id, purchase_id)
SELECT 'release', NULL, %(now)s, NULL, u.memo, NULL, u.inst, u.pid
FROM unnest(%(inst)s::bigint[], %(pid)s::bigint[], %(memo)s::text[]) AS u(inst, pid, memo)
RETURNING id, purchase_id
"""

SWEEP_ENTRIES = """
INSERT INTO institutions_escrowentry (transaction_id, account, amount)
SELECT u.tx, u.account, u.amount
FROM unnest(%(tx)s::bigint[], %(account)s::text[], %(amount)s::numeric[])
     AS u(tx, account, amount)
"""

PURCHASE_COLUMNS = [
    "id", "institution_id", "amount", "lessons", "lessons_consumed", "lessons_confirmed",
    "completed_on", "status", "supervision", "release_kind", "tranche_1_percent",
    "tranche_2_percent", "delay_days", "dispute_open", "parent_id",
]  # fmt: skip


def _cutoff(today: dt.date) -> dt.datetime:
    """Claims made before this instant are past their answer period on ``today``: claimed
    on day D, the parent has until D + N (answer_by); on D + N + 1 the claim counts."""
    day = today - dt.timedelta(days=confirm_days())
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _sweep_chunk(ids: list[int], *, today: dt.date, cutoff, now, actor) -> tuple[int, int]:
    """Confirm the chunk's overdue claims and release what became due; returns (claims,
    releases). One transaction; purchases locked in pk order first."""
    with transaction.atomic():
        lock_timeout()
        with connection.cursor() as cursor:
            # lock order of escrow.py: Purchase rows by primary key. A purchase refunded in
            # full has nothing left to confirm: its claims stay as they are.
            cursor.execute(
                "SELECT id FROM institutions_purchase WHERE id = ANY(%s) "
                "AND status IN ('active', 'refunded') ORDER BY id FOR UPDATE",
                [ids],
            )
            mine = [r[0] for r in cursor.fetchall()]
            if not mine:
                return 0, 0
            cursor.execute(
                SWEEP_CONFIRM, {"ids": mine, "cutoff": cutoff, "now": now, "today": today}
            )
            rows = cursor.fetchall()
            if not rows:
                return 0, 0
            purchases, claims_done = [], 0
            for row in rows:
                p = Purchase(**dict(zip(PURCHASE_COLUMNS, row[:-1], strict=True)))
                claims_done += row[-1]
                purchases.append(p)
            # released and held of each purchase, from its ledger account (one query)
            cursor.execute(SWEEP_SUMS, {"accounts": [p.account for p in purchases]})
            sums: dict[str, dict[str, Decimal]] = {}
            for account, kind, total in cursor.fetchall():
                sums.setdefault(account, {})[kind] = total
            pays = []
            for p in purchases:
                if p.dispute_open:
                    continue  # an open dispute holds every release (escrow._release)
                by_kind = sums.get(p.account, {})
                zero = Decimal("0.00")
                paid = -(by_kind.get("purchase") or zero)
                released = by_kind.get("release") or zero
                refunded = (by_kind.get("refund") or zero) + (by_kind.get("refund_full") or zero)
                # the same rule as every other release: escrow.release_due
                amount = min(escrow.release_due(p, today) - released, paid - released - refunded)
                if amount > 0:
                    pays.append((p, amount))
            if pays:
                memo = f"{AUTO_NOTE}，按释放规则释放"
                cursor.execute(SWEEP_TX, {
                    "now": now, "inst": [p.institution_id for p, _a in pays],
                    "pid": [p.pk for p, _a in pays], "memo": [memo] * len(pays),
                })  # fmt: skip
                tx_of = {pid: tx for tx, pid in cursor.fetchall()}
                tx_ids, accounts, amounts = [], [], []
                for p, amount in pays:
                    # Dr parent_prepaid / Cr holding, as escrow._payout posts a release
                    tx_ids += [tx_of[p.pk], tx_of[p.pk]]
                    accounts += [p.account, p.holding_account]
                    amounts += [amount, -amount]
                cursor.execute(SWEEP_ENTRIES, {"tx": tx_ids, "account": accounts,
                                               "amount": amounts})  # fmt: skip
        audit_record(
            actor=actor, action="institutions.claim.auto_confirmed", obj=None,
            new={"today": today, "claims": claims_done, "purchases": [p.pk for p in purchases],
                 "released": [[p.pk, amount] for p, amount in pays]},
        )  # fmt: skip
        parents = [p.parent_id for p in purchases if p.parent_id]
        if parents:
            from portal.models import Parent

            users = dict(Parent.objects.filter(pk__in=parents).values_list("pk", "user_id"))
            for p in purchases:
                if p.parent_id in users:
                    notify(
                        [users[p.parent_id]],
                        key=f"claim:auto:{p.pk}:{today}",
                        message=f"预收费 #{p.pk} 有消课超过 {confirm_days()} 天未确认，"
                        f"{AUTO_NOTE}。",
                        url=reverse("training:purchase", args=[p.pk]),
                    )
    return claims_done, len(pays)


def auto_confirm_due(*, today, actor=None, chunk: int | None = None) -> int:
    """The nightly sweep (institutions/tasks.py): every claim unanswered for
    PORTAL_CLAIM_CONFIRM_DAYS days counts as confirmed ("逾期未确认，视为确认"), and what the
    purchase's rule then makes due is released. Set-based: chunks of purchases, locked in
    pk order, each with one update of claims and purchases and one multi-row ledger insert,
    in its own transaction (a failed chunk rolls back alone; a rerun finds only what is
    left, so nothing is confirmed or released twice). Returns how many claims it confirmed."""
    today = today or timezone.localdate()
    chunk = chunk or settings.PORTAL_CLAIM_SWEEP_CHUNK
    cutoff = _cutoff(today)
    with connection.cursor() as cursor:
        cursor.execute(SWEEP_CANDIDATES, {"cutoff": cutoff})
        ids = [r[0] for r in cursor.fetchall()]
    now = timezone.now()
    total = 0
    for i in range(0, len(ids), chunk):
        done, _released = _sweep_chunk(
            ids[i : i + chunk], today=today, cutoff=cutoff, now=now, actor=actor or "system"
        )
        total += done
    return total


__all__ = [
    "AUTO_NOTE",
    "answer_by",
    "auto_confirm_due",
    "buyer_label",
    "claim_confirm",
    "claim_dispute",
    "claim_record",
]
