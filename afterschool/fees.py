"""Every write of after-school fees: bills, waivers, refunds and the term-end settlement.

Rules of this module (the same as the institutions' escrow, on the shared portal/ledger.py)
  * Money moves only through the fee ledger; what a bill has received, refunded and settled
    is read from its account ``family:bill:<id>``, never kept in a column.
  * Lock order: Offering (enrolment and withdrawal only), then Bill, then Payment rows; one
    bill at a time. Inside the bill lock, after posting, the bill's account may reach zero
    and never turn positive (nothing goes out that did not come in).
  * Bills cover one month of a term, or the term (FeeRule.period), never across terms: the
    periods are cut from the term's own dates.
  * A waiting-list place is never billed; a bill is issued when a place is taken.
"""

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from afterschool.models import (
    Attendance,
    Bill,
    Enrolment,
    FeeEntry,
    FeeRule,
    FeeTransaction,
    Lesson,
    Offering,
    Settlement,
    Waiver,
)
from portal import ledger
from portal.audit import audit_record, create_audited
from portal.locks import lock_timeout, locked
from portal.models import Child, School, SchoolPeriod, SchoolStaff
from portal.permissions import is_school_manager, require

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
Kind = FeeTransaction.Kind


def fee_staff(user) -> SchoolStaff:
    """The principal or 教导处 who run the school's fees (not every teacher)."""
    require(is_school_manager(user))
    return user.school_staff


def rule_for(school_id: int) -> FeeRule:
    return FeeRule.objects.filter(school_id=school_id).first() or FeeRule(school_id=school_id)


def rule_of(offering: Offering) -> FeeRule:
    """The rule of the offering's school: read with the offering when it was selected with
    ``school__fee_rule`` (no query), else ``rule_for``."""
    if Offering.school.is_cached(offering) and School.fee_rule.is_cached(offering.school):
        rule = getattr(offering.school, "fee_rule", None)  # None: the school has none
        return rule or FeeRule(school_id=offering.school_id)
    return rule_for(offering.school_id)


def cash_account(school_id: int) -> str:
    return f"cash:school:{school_id}"


def held(bill: Bill) -> Decimal:
    """What the ledger holds for the family on this bill (paid less refunded and settled)."""
    return -ledger.balance(FeeEntry, bill.account)


def post(*, kind, school_id, entries, bill=None, payment=None, key=None, actor=None, memo=""):
    return ledger.post(
        tx_model=FeeTransaction,
        entry_model=FeeEntry,
        kind=kind,
        entries=entries,
        idempotency_key=key,
        actor=actor,
        memo=memo,
        fields={"school_id": school_id, "bill": bill, "payment": payment},
    )


def _check_not_overdrawn(bill: Bill):
    if held(bill) < 0:
        raise ledger.LedgerError(f"bill #{bill.pk} would pay out more than it received")


# --- periods and bills -------------------------------------------------------------------


def periods(term: SchoolPeriod, rule: FeeRule) -> list[tuple[dt.date, dt.date]]:
    """The billing periods of a term: its calendar months clipped to the term, or the term
    (a bill never crosses a term's end)."""
    return list(_periods(term.start, term.end, rule.period))


@functools.lru_cache(maxsize=256)
def _periods(first: dt.date, last: dt.date, period: str) -> tuple[tuple[dt.date, dt.date], ...]:
    # a pure function of the term's dates and the rule's period, asked several times by each
    # enrolment and bill (issue 20): computed once per term
    if period == FeeRule.Period.TERM:
        return ((first, last),)
    out = []
    start = first
    while start <= last:
        month_end = (start.replace(day=1) + relativedelta(months=1)) - dt.timedelta(days=1)
        end = min(month_end, last)
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return tuple(out)


def block_period(offering: Offering) -> tuple[dt.date, dt.date] | None:
    """A course run as one block (a holiday week, a month of lunch care: kinds with their own
    ``starts_on`` and ``ends_on``) is billed as one period, its own dates, even across a
    month's end; None for any other course."""
    from afterschool.lessons import BLOCK_KINDS

    if offering.kind in BLOCK_KINDS and offering.starts_on and offering.ends_on:
        return offering.starts_on, offering.ends_on
    return None


def waiver_for(child_id: int, term: SchoolPeriod) -> Waiver | None:
    """The relief that applies to a bill of ``term``: the term's own; for a vacation, the one
    of the last term before it (the family's difficulty does not end with the term)."""
    return _waivers(child_id, term).first()


