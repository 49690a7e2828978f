"""A school's exam calendar (考试安排), entered by its managers and checked against the MoE
2021 exam notice (issue 18, part 5; the rules in governance/exams.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import School

__all__ = ["Exam"]


class Exam(models.Model):
    class Kind(models.TextChoices):
        MIDTERM = "midterm", _("期中")
        FINAL = "final", _("期末")
        UNIT = "unit", _("单元测验")

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="exams"
    )
    subject = models.CharField(_("学科"), max_length=20)
    grade = models.PositiveSmallIntegerField(
        _("年级"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    kind = models.CharField(_("考试类型"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("考试日期"))
    # 考试结果实行等级评价，不得公布排名: kept as a field so that a row entered in the admin
    # with it set is a finding; the service refuses it
    ranked = models.BooleanField(_("按排名公布成绩"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("考试安排")
        verbose_name_plural = _("考试安排")
        ordering = ["school", "date", "grade", "subject"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=9), name="exam_grade_1_9"
            )
        ]

    def __str__(self):
        return f"{self.grade}年级{self.subject}{self.get_kind_display()}（{self.date}）"
