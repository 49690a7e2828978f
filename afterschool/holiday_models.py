"""Holiday care (暑期/寒假托管, issue 17 part 1): host sites the bureau designates for a vacation.

A ``HostSite`` is a care site (a school, or a community site) that hosts the pupils of the
schools it serves for a winter or summer vacation: its capacity, weeks, days, hours and the
fee of a week block. Opening it creates one Offering (kind HOLIDAY) per week block on the
shared engine (enrolment, waiting list, bills per block, attendance, refunds); ``HostWeek``
ties each block to its offering. Every write goes through afterschool/holiday.py.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["HostSite", "HostWeek"]


class HostSite(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("待开放")
        OPEN = "open", _("已开放")
        CLOSED = "closed", _("已关闭")

    vacation = models.ForeignKey(
        "portal.SchoolPeriod", verbose_name=_("假期"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    site = models.ForeignKey(
        "afterschool.CareSite", verbose_name=_("托管点"), on_delete=models.PROTECT,
        related_name="host_sites",
    )  # fmt: skip
    capacity = models.PositiveSmallIntegerField(_("每周名额"), validators=[MinValueValidator(1)])
    served_schools = models.ManyToManyField(
        "portal.School", verbose_name=_("服务学校"), related_name="holiday_host_sites"
    )
    # the Mondays the week blocks start on
    weeks = ArrayField(models.DateField(), verbose_name=_("托管周（每周周一）"))
    days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        verbose_name=_("服务日"),
    )
    morning_start = models.TimeField(_("上午开始"))
    morning_end = models.TimeField(_("上午结束"))
    afternoon_start = models.TimeField(_("下午开始"), null=True, blank=True)
    afternoon_end = models.TimeField(_("下午结束"), null=True, blank=True)
    fee_per_week = models.DecimalField(
        _("每周收费（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("指定人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    # the host school's staff see their school's designation; parents see the week blocks
    # (offerings) rather than this row
    SCOPE = {"school": "site__school", "parent": None, "site": "site"}

    class Meta:
        verbose_name = _("假期托管点")
        verbose_name_plural = _("假期托管点")
        ordering = ["-vacation__start", "site__name"]
        constraints = [
            models.UniqueConstraint(fields=["vacation", "site"], name="as_host_once_a_vacation")
        ]

    def __str__(self):
        return f"{self.site.name}（{self.vacation.name}）"


class HostWeek(models.Model):
    """One week block of a host site: its offering on the engine."""

    host = models.ForeignKey(
        HostSite, verbose_name=_("假期托管点"), on_delete=models.CASCADE, related_name="blocks"
    )
    week = models.DateField(_("周一"))
    offering = models.OneToOneField(
        "afterschool.Offering", verbose_name=_("课后服务课程"), on_delete=models.PROTECT,
        related_name="holiday_week",
    )  # fmt: skip

    SCOPE = {"school": "host__site__school", "parent": None, "site": "host__site"}

    class Meta:
        verbose_name = _("假期托管周")
        verbose_name_plural = _("假期托管周")
        ordering = ["host", "week"]
        constraints = [models.UniqueConstraint(fields=["host", "week"], name="as_host_week_once")]

    def __str__(self):
        return f"{self.host} {self.week}"
