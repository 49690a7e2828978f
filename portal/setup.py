"""What every database needs after migrate: the staff groups, the nightly schedule (and the
sweep of timed-out check runs) and the calendar years chinesecalendar knows.

Each is created when missing and never overwritten, so what staff change in the admin (a
group's permissions, the hour of the nightly run, a corrected holiday) survives the next
deployment. (post_migrate rather than a data migration: it also refills a database that a
test flushed.)
"""

import json

from django.conf import settings
from django.contrib.auth.models import Group, Permission

# Bureau staff work in the admin in one group per line of work. Each group gets every
# permission of its app, and may read the shared core.
STAFF_GROUPS = {
    "校外培训": ["institutions"],
    "基础教育/作业": ["homework", "governance"],
    "课后服务": ["afterschool", "supply"],
    "案例库": ["cases"],
}
SHARED_VIEW = [
    "view_district",
    "view_school",
    "view_schoolclass",
    "view_schoolstaff",
    "view_finding",
    "view_checkrun",
    "view_calendarday",
    "view_calendaryear",
    "view_schoolperiod",
    "change_finding",  # assign, close or send back a finding (portal.findings)
    "view_findingstep",
]

NIGHTLY_TASK_NAME = "夜间合规检查"


def models_created(plan) -> set[tuple[str, str]]:
    """(app_label, model_name) of every model this migrate created (from its plan)."""
    from django.db.migrations.operations import CreateModel

    created = set()
    for migration, backwards in plan or []:
        if backwards:
            continue
        for operation in migration.operations:
            if isinstance(operation, CreateModel):
                created.add((migration.app_label, operation.name_lower))
    return created


def ensure_staff_groups(using="default", plan=None):
    """Each group gets its apps' permissions when it is created, and later the permissions
    of models added since (a new app's models reach an existing database's groups), never
    again those staff removed."""
    shared = list(
        Permission.objects.using(using).filter(
            content_type__app_label="portal", codename__in=SHARED_VIEW
        )
    )
    new_models = models_created(plan)
    for name, app_labels in STAFF_GROUPS.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        own = Permission.objects.using(using).filter(content_type__app_label__in=app_labels)
        if created:
            group.permissions.set([*own, *shared])
            continue
        added = [
            p
            for p in own.select_related("content_type")
            if (p.content_type.app_label, p.content_type.model) in new_models
        ]
        if added:
            group.permissions.add(*added)


def ensure_nightly_schedule(using="default"):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=NIGHTLY_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute=str(settings.PORTAL_CHECKS_MINUTE),
        hour=str(settings.PORTAL_CHECKS_HOUR),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.CELERY_TIMEZONE,
    )
    PeriodicTask.objects.using(using).create(
        name=NIGHTLY_TASK_NAME,
        task="portal.checks.nightly",
        crontab=crontab,
        kwargs=json.dumps({}),
        description="每晚运行所有已登记的合规检查（默认北京时间02:00，可在此修改）。",
    )


# the nightly refreshes of what the pages read instead of computing it at every view
DAILY_TASKS = [
    # (name in the admin, task, hour, minute, description)
    ("名单颜色刷新", "institutions.colour.refresh_due", 0, 5,
     "午夜后保存到期或失效的机构名单颜色（在此之前页面按当天规则计算，颜色不会出错）。"),
    ("工作台图表快照", "portal.dashboard.snapshots_refresh", 2, 40,
     "每晚为工作台计算各区本月按月汇总的图表（在检查和作业月报快照之后）。"),
]  # fmt: skip


def ensure_daily_tasks(using="default"):
    """The DAILY_TASKS schedules (Asia/Shanghai), created once, then edited in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, task, hour, minute, description in DAILY_TASKS:
        if PeriodicTask.objects.using(using).filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=str(minute), hour=str(hour), day_of_week="*", day_of_month="*",
            month_of_year="*", timezone=settings.CELERY_TIMEZONE,
        )  # fmt: skip
        PeriodicTask.objects.using(using).create(
            name=name, task=task, crontab=crontab, description=description
        )


SWEEP_TASK_NAME = "超时检查运行清理"
SWEEP_EVERY_MINUTES = 10


def ensure_check_sweep_schedule(using="default"):
    """Every 10 minutes: a check run still running after PORTAL_CHECK_RUN_TIMEOUT (its
    worker died) is marked failed, resolving nothing, so that the next run can go ahead."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=SWEEP_TASK_NAME).exists():
        return
    interval, _ = IntervalSchedule.objects.using(using).get_or_create(
        every=SWEEP_EVERY_MINUTES, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.using(using).create(
        name=SWEEP_TASK_NAME,
        task="portal.checks.sweep",
        interval=interval,
        description=(
            "每10分钟查看一次：超过 PORTAL_CHECK_RUN_TIMEOUT（默认2小时）仍未结束的检查运行"
            "标记为失败（不消除任何检查发现），下一次检查即可运行。"
        ),
    )


DIGEST_TASK_NAME = "每日通知邮件摘要"


def ensure_digest_schedule(using="default"):
    """The daily e-mail digest of the in-site notices, at 07:00 Asia/Shanghai."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=DIGEST_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="0",
        hour="7",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.CELERY_TIMEZONE,
    )
    PeriodicTask.objects.using(using).create(
        name=DIGEST_TASK_NAME,
        task="portal.notices.digest",
        crontab=crontab,
        description="每天把站内通知汇总成一封邮件发给用户（每条通知只发一次）。",
    )


def ensure_calendar_years(using="default"):
    """Every year the pinned chinesecalendar knows (2004-2026 in 1.11.0); later years are
    entered by staff when the State Council publishes them. Returns the years added."""
    import chinese_calendar

    from portal.models import CalendarDay, CalendarYear
    from portal.schoolcalendar import HOLIDAY_NAMES

    days = {}
    for date, name in chinese_calendar.holidays.items():
        days[date] = (CalendarDay.Kind.HOLIDAY, HOLIDAY_NAMES.get(name, name))
    for date, name in chinese_calendar.workdays.items():
        if date.weekday() >= 5:  # a weekend day made a workday (调休上班)
            days[date] = (CalendarDay.Kind.WORKDAY, HOLIDAY_NAMES.get(name, name))
    known = set(CalendarYear.objects.using(using).values_list("year", flat=True))
    added = sorted({d.year for d in days} - known)
    if not added:
        return []
    CalendarYear.objects.using(using).bulk_create(
        [
            CalendarYear(year=y, source=CalendarYear.Source.PACKAGE, note="chinesecalendar")
            for y in added
        ]
    )
    CalendarDay.objects.using(using).bulk_create(
        [
            CalendarDay(date=d, kind=kind, name=name)
            for d, (kind, name) in sorted(days.items())
            if d.year in added
        ],
        ignore_conflicts=True,
    )
    return added
