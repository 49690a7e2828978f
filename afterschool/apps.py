from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AfterschoolConfig(AppConfig):
    name = "afterschool"
    verbose_name = _("课后服务")

    def ready(self):
        post_migrate.connect(_lessons_schedule, sender=self)


LESSONS_TASK_NAME = "课后服务课次补充生成"


def _lessons_schedule(sender, using="default", **kwargs):
    """The nightly extension of lessons, at 01:40 Asia/Shanghai (before the checks at 02:00
    look for a school day without a plan); created once, then edited in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=LESSONS_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="40", hour="1", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.using(using).create(
        name=LESSONS_TASK_NAME, task="afterschool.lessons.extend", crontab=crontab,
        description="为开放报名的课程补充生成课次（日历录入新年度节假日后）。",
    )  # fmt: skip
