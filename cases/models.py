"""Typical cases (典型案例): published collections imported whole, and schools' submissions."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.parsing import THEMES
from portal.models import School

THEME_CHOICES = [(t, t) for t in THEMES]


class SourceDocument(models.Model):
    """A published collection, its original text kept whole."""

    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发文单位"), max_length=200, blank=True)
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    date = models.DateField(_("日期"), null=True, blank=True)
    preface = models.TextField(_("前言与附文"), blank=True)
    # [[start, end], ...]: where the preface's pieces sit in `original`; with the cases'
    # own spans they cover every character of the original exactly once.
    preface_spans = models.JSONField(default=list)
    original = models.TextField(_("原文"))
    fingerprint = models.CharField(_("指纹"), max_length=64, unique=True)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("案例来源文件")
        verbose_name_plural = _("案例来源文件")
        ordering = ["-date", "-imported_at"]

    def __str__(self):
        return f"{self.title}（{self.doc_number}）" if self.doc_number else self.title


class Case(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回")
        SELECTED = "selected", _("已遴选")
        PUBLISHED = "published", _("已推广")

    # 遴选 -> 推广: a school's case is submitted, reviewed (returned with comments and
    # resubmitted as often as needed), selected, then published.
    TRANSITIONS = {
        Status.SUBMITTED: {Status.RETURNED, Status.SELECTED},
        Status.RETURNED: {Status.SUBMITTED},
        Status.SELECTED: {Status.PUBLISHED, Status.RETURNED},
        Status.PUBLISHED: set(),
    }

    title = models.CharField(_("标题"), max_length=300)
    province = models.CharField(_("省"), max_length=30, blank=True)
    city = models.CharField(_("市"), max_length=30, blank=True)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    place = models.CharField(_("地区（原文）"), max_length=100, blank=True)
    unit = models.CharField(_("单位"), max_length=200, blank=True)
    themes = ArrayField(
        models.CharField(max_length=20, choices=THEME_CHOICES), verbose_name=_("主题"), size=4
    )
    theme_source = models.CharField(_("主题来源"), max_length=10, blank=True)
    source = models.ForeignKey(
        SourceDocument,
        verbose_name=_("来源文件"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cases",
    )
    position = models.PositiveIntegerField(_("文中序号"), null=True, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    raw = models.TextField(_("原文片段"), blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True, db_index=True)
    body = models.TextField(_("正文"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("报送学校"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_comment = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # jieba's segmentation, space-separated: what the tsvectors are built from (PostgreSQL's
    # parsers do not split Chinese words). See cases/search.py for why there are two.
    search_title = models.TextField(editable=False, default="")
    search_body = models.TextField(editable=False, default="")
    search_keywords = models.TextField(editable=False, default="")
    search_vector = SearchVectorField(null=True, editable=False)
    rank_vector = SearchVectorField(null=True, editable=False)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")
        ordering = ["-published_on", "source_id", "position", "-id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="case_search_gin"),
            GinIndex(fields=["themes"], name="case_themes_gin"),
            models.Index(fields=["status", "-published_on"], name="case_status_date"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "position"], name="case_position_unique")
        ]

    def __str__(self):
        return self.title

    @property
    def theme(self) -> str:
        return self.themes[0] if self.themes else ""

    @property
    def place_display(self) -> str:
        return "".join(p for p in (self.province, self.city, self.district) if p) or self.place
