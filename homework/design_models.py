"""The homework design library (作业设计库) and its review (imported by homework/models.py).

A teacher submits a design for a grade, subject and unit in layers (基础 / 提高 / 拓展), each
with the minutes it takes; the school's review group (作业审核小组, members designated by the
principal) approves it or returns it with comments; the bureau shares approved designs
district-wide (选优推广). Designs are searched with the case library's Chinese search
(cases/search.py: jieba with cases/userdict.txt, BM25 over a term table, here DesignTerm).
A published homework item that was drawn from a design layer says so in DesignUse (the item
itself is homework's, unchanged): its minutes count toward the day's limit as any item's.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from homework.models import SUBJECTS, HomeworkItem

__all__ = ["DesignLayer", "DesignTerm", "DesignUse", "HomeworkDesign", "ReviewMember"]


class ReviewMember(models.Model):
    """A member of a school's 作业审核小组, designated by the principal."""

    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.CASCADE,
        related_name="design_reviewers",
    )  # fmt: skip
    staff = models.OneToOneField(
        "portal.SchoolStaff", verbose_name=_("教职工"), on_delete=models.CASCADE,
        related_name="design_review_member",
    )  # fmt: skip
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("指定人"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    designated_at = models.DateTimeField(_("指定时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("作业审核小组成员")
        verbose_name_plural = _("作业审核小组成员")
        ordering = ["school", "staff__name"]

    def __str__(self):
        return str(self.staff.name)


class HomeworkDesign(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已通过")

    # what may follow what (governance of the review: homework/designs.py)
    TRANSITIONS = {
        Status.SUBMITTED: {Status.APPROVED, Status.RETURNED},
        Status.RETURNED: {Status.SUBMITTED},
        Status.APPROVED: set(),
    }

    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.PROTECT,
        related_name="homework_designs",
    )  # fmt: skip
    author = models.ForeignKey(
        "portal.SchoolStaff", verbose_name=_("设计教师"), on_delete=models.PROTECT,
        related_name="homework_designs",
    )  # fmt: skip
    grade = models.PositiveSmallIntegerField(
        _("年级"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    subject = models.CharField(_("学科"), max_length=10, choices=[(s, s) for s in SUBJECTS])
    unit = models.CharField(_("单元"), max_length=100)
    title = models.CharField(_("标题"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    review_comment = models.TextField(_("审核意见"), blank=True, max_length=1000)
    reviewed_by = models.ForeignKey(
        "portal.SchoolStaff", verbose_name=_("审核人"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    approved_on = models.DateField(_("通过日期"), null=True, blank=True)
    shared_on = models.DateField(_("推广日期"), null=True, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("推广人"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    # the segmentation the search index (DesignTerm) is built from (cases/search.py)
    search_title = models.TextField(_("标题分词"), editable=False, default="")
    search_body = models.TextField(_("正文分词"), editable=False, default="")
    search_length = models.PositiveIntegerField(_("分词长度"), null=True, editable=False)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("作业设计")
        verbose_name_plural = _("作业设计")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["search_length"], name="design_search_length"),
            models.Index(fields=["school", "status"], name="design_school_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=9), name="design_grade_1_9"
            ),
            models.CheckConstraint(
                condition=models.Q(shared_on__isnull=True) | models.Q(status="approved"),
                name="design_shared_only_approved",
            ),
        ]

    def __str__(self):
        return self.title


class DesignLayer(models.Model):
    class Level(models.TextChoices):
        BASIC = "basic", _("基础")
        IMPROVE = "improve", _("提高")
        EXTEND = "extend", _("拓展")

    design = models.ForeignKey(
        HomeworkDesign, verbose_name=_("作业设计"), on_delete=models.CASCADE,
        related_name="layers",
    )  # fmt: skip
    level = models.CharField(_("层次"), max_length=10, choices=Level.choices)
    content = models.TextField(_("作业内容"), max_length=2000)
    minutes = models.PositiveSmallIntegerField(
        _("预计用时（分钟）"), validators=[MinValueValidator(1), MaxValueValidator(300)]
    )

    SCOPE = {"school": "design__school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("作业设计分层")
        verbose_name_plural = _("作业设计分层")
        ordering = ["design", "level"]
        constraints = [
            models.UniqueConstraint(fields=["design", "level"], name="design_layer_unique"),
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1, minutes__lte=300), name="design_layer_minutes"
            ),
        ]

    def __str__(self):
        return f"{self.design}（{self.get_level_display()}）"


class DesignTerm(models.Model):
    """The designs' search index, as cases.CaseTerm: one row per (word, design)."""

    design = models.ForeignKey(
        HomeworkDesign, verbose_name=_("作业设计"), on_delete=models.CASCADE, related_name="+"
    )
    term = models.CharField(_("词"), max_length=64)
    tf = models.PositiveIntegerField(_("词频"))
    dl = models.PositiveIntegerField(_("设计分词长度"))

    class Meta:
        verbose_name = _("作业设计检索词")
        verbose_name_plural = _("作业设计检索词")
        constraints = [
            models.UniqueConstraint(
                fields=["term", "design"], name="design_term_unique", include=["tf", "dl"]
            ),
        ]

    def __str__(self):
        return self.term


class DesignUse(models.Model):
    """A published homework item drawn from a design layer (作业设计的使用)."""

    item = models.OneToOneField(
        HomeworkItem, verbose_name=_("作业"), on_delete=models.CASCADE, related_name="design_use"
    )
    layer = models.ForeignKey(
        DesignLayer, verbose_name=_("作业设计分层"), on_delete=models.PROTECT,
        related_name="uses",
    )  # fmt: skip

    SCOPE = {"school": "item__school_class__school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("作业设计使用")
        verbose_name_plural = _("作业设计使用")

    def __str__(self):
        return f"{self.item_id} ← {self.layer}"
