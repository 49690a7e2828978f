"""Models of lunch-break care (午托, issue 17 part 3): a school's month of lunch care is one
Offering of kind LUNCH (seats are its capacity); ``LunchMonth`` carries what only lunch care
has (beds, the fee per month, the weekdays offered) and ``LunchChoice`` a child's rest
arrangement and days beside their Enrolment."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["LunchChoice", "LunchMonth"]

WEEKDAY_LABELS = ["周一", "周二", "周三", "周四", "周五"]


class LunchMonth(models.Model):
    """One month of a school's lunch care: its offering (seats, per-day fee, daily lessons)
    and its beds (平躺睡), a capacity of its own beside the seats."""

    offering = models.OneToOneField(
        "afterschool.Offering", verbose_name=_("午托课程"), on_delete=models.PROTECT,
        related_name="lunch_month",
    )  # fmt: skip
    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.PROTECT,
        related_name="lunch_months",
    )  # fmt: skip
    month = models.DateField(_("月份（当月1日）"))
    beds = models.PositiveSmallIntegerField(_("床位数"))
    fee_per_month = models.DecimalField(
        _("每月收费（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(4)]),
        verbose_name=_("开放日（周一至周五）"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("开设人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("开设时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": "school__children__parents__user"}

    class Meta:
        verbose_name = _("午托月份")
        verbose_name_plural = _("午托月份")
        ordering = ["-month", "school"]
        constraints = [
            models.UniqueConstraint(fields=["school", "month"], name="as_one_lunch_month")
        ]

    def __str__(self):
        return f"{self.school} {self.month:%Y-%m} 午托"

    @property
    def days_label(self) -> str:
        return "、".join(WEEKDAY_LABELS[d] for d in sorted(self.days))


class LunchChoice(models.Model):
    """A child's choice in a month of lunch care, beside their Enrolment (1:1)."""

    class Arrangement(models.TextChoices):
        BED = "bed", _("平躺睡（床位）")
        DESK = "desk", _("趴睡（课桌）")

    enrolment = models.OneToOneField(
        "afterschool.Enrolment", verbose_name=_("报名"), on_delete=models.PROTECT,
        related_name="lunch_choice",
    )  # fmt: skip
    arrangement = models.CharField(_("午休方式"), max_length=4, choices=Arrangement.choices)
    days = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(4)]),
        verbose_name=_("午托日（周一至周五）"),
    )

    SCOPE = {"school": "enrolment__offering__school", "parent": "enrolment__child__parents__user"}

    class Meta:
        verbose_name = _("午托选择")
        verbose_name_plural = _("午托选择")

    def __str__(self):
        return f"{self.enrolment.child} {self.get_arrangement_display()}"

    @property
    def days_label(self) -> str:
        return "、".join(WEEKDAY_LABELS[d] for d in sorted(self.days))
