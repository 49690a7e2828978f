from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AfterschoolConfig(AppConfig):
    name = "afterschool"
    verbose_name = _("课后服务")

    def ready(self):
        post_migrate.connect(_schedules, sender=self)
        from afterschool.course_life import on_term_closed
        from portal.terms import term_closed

        term_closed.connect(on_term_closed, dispatch_uid="afterschool.term_closed")
        from afterschool import lunch  # noqa: F401  (registers its waiting-list rule)


# (name, task, minute, hour, description): created once, then edited in the admin
SCHEDULES = [
    # 01:40 Asia/Shanghai, before the checks at 02:00 look for a school day without lessons
    ("课后服务课次补充生成", "afterschool.lessons.extend", "40", "1",
     "为开放报名的课程补充生成课次（日历录入新年度节假日后）。"),
    ("课后服务账单到期提醒", "afterschool.bills.remind", "30", "6",
     "提醒家长三天内到期的课后服务账单（每张账单只提醒一次）。"),
    # 01:20, the night after a course's last lesson
    ("课后服务课程自动结课", "afterschool.offerings.finish", "20", "1",
     "最后一次课次之后的夜间将课程标记为已结课，报名记为已结课，家长可评价。"),
]  # fmt: skip


def _schedules(sender, using="default", **kwargs):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, task, minute, hour, description in SCHEDULES:
        if PeriodicTask.objects.using(using).filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="Asia/Shanghai",
        )  # fmt: skip
        PeriodicTask.objects.using(using).create(
            name=name, task=task, crontab=crontab, description=description
        )