def _waivers(child_id: int, term: SchoolPeriod):
    """The waivers that may apply to a bill of ``term``, the one that does first
    (``waiver_for``); a queryset, so a caller can read it inside a statement of its own."""
    if not term.is_vacation:
        return Waiver.objects.filter(child_id=child_id, term=term)
    own = Q(term=term)
    return Waiver.objects.filter(
        own | Q(term__kind=SchoolPeriod.Kind.TERM, term__start__lt=term.start),
        child_id=child_id,
    ).order_by(
        Case(When(own, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-term__start",
    )


def period_of(term: SchoolPeriod, rule: FeeRule, day: dt.date) -> tuple[dt.date, dt.date]:
    """The period holding ``day``; before the term, its first period."""
    found = periods(term, rule)
    for start, end in found:
        if start <= day <= end:
            return start, end
    return found[0] if day < term.start else found[-1]


def _share(amount: Decimal, part: int, whole: int) -> Decimal:
    """amount × part / whole in cents, half up; the whole always gives back ``amount``."""
    if whole <= 0 or part <= 0:
        return ZERO
    if part >= whole:
        return amount
    return (amount * part / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def _billed(offering_id, start, end):
    return Lesson.objects.filter(offering_id=offering_id, date__range=(start, end)).exclude(
        status=Lesson.Status.CANCELLED
    )


def _billed_lessons(offering_id, start, end) -> int:
    return _billed(offering_id, start, end).count()


def _bill_span(offering: Offering, period, lessons_from, until=None):
    """The days whose lessons a bill of ``period`` counts, or None when none are billed (a
    free course, a span that is empty)."""
    start, end = period
    lessons_from = max(start, lessons_from)
    last = min(end, until) if until else end
    if offering.fee_per_lesson <= 0 or lessons_from > last:
        return None
    return lessons_from, last


def _bill_create(
    enrolment: Enrolment,
    offering: Offering,
    rule: FeeRule,
    period,
    lessons_from,
    today,
    until=None,
    *,
    read=None,
    audit_actor=None,
):
    """Issue the bill of one enrolment for one period (the caller holds the offering lock
    or the enrolment's row); nothing for a free course or a period without lessons.
    ``read``: the lessons and the waiver's percent the caller read under that lock
    (``place_bill_reads``), instead of two queries here. ``audit_actor``: the bill is
    written with its audit row "afterschool.bill.issued" in one statement
    (``create_audited``), by this actor."""
    span = _bill_span(offering, period, lessons_from, until)
    if span is None:
        return None
    lessons_from, last = span
    start = period[0]
    if read is None:
        lessons = _billed_lessons(offering.pk, lessons_from, last)
        waiver = waiver_for(enrolment.child_id, offering.plan.term)
        percent = waiver.percent if waiver else None
    else:
        lessons, percent = read["bill_lessons"], read["bill_waiver"]
    if lessons == 0:
        return None
    gross = offering.fee_per_lesson * lessons
    waived = _share(gross, percent, 100) if percent else ZERO
    amount = gross - waived
    # the child already read with the enrolment names the bill in its audit row (no query)
    child = (
        {"child": enrolment.child}
        if Enrolment.child.is_cached(enrolment)
        else {"child_id": enrolment.child_id}
    )
    bill = Bill(
        enrolment=enrolment,
        school_id=offering.school_id,
        **child,
        term_id=offering.plan.term_id,
        kind=Bill.Kind.PROVIDER if offering.contract_id else Bill.Kind.SERVICE,
        period_start=start,
        period_end=last,
        lessons_from=lessons_from,
        lessons=lessons,
        fee_per_lesson=offering.fee_per_lesson,
        gross=gross,
        waived=waived,
        amount=amount,
        due_on=max(today, start) + dt.timedelta(days=rule.due_days),
        status=Bill.Status.OPEN if amount > 0 else Bill.Status.WAIVED,
    )
    if audit_actor is None:
        bill.save(force_insert=True)
        return bill
    return create_audited(
        bill,
        actor=audit_actor,
        action="afterschool.bill.issued",
        new={"amount": bill.amount, "lessons": bill.lessons},
    )


def _place_period(offering: Offering, rule: FeeRule, today: dt.date):
    """The period a place taken ``today`` is billed for; None after the term or the block."""
    term = offering.plan.term
    if today > term.end:
        return None
    period = block_period(offering) or period_of(term, rule, today)
    if today > period[1]:
        return None
    return period


def place_bill_key(offering: Offering, child_id: int, today: dt.date, *, rule=None) -> tuple:
    """What ``place_bill_reads`` depends on: the days billed (None: no bill is due), the
    course, the term (its start and kind choose the waiver), the child."""
    period = _place_period(offering, rule or rule_of(offering), today)
    span = None if period is None else _bill_span(offering, period, today)
    term = offering.plan.term
    return span, offering.pk, term.pk, term.start, term.kind, child_id


def place_bill_reads(offering: Offering, child_id: int, today: dt.date, *, rule=None):
    """What the bill of a new place in ``offering`` reads besides the course's row, the
    lessons billed ("bill_lessons") and the waiver's percent ("bill_waiver"), as SQL
    (scalar subqueries compiled from ``_billed`` and ``_waivers``): the enrolment compiles
    them before the course's lock, runs them in its one statement under it (lesson changes
    take that lock too) after checking ``place_bill_key`` again, and passes the values to
    ``bill_on_enrolment(read=...)``. ([(name, sql)], params, key); no columns when no bill
    is due. ``rule``: the school's (``rule_of``), when the caller has it."""
    key = place_bill_key(offering, child_id, today, rule=rule)
    span = key[0]
    if span is None:
        return [], [], key
    term = offering.plan.term
    if not term.is_vacation:
        # a term's bill (the enrolment burst's): fixed SQL, only its parameters change
        # (``_billed`` and ``_waivers`` of a term, without the ORM's compiling on every
        # request; tests/afterschool/test_enrol_fast_path.py holds them to the querysets)
        return _TERM_BILL_READS, [offering.pk, *span, Lesson.Status.CANCELLED.value,
                                  child_id, term.pk], key  # fmt: skip
    lessons, lessons_params = (
        _billed(offering.pk, *span).order_by().values("pk").query.sql_with_params()
    )
    waiver, waiver_params = _waivers(child_id, term).values("percent")[:1].query.sql_with_params()
    columns = [
        ("bill_lessons", f"(SELECT count(*) FROM ({lessons}) _rows)"),
        ("bill_waiver", f"({waiver})"),
    ]
    return columns, [*lessons_params, *waiver_params], key


def _term_bill_reads():
    """``place_bill_reads``' columns for a bill of a term (not a vacation): the lessons of
    ``_billed`` (offering, first and last day, the cancelled status) and the percent of
    the term's own waiver (child, term; one at most: as_one_waiver_a_term)."""
    lesson, waiver = Lesson._meta.db_table, Waiver._meta.db_table
    return [
        ("bill_lessons", f'(SELECT count(*) FROM "{lesson}" WHERE "offering_id" = %s'
                         ' AND "date" BETWEEN %s AND %s AND NOT ("status" = %s))'),
        ("bill_waiver", f'(SELECT "percent" FROM "{waiver}" WHERE "child_id" = %s'
                        ' AND "term_id" = %s LIMIT 1)'),
    ]  # fmt: skip


_TERM_BILL_READS = _term_bill_reads()


def bill_on_enrolment(
    enrolment: Enrolment, offering: Offering, *, actor, today=None, read=None, rule=None
):
    """The bill of the current period when a place is taken (enrolment or a move up from
    the waiting list), counting the lessons from today. Called inside the offering lock.
    ``read``: a place created in this transaction (it has no bill yet), with the values of
    ``place_bill_reads`` read under that lock; ``rule`` the school's when the caller has it."""
    today = today or timezone.localdate()
    rule = rule or rule_of(offering)
    period = _place_period(offering, rule, today)
    if period is None:
        return None
    if read is not None:
        if "bill_lessons" not in read:  # place_bill_reads found nothing due
            return None
    elif (
        Bill.objects.filter(enrolment=enrolment, period_start=period[0])
        .exclude(status=Bill.Status.CANCELLED)
        .exists()
    ):
        return None
    # the bill and its audit row "afterschool.bill.issued" in one statement
    return _bill_create(enrolment, offering, rule, period, today, today, read=read,
                        audit_actor=actor)  # fmt: skip


def bills_issue(*, actor, period_start: dt.date, today=None) -> int:
    """Issue the bills of the period starting ``period_start`` for every place taken in the
    school's courses (the school staff's monthly run); again issues nothing twice."""
    staff = fee_staff(actor)
    today = today or timezone.localdate()
    rule = rule_for(staff.school_id)
    issued = 0
    offerings = Offering.objects.filter(
        school_id=staff.school_id,
        status=Offering.Status.PUBLISHED,
        fee_per_lesson__gt=0,
        plan__term__start__lte=period_start,
        plan__term__end__gte=period_start,
    ).select_related("plan__term")
    for offering in offerings:
        period = block_period(offering)
        if period is not None and period[0] != period_start:
            continue  # a block is billed for its own dates (on enrolment), not the month's
        period = period or period_of(offering.plan.term, rule, period_start)
        if period[0] != period_start:
            raise ValidationError(
                {"period_start": f"收费周期从 {period[0]} 开始，不是 {period_start}。"}
            )
        with transaction.atomic():
            locked(Offering.objects.filter(pk=offering.pk)).get()  # places stay put
            billed = Bill.objects.filter(
                enrolment__offering=offering, period_start=period[0]
            ).exclude(status=Bill.Status.CANCELLED)
            todo = Enrolment.objects.filter(
                offering=offering, status=Enrolment.Status.ENROLLED
            ).exclude(pk__in=billed.values("enrolment_id"))
            for enrolment in todo:
                bill = _bill_create(enrolment, offering, rule, period, period[0], today)
                if bill is not None:
                    issued += 1
            if issued:
                audit_record(
                    actor=actor,
                    action="afterschool.bill.issued_period",
                    obj=offering,
                    new={"period_start": period_start},
                )
    return issued


def bill_cancel(*, actor, bill_id: int, reason: str) -> Bill:
    """Cancel a bill (a course cancelled, a billing error); what was paid on it is refunded
    in the same transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "作废账单必须说明原因。"})
    staff = fee_staff(actor)
    with transaction.atomic():
        bill = locked(Bill.objects.filter(pk=bill_id, school_id=staff.school_id)).first()
        if bill is None:
            raise PermissionDenied  # another school's bill (or none): nothing to say about it
        _cancel_locked(bill, actor=actor, reason=reason)
    return bill


def _cancel_locked(bill: Bill, *, actor, reason: str):
    if bill.status == Bill.Status.CANCELLED:
        return
    if Bill.Status.CANCELLED not in Bill.TRANSITIONS[Bill.Status(bill.status)]:
        raise ValidationError(f"账单状态为“{bill.get_status_display()}”，不能作废。")
    old = bill.status
    bill.status = Bill.Status.CANCELLED
    bill.cancel_reason = reason[:200]
    bill.save(update_fields=["status", "cancel_reason"])
    audit_record(
        actor=actor,
        action="afterschool.bill.cancelled",
        obj=bill,
        old={"status": old},
        new={"reason": reason},
    )
    refund_post(bill, held(bill), actor=actor, memo=f"账单作废：{reason}"[:300])


def refund_post(bill: Bill, amount: Decimal, *, actor, memo: str, payment=None):
    """Pay ``amount`` back to the family from the bill's account (the caller holds the bill
    lock); nothing when it is zero."""
    if amount <= 0:
        return None
    tx = post(
        kind=Kind.REFUND,
        school_id=bill.school_id,
        bill=bill,
        payment=payment,
        entries=[(bill.account, amount), (cash_account(bill.school_id), -amount)],
        actor=actor,
        memo=memo,
    )
    _check_not_overdrawn(bill)
    audit_record(
        actor=actor,
        action="afterschool.bill.refunded",
        obj=bill,
        new={"amount": amount, "memo": memo},
    )
    return tx


# --- refunds under the school's rule -------------------------------------------------------


@dataclass
class RefundView:
    lessons: int  # lessons the bill charged for
    refundable: int  # of them, lessons whose fee goes back under the rule
    due_total: Decimal  # the fee of the refundable lessons
    refunded: Decimal

    @property
    def due_now(self) -> Decimal:
        return max(ZERO, self.due_total - self.refunded)


def _missed(rule: FeeRule) -> set[str]:
    if rule.refund == FeeRule.Refund.ABSENT:
        return {Attendance.Mark.LEAVE, Attendance.Mark.ABSENT}
    return {Attendance.Mark.LEAVE} if rule.refund == FeeRule.Refund.LEAVE else set()


def _refundable(bill: Bill, rule: FeeRule, lessons, marks) -> int:
    """The rule on one bill: ``lessons`` are (id, date, status) of its course, ``marks``
    {(lesson id, child id): mark}. Lessons cancelled after the bill was issued (always);
    held lessons the child missed on leave (rule "leave") or missed at all ("absent");
    lessons from the day the child left that they did not attend (held or not, they are
    off the roll, so no mark)."""
    enrolment = bill.enrolment
    mine = [x for x in lessons if bill.lessons_from <= x[1] <= bill.period_end]
    counted = [x for x in mine if x[2] != Lesson.Status.CANCELLED]
    cancelled_since = max(0, bill.lessons - len(counted))
    missed = _missed(rule)
    not_attended = sum(
        1
        for pk, _d, status in counted
        if status == Lesson.Status.HELD and marks.get((pk, bill.child_id)) in missed
    )
    after_withdrawal = 0
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        left_on = timezone.localdate(enrolment.changed_at)
        after_withdrawal = sum(
            1 for pk, day, _s in counted if day >= left_on and (pk, bill.child_id) not in marks
        )
    return min(bill.lessons, cancelled_since + not_attended + after_withdrawal)


def _lessons_and_marks(offering_ids, child_ids):
    """What ``_refundable`` reads, for many bills at once (two queries)."""
    lessons = {}
    for pk, offering_id, day, status in Lesson.objects.filter(
        offering_id__in=offering_ids
    ).values_list("pk", "offering_id", "date", "status"):
        lessons.setdefault(offering_id, []).append((pk, day, status))
    marks = {
        (lesson_id, child_id): mark
        for lesson_id, child_id, mark in Attendance.objects.filter(
            lesson__offering_id__in=offering_ids, child_id__in=child_ids
        ).values_list("lesson_id", "child_id", "mark")
    }
    return lessons, marks


def refund_view(bill: Bill, rule: FeeRule | None = None, today=None) -> RefundView:
    """Which of a bill's lessons are refunded under the school's rule (``_refundable``)."""
    rule = rule or rule_for(bill.school_id)
    offering_id = bill.enrolment.offering_id
    lessons, marks = _lessons_and_marks([offering_id], [bill.child_id])
    refundable = _refundable(bill, rule, lessons.get(offering_id, []), marks)
    refunded = ledger.balance(FeeEntry, bill.account, transaction__kind=Kind.REFUND)
    return RefundView(
        bill.lessons, refundable, _share(bill.amount, refundable, bill.lessons), refunded
    )


def bill_refund_due(*, actor, bill_id: int) -> Decimal:
    """Refund what the rule says is due on a paid bill and not yet refunded."""
    with transaction.atomic():
        # the bill only (of=self): locking its enrolment here too, after the bill, would
        # take the two in the opposite order to a withdrawal (enrolment, then its bills)
        bill = locked(
            Bill.objects.select_related("enrolment").filter(pk=bill_id), of=("self",)
        ).get()
        if bill.status != Bill.Status.PAID:
            return ZERO
        due = min(refund_view(bill).due_now, held(bill))
        refund_post(bill, due, actor=actor, memo="按学校退费规则退还未上或未出勤课次")
    return due


def refunds_run(*, actor, school_id: int | None = None) -> tuple[int, Decimal]:
    """Refund every paid bill of the school what its rule makes due (school staff's button
    and the settlement). Returns (bills refunded, total)."""
    if school_id is None:
        school_id = fee_staff(actor).school_id
    n, total = 0, ZERO
    for bill_id in Bill.objects.filter(school_id=school_id, status=Bill.Status.PAID).values_list(
        "pk", flat=True
    ):
        due = bill_refund_due(actor=actor, bill_id=bill_id)
        if due:
            n, total = n + 1, total + due
    return n, total


def on_withdrawal(enrolment: Enrolment, *, actor, today=None):
    """A child leaves a course (inside the offering lock): open bills are reissued for the
    lessons before today, paid ones refunded for the lessons from today (school's rule)."""
    today = today or timezone.localdate()
    offering = enrolment.offering
    rule = rule_for(offering.school_id)
    for bill in locked(
        Bill.objects.filter(enrolment=enrolment).exclude(status=Bill.Status.CANCELLED)
    ):
        if bill.status == Bill.Status.PAID:
            due = min(refund_view(bill, rule).due_now, held(bill))
            refund_post(bill, due, actor=actor, memo="退出课程，退还未上课次")
        elif bill.status == Bill.Status.OPEN:
            _cancel_locked(bill, actor=actor, reason="退出课程，按已上课次重开账单")
            yesterday = today - dt.timedelta(days=1)
            _bill_create(
                enrolment,
                offering,
                rule,
                (bill.period_start, bill.period_end),
                bill.lessons_from,
                today,
                until=yesterday,
            )


# --- waivers -------------------------------------------------------------------------------


def waiver_set(*, actor, child_id: int, term_id: int, percent: int, reason: str) -> Waiver:
    """Relief for a pupil of a family in difficulty (audited; the reason stays with the
    school and the bureau). Applies to bills issued from now on; an open bill of the term
    is reissued with the relief."""
    staff = fee_staff(actor)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "请填写减免原因（仅学校和教育局可见）。"
    if not isinstance(percent, int) or not 1 <= percent <= 100:
        errors["percent"] = "减免比例应为 1 至 100。"
    child = Child.objects.filter(pk=child_id, school_id=staff.school_id).first()
    if child is None:
        errors["child"] = "请选择本校的学生。"
    term = SchoolPeriod.objects.filter(pk=term_id, kind=SchoolPeriod.Kind.TERM).first()
    if term is None:
        errors["term"] = "请选择学期。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lock_timeout()  # update_or_create locks the waiver's row (its own select_for_update)
        waiver, created = Waiver.objects.update_or_create(
            child=child, term=term, defaults={"percent": percent, "reason": reason, "by": actor}
        )
        audit_record(
            actor=actor,
            action="afterschool.waiver.set",
            obj=waiver,
            new={"percent": percent, "reason": reason},
        )
        today = timezone.localdate()
        # the bills only (of=self): the offering and plan read with them stay unlocked, as
        # the lock order puts an offering before its bills
        for bill in locked(
            Bill.objects.select_related("enrolment__offering__plan").filter(
                child=child, term=term, status=Bill.Status.OPEN
            ),
            of=("self",),
        ):
            _cancel_locked(bill, actor=actor, reason="困难学生减免，重开账单")
            offering = bill.enrolment.offering
            _bill_create(
                bill.enrolment,
                offering,
                rule_for(offering.school_id),
                (bill.period_start, bill.period_end),
                bill.lessons_from,
                today,
                until=bill.period_end,
            )
    return waiver


# --- settlement ------------------------------------------------------------------------------


@dataclass
class SettlementReport:
    school: School
    term: SchoolPeriod
    bills: list = field(default_factory=list)  # (bill, paid, refunded, consumed)
    providers: dict = field(default_factory=dict)  # provider -> {"lessons", "amount"}
    teachers: dict = field(default_factory=dict)  # staff -> {"lessons", "amount", months}
    monthly: dict = field(default_factory=dict)  # "YYYY-MM" -> {staff: amount}
    open_lessons: int = 0
    rate: Decimal = ZERO
    received: Decimal = ZERO  # the district's per-pupil subsidy (财政奖补, afterschool.funding)
    settled_pool: Decimal | None = None  # the posted settlement's pool, once posted

    @property
    def fees(self) -> Decimal:
        return sum((row[3] for row in self.bills), ZERO)

    @property
    def provider_total(self) -> Decimal:
        return sum((p["amount"] for p in self.providers.values()), ZERO)

    @property
    def subsidy_total(self) -> Decimal:
        return sum((t["amount"] for t in self.teachers.values()), ZERO)

    @property
    def pool(self) -> Decimal:
        """What is left for the teachers' performance pay (negative: the public subsidy,
        财政奖补, has to cover the difference)."""
        return self.fees - self.provider_total - self.subsidy_total

    @property
    def shortfall(self) -> Decimal:
        """What the fees leave uncovered (the posted settlement's figure once posted)."""
        pool = self.pool if self.settled_pool is None else self.settled_pool
        return max(ZERO, -pool)

    @property
    def needed(self) -> Decimal:
        """What the fees leave uncovered and the subsidy received has not covered yet."""
        return max(ZERO, self.shortfall - self.received)

    @property
    def unspent(self) -> Decimal:
        """The subsidy received beyond what the fees left uncovered."""
        return max(ZERO, self.received - self.shortfall)


def settlement_report(school: School, term: SchoolPeriod) -> SettlementReport:
    """The term's figures, from the ledger and the roll-calls, in a fixed number of queries:
    the fee consumed per bill (paid less refunded), providers paid per child-lesson actually
    delivered at the contract price, teachers' subsidies per lesson held (FeeRule rate)."""
    rule = rule_for(school.pk)
    report = SettlementReport(school=school, term=term, rate=rule.subsidy_per_lesson)
    # the district's subsidy credited to the term's pool (afterschool.funding), read in the
    # same query as the bills' accounts
    pool = f"pool:school:{school.pk}:term:{term.pk}"
    offerings = Offering.objects.filter(school=school, plan__term=term)
    report.open_lessons = Lesson.objects.filter(
        offering__in=offerings, status=Lesson.Status.SCHEDULED
    ).count()
    bills = list(
        Bill.objects.filter(
            school=school, term=term, status__in=[Bill.Status.PAID, Bill.Status.WAIVED]
        )
        .select_related("child", "enrolment__offering__contract__provider")
        .order_by("enrolment__offering__name", "child__name", "period_start")
    )
    # the school's rule on every provider bill from two queries (not three per bill)
    provider_bills = [b for b in bills if b.enrolment.offering.contract_id]
    lessons, marks = _lessons_and_marks(
        {b.enrolment.offering_id for b in provider_bills}, {b.child_id for b in provider_bills}
    )
    sums = {}
    for account, kind, total in (
        FeeEntry.objects.filter(account__in=[pool, *(b.account for b in bills)])
        .values_list("account", "transaction__kind")
        .annotate(s=Sum("amount"))
    ):
        sums[(account, kind)] = total
    report.received = -(sums.get((pool, Kind.SUBSIDY)) or ZERO)
    for bill in bills:
        # payments handed back (a second payment, a wrong amount) were never the bill's
        paid = -(sums.get((bill.account, Kind.PAYMENT)) or ZERO) - (
            sums.get((bill.account, Kind.RETURN)) or ZERO
        )
        refunded = sums.get((bill.account, Kind.REFUND)) or ZERO
        settled = sums.get((bill.account, Kind.CONSUME)) or ZERO
        report.bills.append((bill, paid, refunded, paid - refunded - settled))
        contract = bill.enrolment.offering.contract
        if contract is not None:
            course = lessons.get(bill.enrolment.offering_id, [])
            delivered = bill.lessons - _refundable(bill, rule, course, marks)
            row = report.providers.setdefault(contract.provider, {"lessons": 0, "amount": ZERO})
            row["lessons"] += delivered
            row["amount"] += contract.price_per_lesson * delivered
    held_lessons = (
        Lesson.objects.filter(
            offering__in=offerings.filter(contract__isnull=True),
            status=Lesson.Status.HELD,
            offering__teacher__isnull=False,
        )
        .values_list("offering__teacher", "date__year", "date__month")
        .annotate(n=Count("pk"))
    )
    staff = SchoolStaff.objects.in_bulk({t for t, _y, _m, _n in held_lessons})
    for teacher_id, year, month, n in held_lessons:
        teacher = staff[teacher_id]
        row = report.teachers.setdefault(teacher, {"lessons": 0, "amount": ZERO})
        row["lessons"] += n
        row["amount"] += rule.subsidy_per_lesson * n
        report.monthly.setdefault(f"{year}-{month:02d}", {})[teacher] = rule.subsidy_per_lesson * n
    report.monthly = dict(sorted(report.monthly.items()))
    return report


def settlement_post(*, actor, term_id: int) -> Settlement:
    """Close the term's books: refunds still due, then each bill's consumed fee to the
    school's income, and the income shared out to providers, teachers' subsidies and the
    performance pool. Refused while a lesson of the term has no roll-call; posted once."""
    staff = fee_staff(actor)
    require(staff.role == SchoolStaff.Role.PRINCIPAL)  # the principal answers for the books
    term = SchoolPeriod.objects.get(pk=term_id, district_id=staff.school.district_id)
    school = staff.school
    existing = Settlement.objects.filter(school=school, term=term).first()
    if existing is not None:
        return existing
    report = settlement_report(school, term)
    if report.open_lessons:
        raise ValidationError(
            f"还有 {report.open_lessons} 个课次未点名也未取消，全部课次结束并点名后才能结算。"
        )
    refunds_run(actor=actor, school_id=school.pk)
    with transaction.atomic():
        locked(School.objects.filter(pk=school.pk)).get()  # one settlement at a time
        if Settlement.objects.filter(school=school, term=term).exists():
            return Settlement.objects.get(school=school, term=term)
        report = settlement_report(school, term)
        tag = f"school:{school.pk}:term:{term.pk}"
        income = f"income:{tag}"
        consume = [(b.account, c) for b, _p, _r, c in report.bills if c > 0]
        if consume:
            post(
                kind=Kind.CONSUME,
                school_id=school.pk,
                actor=actor,
                key=f"settle:{tag}:consume",
                entries=[*consume, (income, -report.fees)],
                memo="学期结算：确认消费",
            )
        shares = [(income, report.fees)]
        shares += [
            (f"provider:{p.pk}:{tag}", -row["amount"]) for p, row in report.providers.items()
        ]
        shares += [
            (f"subsidy:{tag}:staff:{t.pk}", -row["amount"]) for t, row in report.teachers.items()
        ]
        shares.append((f"pool:{tag}", -report.pool))
        shares = [(a, v) for a, v in shares if v != 0]
        if len(shares) >= 2:
            post(
                kind=Kind.DISTRIBUTE,
                school_id=school.pk,
                actor=actor,
                key=f"settle:{tag}:distribute",
                entries=shares,
                memo="学期结算：分配",
            )
        settlement = Settlement.objects.create(
            school=school,
            term=term,
            by=actor,
            fees=report.fees,
            providers=report.provider_total,
            subsidies=report.subsidy_total,
            pool=report.pool,
        )
        audit_record(
            actor=actor,
            action="afterschool.settlement.posted",
            obj=settlement,
            new={
                "fees": report.fees,
                "providers": report.provider_total,
                "subsidies": report.subsidy_total,
                "pool": report.pool,
            },
        )
    return settlement


# --- a course cancelled (issue 13; called by afterschool.course_life) -------------------------


def on_course_cancelled(enrolment: Enrolment, *, actor) -> dict:
    """A course is cancelled (the caller holds the course lock, has cancelled the lessons
    not yet started and ended the enrolment): each live bill of the enrolment gives back its
    untaken lessons under the school's rule (``refund_view``, as for a withdrawal). A paid
    bill is refunded what is due and not yet refunded (nothing twice); an open or waived
    bill is cancelled and, when some lessons were taken, reissued for those only, at the
    same share. Returns {"refunded": total, "cancelled": bills, "reissued": bills}."""
    rule = rule_for(enrolment.offering.school_id)
    done = {"refunded": ZERO, "cancelled": 0, "reissued": 0}
    bills = locked(
        Bill.objects.filter(enrolment=enrolment).exclude(status=Bill.Status.CANCELLED)
    ).order_by("pk")
    for bill in bills:
        view = refund_view(bill, rule)
        if bill.status == Bill.Status.PAID:
            due = min(view.due_now, held(bill))
            refund_post(bill, due, actor=actor, memo="课程取消，退还未上课次")
            done["refunded"] += max(due, ZERO)
            continue
        _cancel_locked(bill, actor=actor, reason="课程取消，按已上课次重开账单")
        done["cancelled"] += 1
        taken = bill.lessons - view.refundable
        if taken <= 0:
            continue
        gross = bill.fee_per_lesson * taken
        waived = _share(bill.waived, taken, bill.lessons)
        again = Bill.objects.create(
            enrolment=enrolment,
            school_id=bill.school_id,
            child_id=bill.child_id,
            term_id=bill.term_id,
            kind=bill.kind,
            period_start=bill.period_start,
            period_end=bill.period_end,
            lessons_from=bill.lessons_from,
            lessons=taken,
            fee_per_lesson=bill.fee_per_lesson,
            gross=gross,
            waived=waived,
            amount=gross - waived,
            due_on=bill.due_on,
            status=Bill.Status.OPEN if gross - waived > 0 else Bill.Status.WAIVED,
        )
        done["reissued"] += 1
        audit_record(
            actor=actor,
            action="afterschool.bill.issued",
            obj=again,
            new={"amount": again.amount, "lessons": taken, "replaces": bill.pk},
        )
    return done
