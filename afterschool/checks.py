"""Nightly after-school checks, set-based: one query per rule and chunk, never one per row."""

import logging

from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum

from afterschool.models import (
    AfterschoolPolicy,
    Bill,
    Enrolment,
    FeeRule,
    Offering,
    Provider,
    ProviderReview,
    SchoolPlan,
)
from afterschool.providers import review_due_since
from portal.compliance import Found, register
from portal.models import District, Finding, School
from portal.schoolcalendar import CalendarUnknownDay, day_info

log = logging.getLogger(__name__)


@register(
    "afterschool.school.no_plan_in_effect",
    title="上学日没有实施中的课后服务方案",
    severity=Finding.Severity.WARNING,
    over=lambda: School.objects.all(),
)
def no_plan_in_effect(for_date, schools):
    district_ids = set(schools.values_list("district_id", flat=True))
    school_day = []
    for district in District.objects.filter(pk__in=district_ids):
        try:
            if day_info(for_date, district).school_day:
                school_day.append(district.pk)
        except CalendarUnknownDay as exc:
            # a day the calendar cannot judge is no finding: the calendar's own check says so
            log.info("afterschool.no_plan_in_effect skips %s: %s", district, exc)
    if not school_day:
        return
    in_effect = SchoolPlan.objects.filter(
        school=OuterRef("pk"),
        status=SchoolPlan.Status.IN_EFFECT,
        term__start__lte=for_date,
        term__end__gte=for_date,
    )
    for school in schools.filter(district_id__in=school_day).exclude(Exists(in_effect)):
        yield Found(
            subject=school,
            school=school,
            message=f"{school.name} {for_date} 为上学日，但没有实施中的课后服务方案（一校一案）。",
        )


@register(
    "afterschool.provider.review_overdue",
    title="课后服务第三方机构年审逾期",
    severity=Finding.Severity.WARNING,
    over=lambda: Provider.objects.all(),
)
def review_overdue(for_date, providers):
    since = review_due_since(for_date)
    passed = ProviderReview.objects.filter(provider=OuterRef("pk"), passed=True, date__gte=since)
    # a provider admitted within the period is not yet due its first review
    overdue = providers.filter(status=Provider.Status.ADMITTED).exclude(
        Q(admitted_on__gte=since) | Exists(passed)
    )
    for provider in overdue:
        yield Found(
            subject=provider,
            message=f"{provider.name} 自 {since} 以来没有通过的年审，请组织年审或办理退出。",
        )


@register(
    "afterschool.provider.exited_on_menu",
    title="已退出名单的机构仍在课程菜单上",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Offering.objects.all(),
)
def exited_on_menu(for_date, offerings):
    rows = offerings.filter(
        status=Offering.Status.PUBLISHED,
        contract__provider__status__in=[Provider.Status.EXITED, Provider.Status.REJECTED],
    ).select_related("school", "contract__provider")
    for offering in rows:
        provider = offering.contract.provider
        yield Found(
            subject=offering,
            school=offering.school,
            message=f"{offering.school.name}的课程“{offering.name}”仍开放报名，"
            f"但提供机构{provider.name}已{provider.get_status_display()}。",
        )


@register(
    "afterschool.offering.over_capacity",
    title="课后服务课程报名人数超过名额",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Offering.objects.all(),
)
def over_capacity(for_date, offerings):
    rows = (
        offerings.filter(status=Offering.Status.PUBLISHED)
        .annotate(taken=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.ENROLLED)))
        .filter(taken__gt=F("capacity"))
        .select_related("school")
    )
    for offering in rows:
        yield Found(
            subject=offering,
            school=offering.school,
            message=f"{offering.school.name}的课程“{offering.name}”已报名{offering.taken}人，"
            f"超过名额{offering.capacity}人。",
        )


@register(
    "afterschool.school.subsidy_under_floor",
    title="教师课后服务课时补助低于标准",
    severity=Finding.Severity.WARNING,
)
def subsidy_under_floor(for_date):
    floor = AfterschoolPolicy.current().teacher_subsidy_floor
    for rule in FeeRule.objects.filter(subsidy_per_lesson__lt=floor).select_related("school"):
        yield Found(
            subject=rule.school,
            school=rule.school,
            message=f"{rule.school.name}的教师课时补助为每课时{rule.subsidy_per_lesson}元，"
            f"低于本区标准{floor}元。",
        )


@register(
    "afterschool.bill.overdue",
    title="课后服务账单逾期未缴",
    severity=Finding.Severity.INFO,
    over=lambda: School.objects.all(),
)
def bills_overdue(for_date, schools):
    rows = (
        Bill.objects.filter(school__in=schools, status=Bill.Status.OPEN, due_on__lt=for_date)
        .values("school_id")
        .annotate(n=Count("pk"), total=Sum("amount"), oldest=Min("due_on"))
    )
    names = dict(schools.values_list("pk", "name"))
    for row in rows:
        school = School(pk=row["school_id"], name=names[row["school_id"]])
        yield Found(
            subject=school,
            school=school,
            message=f"{school.name}有{row['n']}张课后服务账单逾期未缴，共{row['total']}元，"
            f"最早{row['oldest']}到期。",
        )
