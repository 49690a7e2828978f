"""Nightly checks of the institutions: licences, reviews, prices, training times, and the
escrow's own (institutions/escrow_checks.py)."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef

from institutions import (  # noqa: F401
    account_checks,
    claim_checks,
    complaint_checks,
    enforcement_checks,
    escrow_checks,  # noqa: F401  (registers the escrow's checks)
    refund_checks,
    sale_checks,
)
from institutions.models import AnnualReview, Course, Institution, TrainingPolicy
from institutions.selectors import list_changed_at
from institutions.services import _calendar_problems, _slot_problems, price_cap, record_colour
from portal.compliance import Found, register
from portal.models import Finding


def _live():
    # deregistered institutions and those without a licence are out of scope of these rules
    return Institution.objects.exclude(governance=Institution.Governance.DEREGISTERED).exclude(
        licence_number=""
    )


@register(
    "institutions.licence.expiring",
    title="办学许可证即将到期或已过期",
    severity=Finding.Severity.WARNING,
    over=_live,
)
def licence_expiring(for_date, institutions):
    soon = for_date + dt.timedelta(days=30)
    for i in institutions.filter(licence_expires__lte=soon).only("id", "name", "licence_expires"):
        days = (i.licence_expires - for_date).days
        if days < 0:
            # the colour changed at the expiry, whatever ran: record it with that moment
            record_colour(i, when=list_changed_at(i, today=for_date))
            yield Found(
                subject=i,
                institution_id=i.pk,
                severity=Finding.Severity.SERIOUS,
                message=f"{i.name}的办学许可证已于 {i.licence_expires} 过期，已移出白名单。",
            )
        elif days <= 7:
            yield Found(
                subject=i,
                institution_id=i.pk,
                severity=Finding.Severity.SERIOUS,
                message=f"{i.name}的办学许可证将于 {i.licence_expires} 到期（{days} 天内）。",
            )
        else:
            yield Found(
                subject=i,
                institution_id=i.pk,
                message=f"{i.name}的办学许可证将于 {i.licence_expires} 到期（30 天内）。",
            )


@register(
    "institutions.review.overdue",
    title="年检逾期或未通过",
    severity=Finding.Severity.WARNING,
    over=_live,
)
def review_overdue(for_date, institutions):
    policy = TrainingPolicy.current()
    since = for_date - relativedelta(months=policy.review_valid_months)
    passed = AnnualReview.objects.filter(
        institution=OuterRef("pk"), result=AnnualReview.Result.PASSED, date__gte=since
    )
    for i in institutions.filter(~Exists(passed)).only("id", "name"):
        yield Found(
            subject=i, institution_id=i.pk, message=f"{i.name}在 {since} 之后没有合格的年检记录。"
        )


def _active_courses():
    return Course.objects.filter(active=True)


@register(
    "institutions.course.price_over_cap",
    title="课程价格超过政府指导价",
    severity=Finding.Severity.SERIOUS,
    over=_active_courses,
)
def price_over_cap(for_date, courses):
    policy = TrainingPolicy.current()
    for c in courses.select_related("institution"):
        if not c.is_subject_type:
            continue
        cap = price_cap(
            class_size=c.class_size, lesson_minutes=c.lesson_minutes, mode=c.mode, policy=policy
        )
        if cap is not None and c.price_per_lesson > cap:
            yield Found(
                subject=c,
                institution_id=c.institution_id,
                message=f"{c.institution.name}“{c.name}”每课时 {c.price_per_lesson} 元，"
                f"超过政府指导价上限 {cap} 元。",
            )


@register(
    "institutions.course.forbidden_time",
    title="学科类培训安排在禁止的时间",
    severity=Finding.Severity.SERIOUS,
    over=_active_courses,
)
def forbidden_time(for_date, courses):
    # Courses saved before a rule or the calendar changed: re-check what is still to come.
    policy = TrainingPolicy.current()
    for c in (
        courses.filter(term_end__gte=for_date)
        .select_related("institution__district")
        .prefetch_related("slots")
    ):
        if not c.is_subject_type:
            continue
        slots = list(c.slots.all())
        problems = _slot_problems(c, slots, policy)
        if not problems:
            upcoming = Course(**{f.attname: getattr(c, f.attname) for f in Course._meta.fields})
            upcoming.term_start = max(c.term_start, for_date)
            upcoming.term_end = min(c.term_end, for_date + dt.timedelta(days=31))
            problems = [
                p
                for p in _calendar_problems(upcoming, slots, c.institution.district, policy)
                if "无法核对" not in p
            ]
        if problems:
            yield Found(
                subject=c,
                institution_id=c.institution_id,
                message=f"{c.institution.name}“{c.name}”：{problems[0]}",
            )
