"""What every database needs after migrate: the staff groups and the nightly schedule.

Both are created when missing and never overwritten, so what staff change in the admin
(a group's permissions, the hour of the nightly run) survives the next deployment.
"""

import json

from django.conf import settings
from django.contrib.auth.models import Group, Permission

# Bureau staff work in the admin in one group per line of work. Each group gets every
# permission of its app, and may read the shared core.
STAFF_GROUPS = {
    "校外培训": ["institutions"],
    "基础教育/作业": ["homework"],
    "课后服务": ["afterschool"],
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
]

NIGHTLY_TASK_NAME = "夜间合规检查"


def ensure_staff_groups(using="default"):
    shared = list(
        Permission.objects.using(using).filter(
            content_type__app_label="portal", codename__in=SHARED_VIEW
        )
    )
    for name, app_labels in STAFF_GROUPS.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        if created:
            own = Permission.objects.using(using).filter(content_type__app_label__in=app_labels)
            group.permissions.set([*own, *shared])


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
