from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("校外培训机构")

    def ready(self):
        post_migrate.connect(_default_price_tiers, sender=self)
        post_migrate.connect(_release_schedule, sender=self)
        _invalidate_public_pages_on_change()


def _invalidate_public_pages_on_change():
    """Any saved or deleted row behind the public pages makes their cache stale."""
    from django.db.models.signals import post_delete, post_save

    from institutions import models
    from portal.models import District
    from portal.public_cache import bump

    def stale(sender, **kwargs):
        bump("institutions")

    for model in (models.Institution, models.SupervisedAccount, models.AnnualReview,
                  models.Course, models.CourseSlot, models.PriceTier, models.TrainingPolicy,
                  models.ListChange, models.Sanction, models.EnforcementNotice,
                  models.NoticeEntry, District):  # fmt: skip
        post_save.connect(
            stale, sender=model, weak=False, dispatch_uid=f"public-cache-{model._meta.label}"
        )
        post_delete.connect(
            stale, sender=model, weak=False, dispatch_uid=f"public-cache-del-{model._meta.label}"
        )


RELEASE_TASK_NAME = "预收费延时释放"


def _release_schedule(sender, using="default", **kwargs):
    """The nightly sweep of delay-rule releases, at 01:30 Asia/Shanghai (before the checks
    at 02:00 look at balances); created once, then edited in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=RELEASE_TASK_NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute="30", hour="1", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.using(using).create(
        name=RELEASE_TASK_NAME, task="institutions.escrow.release_due", crontab=crontab,
        description="按延时释放规则，释放已到期的预收费。",
    )  # fmt: skip


def _default_price_tiers(sender, using="default", **kwargs):
    """The price guidance of settings.INSTITUTION_PRICE_TIERS, when the bureau has none yet
    (afterwards staff edit the tiers in the admin)."""
    from decimal import Decimal

    from django.conf import settings

    from institutions.models import PriceTier

    if PriceTier.objects.using(using).exists():
        return
    PriceTier.objects.using(using).bulk_create(
        [PriceTier(min_size=lo, max_size=hi, cap=Decimal(cap))
         for lo, hi, cap in settings.INSTITUTION_PRICE_TIERS]
    )  # fmt: skip
