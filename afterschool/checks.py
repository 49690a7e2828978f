"""Nightly after-school checks, set-based: one query per rule and chunk, never one per row."""

import datetime as dt
import logging

from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractIsoWeekDay

from afterschool.models import (
    AfterschoolPolicy,
    Attendance,
    Bill,
    Enrolment,
    FeeRule,
    Lesson,
    Offering,
    PlanItem,
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


# --- the day-to-day running (lessons, rooms, plan items) ---------------------------------------


@register(
    "afterschool.lesson.no_roll_call",
    title="课次结束但未完成点名",
    severity=Finding.Severity.WARNING,
    over=lambda: Lesson.objects.all(),
)
def lesson_without_roll(for_date, lessons):
    """A lesson before ``for_date``, not cancelled, whose roll-call was never submitted (the
    run at 02:00 judges the days that have ended)."""
    rows = lessons.filter(status=Lesson.Status.SCHEDULED, date__lt=for_date).select_related(
        "offering__school"
    )
    for lesson in rows:
        yield Found(
            subject=lesson,
            school=lesson.offering.school,
            message=f"{lesson.offering.school.name}“{lesson.offering.name}”{lesson.date} "
            f"{lesson.start:%H:%M} 的课次已结束，没有完成点名。",
        )


@register(
    "afterschool.offering.no_lessons",
    title="课程已到首次上课日但没有课次",
    severity=Finding.Severity.WARNING,
    over=lambda: Offering.objects.all(),
)
def offering_without_lessons(for_date, offerings):
    # the course's first day in SQL: its start (or its term's), moved on to its weekday
    start = Coalesce("starts_on", "plan__term__start")
    first_day = ExpressionWrapper(
        start + (((F("weekday") - ExtractIsoWeekDay(start) + 1 + 7) % 7) * dt.timedelta(days=1)),
        output_field=DateField(),
    )  # fmt: skip
    rows = (
        offerings.filter(status=Offering.Status.PUBLISHED)
        .annotate(first_day=first_day)
        .filter(first_day__lt=for_date)
        .exclude(Exists(Lesson.objects.filter(offering=OuterRef("pk"))))
        .select_related("school")
    )
    for offering in rows:
        yield Found(
            subject=offering,
            school=offering.school,
            message=f"{offering.school.name}的课程“{offering.name}”应于{offering.first_day}开课，"
            f"但没有任何课次。",
        )


@register(
    "afterschool.offering.low_attendance",
    title="课程出勤率低于标准",
    severity=Finding.Severity.INFO,
    over=lambda: Offering.objects.all(),
)
def low_attendance(for_date, offerings):
    threshold = AfterschoolPolicy.current().attendance_threshold
    rows = (
        offerings.annotate(
            marks=Count("lessons__attendance", filter=Q(lessons__status=Lesson.Status.HELD,
                                                        lessons__date__lt=for_date)),
            present=Count("lessons__attendance", filter=Q(
                lessons__status=Lesson.Status.HELD, lessons__date__lt=for_date,
                lessons__attendance__mark=Attendance.Mark.PRESENT)),
        )
        .filter(marks__gt=0, present__lt=F("marks") * threshold / 100.0)
        .select_related("school")
    )  # fmt: skip
    for offering in rows:
        rate = offering.present * 100 / offering.marks
        yield Found(
            subject=offering,
            school=offering.school,
            message=f"{offering.school.name}“{offering.name}”已上课次的出勤率为{rate:.1f}%，"
            f"低于{threshold}%。",
        )


@register(
    "afterschool.offering.unfit",
    title="课程没有批准的方案或教室，或超出教室容量",
    severity=Finding.Severity.WARNING,
    over=lambda: Offering.objects.all(),
)
def offering_unfit(for_date, offerings):
    rows = (
        offerings.filter(status=Offering.Status.PUBLISHED)
        .filter(
            ~Q(plan__status__in=[SchoolPlan.Status.APPROVED, SchoolPlan.Status.IN_EFFECT])
            | Q(room__isnull=True)
            | Q(room__capacity__lt=F("capacity"))
        )
        .select_related("school", "plan", "room")
    )
    for o in rows:
        if o.plan.status not in (SchoolPlan.Status.APPROVED, SchoolPlan.Status.IN_EFFECT):
            why = f"方案状态为“{o.plan.get_status_display()}”"
        elif o.room is None:
            why = "没有安排教室"
        else:
            why = f"{o.room.name}只能容纳{o.room.capacity}人，名额{o.capacity}人"
        yield Found(subject=o, school=o.school,
                    message=f"{o.school.name}的课程“{o.name}”开放报名，但{why}。")  # fmt: skip


@register(
    "afterschool.plan_item.understaffed",
    title="方案服务项目的授课教师少于计划",
    severity=Finding.Severity.INFO,
    over=lambda: PlanItem.objects.all(),
)
def plan_item_understaffed(for_date, items):
    rows = (
        items.filter(plan__status__in=[SchoolPlan.Status.APPROVED, SchoolPlan.Status.IN_EFFECT],
                     plan__term__start__lte=for_date, plan__term__end__gte=for_date)
        .annotate(staffed=Count("offerings__teacher", distinct=True,
                                filter=Q(offerings__status=Offering.Status.PUBLISHED)))
        .filter(staffed__lt=F("teachers"))
        .select_related("plan__school")
    )  # fmt: skip
    for item in rows:
        school = item.plan.school
        yield Found(subject=item, school=school,
                    message=f"{school.name}方案中的“{item.name}”计划{item.teachers}名教师，"
                    f"课程上只有{item.staffed}名。")  # fmt: skip


# the checks of care beyond the school day and of funding, one module per part
from afterschool import (  # noqa: E402,F401
    funding_checks,
    holiday_checks,
    lunch_checks,
    people_checks,
    sites_checks,
)
