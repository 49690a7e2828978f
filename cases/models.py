"""Typical cases (典型案例): published collections imported whole, and schools' submissions."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.parsing import THEMES
from portal.models import School

# The themes of the case library (DOMAIN.md §4); the stored value is the Chinese name, the
# label is translatable (English in locale/en).
THEME_LABELS = {
    "校外培训治理": _("校外培训治理"),
    "作业管理": _("作业管理"),
    "课后服务": _("课后服务"),
    "校内教育教学": _("校内教育教学"),
    "家校社协同": _("家校社协同"),
    "科学教育": _("科学教育"),
    "劳动教育": _("劳动教育"),
    "体育美育": _("体育美育"),
    "关爱帮扶": _("关爱帮扶"),
    "综合": _("综合"),
}
THEME_CHOICES = [(t, THEME_LABELS[t]) for t in THEMES]


class SourceDocument(models.Model):
    """A published collection, its original text kept whole."""

    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发文单位"), max_length=200, blank=True)
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    date = models.DateField(_("日期"), null=True, blank=True)
    preface = models.TextField(_("前言与附文"), blank=True)
    # [[start, end], ...]: where the preface's pieces sit in `original`; with the cases'
    # own spans they cover every character of the original exactly once.
    preface_spans = models.JSONField(_("前言位置"), default=list)
    original = models.TextField(_("原文"))
    fingerprint = models.CharField(_("指纹"), max_length=64, unique=True)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("案例来源文件")
        verbose_name_plural = _("案例来源文件")
        ordering = ["-date", "-imported_at"]

    def __str__(self):
        return f"{self.title}（{self.doc_number}）" if self.doc_number else self.title


class Case(models.Model):
    class YearSource(models.TextChoices):
        DATE = "date", _("发布日期")
        TITLE = "title", _("标题中的年份")
        TEXT = "text", _("正文中的年份")

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
    # several themes, the first the main one (a section heading's, or the best scored)
    themes = ArrayField(
        models.CharField(_("主题"), max_length=20, choices=THEME_CHOICES),
        verbose_name=_("主题"),
        size=4,
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
    start = models.PositiveIntegerField(_("原文起始位置"), null=True, blank=True)
    end = models.PositiveIntegerField(_("原文结束位置"), null=True, blank=True)
    raw = models.TextField(_("原文片段"), blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True, db_index=True)
    # the year the filter offers: the date's, else one named in a title, else the latest
    # year the collection's text speaks of (cases.parsing.infer_year)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True, db_index=True)
    year_source = models.CharField(
        _("年份来源"), max_length=10, choices=YearSource.choices, blank=True
    )
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
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    review_comment = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # sha256 of the body with whitespace and punctuation taken out (cases.parsing.
    # content_hash): the same case imported twice, in another file or another layout, is
    # the same row. NULL for none (NULLs are distinct under UNIQUE).
    content_hash = models.CharField(
        _("正文指纹"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    # jieba's segmentation, space-separated, and its length (title words counted
    # search.TITLE_WEIGHT times): what the index (CaseTerm) is built from. See cases/search.py.
    search_title = models.TextField(_("标题分词"), editable=False, default="")
    search_body = models.TextField(_("正文分词"), editable=False, default="")
    search_length = models.PositiveIntegerField(_("分词长度"), null=True, editable=False)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")
        ordering = ["-published_on", "source_id", "position", "-id"]
        indexes = [
            GinIndex(fields=["themes"], name="case_themes_gin"),
            # the library's size and mean length for BM25, read from the index alone
            models.Index(fields=["search_length"], name="case_search_length"),
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
    def theme_labels(self) -> list[str]:
        """The themes as the reader's language names them."""
        return [str(THEME_LABELS.get(t, t)) for t in self.themes or []]

    @property
    def year_display(self) -> str:
        return str(self.year) if self.year else ""

    @property
    def place_display(self) -> str:
        return "".join(p for p in (self.province, self.city, self.district) if p) or self.place


class CaseTerm(models.Model):
    """The search index: how often a word occurs in a case (title words weighted), one row
    per (word, case). BM25 reads the rows of a query's words only (cases/search.py)."""

    case = models.ForeignKey(
        Case, verbose_name=_("典型案例"), on_delete=models.CASCADE, related_name="+"
    )
    term = models.CharField(_("词"), max_length=64)
    tf = models.PositiveIntegerField(_("词频"))
    # the case's length (Case.search_length), repeated here so that BM25 reads only this
    # table's index (term, case) INCLUDE (tf, dl): an index-only scan, no visit to the cases
    dl = models.PositiveIntegerField(_("案例分词长度"))

    class Meta:
        verbose_name = _("案例检索词")
        verbose_name_plural = _("案例检索词")
        constraints = [
            models.UniqueConstraint(
                fields=["term", "case"], name="case_term_unique", include=["tf", "dl"]
            ),
        ]

    def __str__(self):
        return f"{self.term}×{self.tf}"
