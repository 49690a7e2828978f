"""Nightly homework checks, set-based: one aggregate query per rule and chunk of classes,
never a query per class (bench/homework_checks.py measures the difference)."""

import logging

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)

from homework.models import HomeworkItem, HomeworkPolicy
from homework.services import counted_minutes_q
from portal.compliance import Found, register
from portal.models import District, Finding, SchoolClass
from portal.schoolcalendar import CalendarUnknownDay, day_info

log = logging.getLogger(__name__)


def _limit_expr(policy: HomeworkPolicy, grade_field: str):
    return Case(
        When(**{f"{grade_field}__lte": 2}, then=Value(policy.limit_grades_1_2)),
        When(**{f"{grade_field}__lte": 6}, then=Value(policy.limit_grades_3_6)),
        default=Value(policy.limit_grades_7_9),
        output_field=IntegerField(),
    )


def _classes_by_id(ids):
    return {
        c.pk: c
        for c in SchoolClass.objects.filter(pk__in=ids).select_related("school", "school__district")
    }


def _per_class(rows, message):
    """A finding per aggregated row, about its class: ``message(school_class, row)``."""
    by_id = _classes_by_id([r["pk"] for r in rows])
    for row in rows:
        school_class = by_id[row["pk"]]
        yield Found(subject=school_class, school=school_class.school,
                    message=f"{school_class.school.name}{school_class} "
                    + message(row))  # fmt: skip


def _all_classes():
    return SchoolClass.objects.all()


# Each rule aggregates from the chunk's classes (a primary-key range) outward, so a chunk
# reads its own classes and their rows for the night, never the whole class table
# (measured with bench/homework_checks.py: 5.4 ms -> 1.3 ms a chunk on 30,000 classes).


@register(
    "homework.class.over_limit_published",
    title="班级当日公示的书面作业超过时长上限",
    severity=Finding.Severity.WARNING,
    over=_all_classes,
)
def over_limit_published(for_date, classes):
    policy = HomeworkPolicy.current()
    counted = counted_minutes_q(policy, prefix="homework__") & Q(homework__date=for_date)
    rows = list(
        classes.filter(counted)
        .order_by()
        .values("pk", "grade")
        .annotate(total=Sum("homework__minutes"), limit=_limit_expr(policy, "grade"))
        .filter(total__gt=F("limit"))
    )
    yield from _per_class(
        rows, lambda r: f"{for_date} 公示书面作业共 {r['total']} 分钟，超过 {r['limit']} 分钟上限。"
    )


@register(
    "homework.class.over_limit_reported",
    title="家长反馈的平均用时超过上限",
    severity=Finding.Severity.WARNING,
    over=_all_classes,
)
def over_limit_reported(for_date, classes):
    # Grades 1-2 have no written homework at home, so their limit is 0 and any reported
    # minute (reading aloud, practice) would count: their rule is written_in_grades_1_2.
    policy = HomeworkPolicy.current()
    rows = list(
        classes.filter(grade__gte=3, homework_reports__date=for_date)
        .order_by()
        .values("pk", "grade")
        .annotate(
            average=Avg("homework_reports__minutes"),
            reports=Count("homework_reports"),
            limit=_limit_expr(policy, "grade"),
        )
        .filter(reports__gte=policy.min_reports, average__gt=F("limit"))
    )
    yield from _per_class(
        rows,
        lambda r: (
            f"{for_date} 家长反馈平均用时 {r['average']:.0f} 分钟（{r['reports']} 份），"
            f"超过 {r['limit']} 分钟上限。"
        ),
    )


@register(
    "homework.class.not_published",
    title="上学日未公示作业",
    severity=Finding.Severity.INFO,
    over=_all_classes,
)
def not_published(for_date, classes):
    # Grades 1-2 have no written homework to publish; from grade 3 every school day has a
    # publication, even if it says "no written homework today".
    district_ids = set(classes.order_by().values_list("school__district_id", flat=True))
    for district in District.objects.filter(pk__in=district_ids):
        try:
            if not day_info(for_date, district).school_day:
                continue
        except CalendarUnknownDay as exc:
            # the calendar check reports the missing year; here it only means "can't say"
            log.warning("homework.class.not_published skipped for %s: %s", district, exc)
            continue
        published = HomeworkItem.objects.filter(
            school_class=OuterRef("pk"), date=for_date, status=HomeworkItem.Status.PUBLISHED
        )
        missing = (
            classes.filter(school__district=district, grade__gte=3)
            .filter(~Exists(published))
            .select_related("school")
        )
        for school_class in missing:
            yield Found(
                subject=school_class,
                school=school_class.school,
                message=f"{school_class.school.name}{school_class} {for_date}"
                "（上学日）未公示作业。",
            )


@register(
    "homework.class.written_in_grades_1_2",
    title="一、二年级布置了家庭书面作业",
    severity=Finding.Severity.SERIOUS,
    over=_all_classes,
)
def written_in_grades_1_2(for_date, classes):
    rows = list(
        classes.filter(
            grade__lte=2,
            homework__date=for_date,
            homework__written=True,
            homework__status=HomeworkItem.Status.PUBLISHED,
        )
        .order_by()
        .values("pk")
        .annotate(total=Sum("homework__minutes"))
    )
    yield from _per_class(
        rows,
        lambda r: (
            f"{for_date} 布置了家庭书面作业 {r['total']} 分钟（一、二年级不布置家庭书面作业）。"
        ),
    )


from homework import design_checks  # noqa: E402, F401
