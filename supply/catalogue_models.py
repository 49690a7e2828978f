"""The district course catalogue (公益课程包, issue 19 part 3): venues and clubs publish free
course packages, schools order them (点单), the bureau dispatches (派单) when demand exceeds
supply, the venue records each visit and the school confirms and rates it (送单).

Every write goes through supply/catalogue.py; reads through supply/catalogue_selectors.py.
Pupils are never named here: an order carries a count, a visit the number reached.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import School, SchoolPeriod
from supply.account_models import Organisation

__all__ = ["CatalogueOrder", "CataloguePackage", "CatalogueVisit", "SchoolLocality"]


class SchoolLocality(models.Model):
    """Whether a school counts as rural (农村学校) for the dispatch rule: the school register
    has no such field, the bureau sets it here (a school without a row is not rural)."""

    school = models.OneToOneField(
        School, verbose_name=_("学校"), on_delete=models.CASCADE, related_name="catalogue_locality"
    )
    rural = models.BooleanField(_("农村学校"), default=False)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    set_at = models.DateTimeField(_("设置时间"), auto_now=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("学校城乡属性")
        verbose_name_plural = _("学校城乡属性")
        ordering = ["school"]

    def __str__(self):
        return f"{self.school}：{'农村' if self.rural else '城镇'}"


class CataloguePackage(models.Model):
    class Kind(models.TextChoices):
        SCIENCE = "science", _("科学探究")
        HISTORY = "history", _("历史文化")
        READING = "reading", _("阅读")
        ARTS = "arts", _("艺术")
        SPORTS = "sports", _("体育")
        NATURE = "nature", _("自然生态")
        OTHER = "other", _("其他")

    class Mode(models.TextChoices):
        TRAVEL = "travel", _("到馆")
        IN_SCHOOL = "in_school", _("送课进校")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("已发布")
        DISPATCHED = "dispatched", _("已派单")
        WITHDRAWN = "withdrawn", _("已撤下")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("发布单位"), on_delete=models.PROTECT,
        related_name="catalogue_packages",
    )  # fmt: skip
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("课程包名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("内容简介"), blank=True)
    grades = models.JSONField(_("适用年级"), default=list)
    visits = models.PositiveIntegerField(_("场次"))
    places_per_visit = models.PositiveIntegerField(_("每场名额"))
    mode = models.CharField(_("形式"), max_length=10, choices=Mode.choices)
    window_start = models.DateField(_("服务开始日期"))
    window_end = models.DateField(_("服务结束日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("派单人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    withdrawn_reason = models.CharField(_("撤下原因"), max_length=200, blank=True)

    SCOPE = {"school": None, "parent": None, "institution": None,
             "organisation": "organisation"}  # fmt: skip

    class Meta:
        verbose_name = _("公益课程包")
        verbose_name_plural = _("公益课程包")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")),
                name="catalogue_package_window_order",
            ),
            models.CheckConstraint(
                condition=Q(visits__gte=1) & Q(places_per_visit__gte=1),
                name="catalogue_package_positive",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def capacity(self) -> int:
        """Pupils the package can take: visits × places per visit."""
        return self.visits * self.places_per_visit

    @property
    def grades_label(self) -> str:
        from portal.models import GRADE_NAMES

        return "、".join(f"{GRADE_NAMES.get(g, g)}年级" for g in sorted(self.grades))


class CatalogueOrder(models.Model):
    """A school's order (点单) of a package for its term; the dispatch (派单) writes what it
    was granted, its rank under the rule and why (supply/catalogue.py)."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("已点单")
        GRANTED = "granted", _("已派单")
        PARTLY = "partly", _("部分派单")
        NOT_GRANTED = "not_granted", _("未派到")
        WITHDRAWN = "withdrawn", _("课程包已撤下")

    package = models.ForeignKey(
        CataloguePackage, verbose_name=_("课程包"), on_delete=models.PROTECT,
        related_name="orders",
    )  # fmt: skip
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    pupils = models.PositiveIntegerField(_("学生人数"))
    preferred_dates = models.JSONField(_("希望日期"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("点单人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    ordered_at = models.DateTimeField(_("点单时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.ORDERED
    )
    # the dispatch's result (派单), with what the rule saw
    granted_visits = models.PositiveIntegerField(_("派单场次"), default=0)
    granted_places = models.PositiveIntegerField(_("派单名额"), default=0)
    rank = models.PositiveIntegerField(_("派单顺位"), null=True, blank=True)
    reason = models.CharField(_("派单说明"), max_length=300, blank=True)
    rural = models.BooleanField(_("派单时为农村学校"), null=True, blank=True)
    school_pupils = models.PositiveIntegerField(_("派单时在校学生数"), null=True, blank=True)

    SCOPE = {"school": "school", "parent": None, "institution": None,
             "organisation": "package__organisation"}  # fmt: skip

    class Meta:
        verbose_name = _("课程包点单")
        verbose_name_plural = _("课程包点单")
        ordering = ["package", "ordered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "school"], name="catalogue_order_once"),
            models.CheckConstraint(condition=Q(pupils__gte=1), name="catalogue_order_pupils"),
        ]

    def __str__(self):
        return f"{self.school} · {self.package}"

    @property
    def is_granted(self) -> bool:
        return self.status in (self.Status.GRANTED, self.Status.PARTLY)


class CatalogueVisit(models.Model):
    """One delivered visit (送单) of a granted order, recorded by the venue; the school
    confirms it and rates it 1–5."""

    order = models.ForeignKey(
        CatalogueOrder, verbose_name=_("点单"), on_delete=models.PROTECT, related_name="visits"
    )
    date = models.DateField(_("日期"))
    pupils_reached = models.PositiveIntegerField(_("服务学生数"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    rating = models.PositiveSmallIntegerField(
        _("学校评分"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip
    comment = models.CharField(_("学校评价"), max_length=200, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    SCOPE = {"school": "order__school", "parent": None, "institution": None,
             "organisation": "order__package__organisation"}  # fmt: skip

    class Meta:
        verbose_name = _("送课记录")
        verbose_name_plural = _("送课记录")
        ordering = ["order", "date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="catalogue_visit_rating_range",
            ),
        ]

    def __str__(self):
        return f"{self.order} · {self.date}"
