"""Funding oversight (经费监管, issue 19 part 4): the per-pupil subsidy, the teachers' subsidy
per lesson, and the district's cap on a course's fee.

Rules (settings in portal/settings.py, "funding")
  * Per-pupil subsidy (财政奖补) of a school for a term = pupils × FUNDING_SUBSIDY_SHARE_PERCENT
    % × FUNDING_SUBSIDY_PER_PUPIL_YEAR 元 ÷ 2 (a school year has two terms; each term gets
    half the yearly amount, whatever its length: vacations are not funded by it). Pupils are
    the school's pupils on the portal unless the bureau gives the official count. Posted by
    bureau staff of the after-school line once per school and term, on the fee ledger:
    ``grant:school:<id>`` (the district's money, debit) → ``pool:school:<id>:term:<id>``
    (credit: the same pool account the settlement shares the fees into), kind 财政奖补.
  * Teachers' subsidy: a school reports each month what it paid each teacher (TeacherPay);
    each lesson held must bring at least AfterschoolPolicy.teacher_subsidy_floor (50 元): a
    teacher paid less than floor × lessons held in the month, or not reported, is under it.
  * Fee cap: a term course's fee per lesson × its lessons in the term may not exceed
    FUNDING_FEE_CAP_PER_TERM 元 (lunch-break care and holiday care have their own rules).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from afterschool.funding_models import SubsidyGrant, TeacherPay
from afterschool.models import AfterschoolPolicy, FeeTransaction, Lesson, Offering
from portal.audit import audit_record
from portal.locks import locked
from portal.models import Child, School, SchoolPeriod, SchoolStaff
from portal.notices import notify
from portal.permissions import is_bureau, is_school_manager, require

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TERMS_A_YEAR = 2
PUPILS_MAX = 100000
PAY_MAX = Decimal("100000")
# courses under the cap: a term's courses; lunch-break care (午托) and holiday care have
# their own fee rules
CAPPED_KINDS = {
    Offering.Kind.CARE,
    Offering.Kind.HOMEWORK,
    Offering.Kind.ENRICHMENT,
    Offering.Kind.COMMUNITY,
}


def grant_account(school_id: int) -> str:
    return f"grant:school:{school_id}"


def pool_account(school_id: int, term_id: int) -> str:
    """The school's pool of the term (fees.settlement_post credits it with what is left)."""
    return f"pool:school:{school_id}:term:{term_id}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return month_start(day) + relativedelta(months=1) - dt.timedelta(days=1)


# --- the fee cap (called by operations.publish_problems) --------------------------------------


def term_lessons(offering: Offering) -> int:
    """The lessons the course will have in its term: those already generated (not
    cancelled), or, before publication, its weekday on the school's open days from its first
    day to its last; in a year the calendar does not know yet every such weekday counts
    (the cap errs on the family's side)."""
    from afterschool.lessons import open_days
    from portal.schoolcalendar import missing_years

    existing = (
        offering.lessons.exclude(status=Lesson.Status.CANCELLED).count() if offering.pk else 0
    )
    term = offering.plan.term
    first = max(term.start, offering.starts_on or term.start)
    last = min(term.end, offering.ends_on or term.end)
    if first > last:
        return existing
    days, _note = open_days(offering.school, first, last)
    planned = sum(1 for d in days if d.weekday() == offering.weekday)
    unknown = set(missing_years(range(first.year, last.year + 1)))
    if unknown:
        day = first
        while day <= last:
            if day.year in unknown and day.weekday() == offering.weekday:
                planned += 1
            day += dt.timedelta(days=1)
    return max(existing, planned)


def fee_cap_problem(offering: Offering) -> str | None:
    if offering.kind not in CAPPED_KINDS or not offering.fee_per_lesson:
        return None
    if offering.plan.term.kind != SchoolPeriod.Kind.TERM:
        return None
    cap = Decimal(settings.FUNDING_FEE_CAP_PER_TERM)
    lessons = term_lessons(offering)
    total = offering.fee_per_lesson * lessons
    if total <= cap:
        return None
    return (
        f"课程收费超过本区上限：每课时{offering.fee_per_lesson}元 × 本学期{lessons}课时 = "
        f"{total}元，超过每生每学期{cap}元的收费上限（FUNDING_FEE_CAP_PER_TERM），"
        "请降低每课时收费或减少课时。"
    )


