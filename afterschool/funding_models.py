"""Models of the funding part (经费监管, issue 19 part 4): the per-pupil public subsidy posted
to a school for a term (财政奖补) and the teachers' subsidy a school reports it paid each
teacher for a month (课时补助月报). Money itself moves on the fee ledger (fees.py)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from afterschool.fee_models import FeeTransaction
from portal.models import School, SchoolPeriod, SchoolStaff

__all__ = ["SubsidyGrant", "TeacherPay"]


class SubsidyGrant(models.Model):
    """The per-pupil subsidy of one school for one term, posted once on the fee ledger
    (``grant:school:<id>`` → the school's pool of the term). The formula's inputs are kept
    as they were on the day, so a later change of the settings does not rewrite history."""

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    pupils = models.PositiveIntegerField(_("在校学生数"))
    share_percent = models.PositiveSmallIntegerField(_("补助学生比例（%）"))
    per_pupil_year = models.DecimalField(_("生均补助（元/年）"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("本学期奖补（元）"), max_digits=12, decimal_places=2)
    transaction = models.OneToOneField(
        FeeTransaction,
        verbose_name=_("记账"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("入账时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("课后服务财政奖补")
        verbose_name_plural = _("课后服务财政奖补")
        ordering = ["-posted_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "term"], name="as_grant_once_a_term"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="as_grant_positive"),
        ]

    def __str__(self):
        return f"{self.school} {self.term.name} {self.amount}元"


class TeacherPay(models.Model):
    """What a school reports it paid one of its teachers in subsidy for one month's
    after-school lessons (课时补助月报); the lessons are counted from the roll-calls (lessons
    held of the teacher's own courses) when reported."""

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        SchoolStaff, verbose_name=_("教师"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("月份（当月1日）"))
    lessons = models.PositiveSmallIntegerField(_("课时"))
    amount = models.DecimalField(
        _("实发补助（元）"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("填报时间"), auto_now=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("教师课时补助月报")
        verbose_name_plural = _("教师课时补助月报")
        ordering = ["-month", "school", "staff__name"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "month"], name="as_teacher_pay_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="as_teacher_pay_positive"),
        ]

    def __str__(self):
        return f"{self.staff} {self.month:%Y-%m} {self.amount}元"
