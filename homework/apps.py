from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class HomeworkConfig(AppConfig):
    name = "homework"
    verbose_name = _("作业")

    def ready(self):
        post_migrate.connect(_snapshot_schedule, sender=self)


SNAPSHOT_TASK_NAME = "作业月报快照"


def _snapshot_schedule(sender, using="default", **kwargs):
    """The dashboard's copy of the monthly report, at 02:30 Asia/Shanghai (after the
    checks); created once, then edited in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=SNAPSHOT_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.using(using).create(
        name=SNAPSHOT_TASK_NAME, task="homework.reports.snapshot", crontab=crontab,
        description="每晚为工作台计算各区本月作业月报（工作台读取该快照）。",
    )  # fmt: skip