def publish_problems(offering: Offering) -> list[str]:
    """Why the course's fee keeps it from opening (over the district's cap), in Chinese."""
    problem = fee_cap_problem(offering)
    return [problem] if problem else []


# --- the per-pupil subsidy ---------------------------------------------------------------------


@dataclass
class Formula:
    pupils: int
    share_percent: int
    per_pupil_year: Decimal
    amount: Decimal

    @property
    def text(self) -> str:
        return (
            f"{self.pupils}人 × {self.share_percent}% × {self.per_pupil_year}元/年 ÷ "
            f"{TERMS_A_YEAR} = {self.amount}元"
        )


def subsidy_formula(pupils: int) -> Formula:
    share = settings.FUNDING_SUBSIDY_SHARE_PERCENT
    per_year = Decimal(settings.FUNDING_SUBSIDY_PER_PUPIL_YEAR).quantize(CENT)
    amount = (Decimal(pupils) * share * per_year / 100 / TERMS_A_YEAR).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return Formula(pupils, share, per_year, amount)


def pupils_of(school_id: int) -> int:
    return Child.objects.filter(school_id=school_id).count()


def subsidy_post(*, actor, school_id, term_id, pupils=None) -> SubsidyGrant:
    """Post the per-pupil subsidy of one school for one term (bureau staff of the
    after-school line). Once per school and term: posting again returns the grant already
    posted (``replayed`` True) and writes nothing."""
    require(is_bureau(actor, line="afterschool", perm="afterschool.add_subsidygrant"))
    errors = {}
    school = School.objects.filter(pk=school_id).first() if school_id else None
    if school is None:
        errors["school"] = "请选择学校。"
    term = None
    if term_id and school is not None:
        term = SchoolPeriod.objects.filter(pk=term_id, district_id=school.district_id).first()
    if term is None:
        errors["term"] = "请选择该校所在区的学期。"
    elif term.kind != SchoolPeriod.Kind.TERM:
        errors["term"] = f"{term.name}是假期，财政奖补按学期核拨（寒暑假托管另行核算）。"
    if pupils is not None and (not isinstance(pupils, int) or not 0 <= pupils <= PUPILS_MAX):
        errors["pupils"] = f"学生数应为 0 至 {PUPILS_MAX} 之间的整数。"
    if errors:
        raise ValidationError(errors)
    formula = subsidy_formula(pupils_of(school.pk) if pupils is None else pupils)
    if formula.amount <= 0:
        raise ValidationError({"pupils": f"按公式 {formula.text}，本学期奖补为 0，不能入账。"})
    from afterschool.fees import post  # fees imports the models; funding is imported early

    with transaction.atomic():
        locked(School.objects.filter(pk=school.pk)).get()  # as the settlement: one at a time
        existing = SubsidyGrant.objects.filter(school=school, term=term).first()
        if existing is not None:
            existing.replayed = True
            return existing
        _after_grant_read()
        tx = post(
            kind=FeeTransaction.Kind.SUBSIDY,
            school_id=school.pk,
            actor=actor,
            key=f"grant:school:{school.pk}:term:{term.pk}",
            entries=[
                (grant_account(school.pk), formula.amount),
                (pool_account(school.pk, term.pk), -formula.amount),
            ],
            memo=f"财政奖补：{formula.text}"[:300],
        )
        grant = SubsidyGrant.objects.create(
            school=school,
            term=term,
            pupils=formula.pupils,
            share_percent=formula.share_percent,
            per_pupil_year=formula.per_pupil_year,
            amount=formula.amount,
            transaction=tx,
            by=actor,
        )
        audit_record(
            actor=actor,
            action="afterschool.funding.subsidy_posted",
            obj=grant,
            new={"term": term.name, "formula": formula.text, "amount": formula.amount},
        )
        managers = SchoolStaff.objects.filter(
            school=school, role__in=SchoolStaff.MANAGER_ROLES
        ).values_list("user_id", flat=True)
        notify(
            managers,
            key=f"funding:grant:{grant.pk}",
            message=f"{term.name}课后服务财政奖补{formula.amount}元已入账（{formula.text}）。",
            url="/afterschool/fees/settlement/",
        )
    grant.replayed = False
    return grant


def _after_grant_read():
    """A seam for the concurrency tests: both posters have looked for the grant."""


def subsidy_received(school_id: int, term_id: int) -> Decimal:
    """What the district's subsidy brought to the school's pool of the term (the ledger)."""
    from afterschool.models import FeeEntry
    from portal import ledger

    return -ledger.balance(
        FeeEntry,
        pool_account(school_id, term_id),
        transaction__kind=FeeTransaction.Kind.SUBSIDY,
    )


# --- the teachers' subsidy per lesson ----------------------------------------------------------


def lessons_held(schools, start: dt.date, end: dt.date) -> dict:
    """{(school id, staff id, first of month): lessons held} of the school's own courses
    (not a provider's) between ``start`` and ``end``: one query."""
    rows = (
        Lesson.objects.filter(
            offering__school__in=schools,
            offering__contract__isnull=True,
            offering__teacher__isnull=False,
            status=Lesson.Status.HELD,
            date__range=(start, end),
        )
        .values_list("offering__school_id", "offering__teacher_id", "date__year", "date__month")
        .annotate(n=Count("pk"))
    )
    return {(s, t, dt.date(y, m, 1)): n for s, t, y, m, n in rows}


def _money(raw, label: str, errors: dict, key: str):
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        errors[key] = f"{label}的实发补助应为金额（元）。"
        return None
    if not value.is_finite() or value != value.quantize(CENT) or not ZERO <= value <= PAY_MAX:
        errors[key] = f"{label}的实发补助应为 0 至 {PAY_MAX} 元、最多两位小数的金额。"
        return None
    return value.quantize(CENT)


def teacher_pay_report(*, actor, month: dt.date, amounts: dict, today=None) -> list[TeacherPay]:
    """The school's monthly report of the subsidy paid to each teacher (principal or 教导处):
    ``amounts`` {staff id: 元}. The lessons are counted from the month's roll-calls; a
    report again for the same teacher and month replaces the amount (audited, old and new).
    A month not yet begun is refused."""
    require(is_school_manager(actor))
    school_id = actor.school_staff.school_id
    today = today or timezone.localdate()
    month = month_start(month)
    errors = {}
    if month > month_start(today):
        errors["month"] = f"{month:%Y-%m}尚未开始，不能填报。"
    staff = SchoolStaff.objects.in_bulk(list(amounts))
    values = {}
    for staff_id, raw in amounts.items():
        person = staff.get(staff_id)
        if person is None or person.school_id != school_id:
            errors["amounts"] = "只能填报本校教师的课时补助。"
            continue
        value = _money(raw, person.name, errors, f"amount_{staff_id}")
        if value is not None:
            values[person] = value
    if not values and not errors:
        errors["amounts"] = "请至少填写一位教师的实发补助。"
    if errors:
        raise ValidationError(errors)
    held = lessons_held([school_id], month, month_end(month))
    out = []
    with transaction.atomic():
        # two managers reporting at once: one after the other (a new row would clash on
        # the UNIQUE of teacher and month)
        locked(School.objects.filter(pk=school_id)).get()
        current = {
            p.staff_id: p
            for p in locked(TeacherPay.objects.filter(school_id=school_id, month=month))
        }
        for person, value in sorted(values.items(), key=lambda x: x[0].pk):
            lessons = held.get((school_id, person.pk, month), 0)
            row = current.get(person.pk)
            old = {"amount": row.amount, "lessons": row.lessons} if row else None
            if row is None:
                row = TeacherPay(school_id=school_id, staff=person, month=month)
            row.amount, row.lessons, row.by = value, lessons, actor
            row.save()
            audit_record(
                actor=actor,
                action="afterschool.funding.teacher_pay_reported",
                obj=row,
                old=old,
                new={"month": f"{month:%Y-%m}", "amount": value, "lessons": lessons},
            )
            out.append(row)
    return out


def floor() -> Decimal:
    """The district's floor per lesson (AfterschoolPolicy; its default before the policy row
    exists): one query, and a read never writes the row."""
    found = AfterschoolPolicy.objects.filter(pk=1).values_list("teacher_subsidy_floor").first()
    if found is None:
        return AfterschoolPolicy._meta.get_field("teacher_subsidy_floor").get_default()
    return found[0]
