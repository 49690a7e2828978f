"""Models of the matching fair (双向选择会, issue 19 part 2): a fair for a term, schools'
needs, admitted providers' offers, both sides' ranked choices, and the matches the bureau's
one run of the matching makes (supply/fair.py has the rules and the algorithm).

Who sees what (``SCOPE``, and supply/fair_selectors.py where a side must see the other's
postings to rank them): a school its own needs and matches; an organisation its own offers and
matches; the needs and offers of an open fair are shown to the other side without pupils'
data (a school's name, kind, grades, days, places, the budget or the price).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.models import GRADE_NAMES

__all__ = ["Fair", "FairChoice", "FairMatch", "FairNeed", "FairOffer", "FairKind"]

WEEKDAY_NAMES = "一二三四五六日"


class FairKind(models.TextChoices):
    """The kind of course a need asks for and an offer gives (课程类别)."""

    SPORTS = "sports", _("体育")
    ARTS = "arts", _("艺术")
    SCIENCE = "science", _("科技")
    READING = "reading", _("阅读与语言")
    LABOUR = "labour", _("劳动实践")
    OTHER = "other", _("其他")


def _grades_field():
    return ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(9)]),
        verbose_name=_("面向年级"),
    )


def _days_field():
    return ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        verbose_name=_("服务日"),
    )


def grades_text(grades) -> str:
    return "、".join(f"{GRADE_NAMES.get(g, g)}年级" for g in sorted(grades))


def days_text(days) -> str:
    return "、".join(f"周{WEEKDAY_NAMES[d]}" for d in sorted(days))


class Fair(models.Model):
    """One 双向选择会 of a district for one term: open (needs, offers and choices are posted),
    closed (choices frozen), matched (the bureau ran the matching, once)."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已截止")
        MATCHED = "matched", _("已匹配")

    term = models.OneToOneField(
        "portal.SchoolPeriod", verbose_name=_("学期"), on_delete=models.PROTECT,
        related_name="fair",
    )  # fmt: skip
    name = models.CharField(_("名称"), max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    matched_at = models.DateTimeField(_("匹配时间"), null=True, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("匹配人"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    # the schools of the term's district; organisations see fairs through the selectors
    SCOPE = {"school": "term__district__schools", "parent": None}

    class Meta:
        verbose_name = _("双向选择会")
        verbose_name_plural = _("双向选择会")
        ordering = ["-term__start", "-pk"]

    def __str__(self):
        return self.name


class FairNeed(models.Model):
    """A school's need (需求): a kind of course for some grades on some days, with places
    (pupils) and a budget per lesson."""

    fair = models.ForeignKey(
        Fair, verbose_name=_("双向选择会"), on_delete=models.CASCADE, related_name="needs"
    )
    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.PROTECT,
        related_name="fair_needs",
    )  # fmt: skip
    kind = models.CharField(_("课程类别"), max_length=10, choices=FairKind.choices)
    grades = _grades_field()
    weekdays = _days_field()
    places = models.PositiveSmallIntegerField(_("学生人数"), validators=[MinValueValidator(1)])
    budget_per_lesson = models.DecimalField(_("课时预算（元）"), max_digits=8, decimal_places=2)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("学校需求")
        verbose_name_plural = _("学校需求")
        ordering = ["fair", "school", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_per_lesson__gt=0), name="fair_need_budget")
        ]

    def __str__(self):
        return f"{self.school}·{self.get_kind_display()}（{grades_text(self.grades)}）"

    @property
    def grades_text(self):
        return grades_text(self.grades)

    @property
    def days_text(self):
        return days_text(self.weekdays)


class FairOffer(models.Model):
    """An admitted provider's offer (供给): a kind of course for some grades on some days, a
    price per lesson below its price outside school, and how many needs (schools) it can
    serve (``capacity``, the offer's quota in the matching)."""

    fair = models.ForeignKey(
        Fair, verbose_name=_("双向选择会"), on_delete=models.CASCADE, related_name="offers"
    )
    organisation = models.ForeignKey(
        "supply.Organisation", verbose_name=_("机构"), on_delete=models.PROTECT,
        related_name="fair_offers",
    )  # fmt: skip
    provider = models.ForeignKey(
        "afterschool.Provider", verbose_name=_("课后服务机构名单"), on_delete=models.PROTECT,
        related_name="fair_offers",
    )  # fmt: skip
    title = models.CharField(_("课程名称"), max_length=100)
    kind = models.CharField(_("课程类别"), max_length=10, choices=FairKind.choices)
    grades = _grades_field()
    weekdays = _days_field()
    places = models.PositiveSmallIntegerField(_("每班人数"), validators=[MinValueValidator(1)])
    capacity = models.PositiveSmallIntegerField(
        _("可服务学校数"), validators=[MinValueValidator(1)], default=1
    )
    price_per_lesson = models.DecimalField(_("课时单价（元）"), max_digits=8, decimal_places=2)
    outside_price = models.DecimalField(_("校外同类课时价（元）"), max_digits=8, decimal_places=2)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "organisation": "organisation"}

    class Meta:
        verbose_name = _("机构供给")
        verbose_name_plural = _("机构供给")
        ordering = ["fair", "organisation", "pk"]
        constraints = [
            # 点餐制, as the contracts: the price clearly below the price outside school
            models.CheckConstraint(
                condition=Q(price_per_lesson__gt=0) & Q(price_per_lesson__lt=F("outside_price")),
                name="fair_offer_below_outside_price",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="fair_offer_capacity"),
        ]

    def __str__(self):
        return f"{self.organisation}·{self.title}"

    @property
    def grades_text(self):
        return grades_text(self.grades)

    @property
    def days_text(self):
        return days_text(self.weekdays)


class FairChoice(models.Model):
    """One ranked choice: a school ranks offers for one of its needs (side "school"), a
    provider ranks needs for one of its offers (side "provider"). Rank 1 is the first choice;
    ranks are unique per need (school side) and per offer (provider side), so ties cannot
    arise."""

    class Side(models.TextChoices):
        SCHOOL = "school", _("学校")
        PROVIDER = "provider", _("机构")

    need = models.ForeignKey(
        FairNeed, verbose_name=_("需求"), on_delete=models.CASCADE, related_name="choices"
    )
    offer = models.ForeignKey(
        FairOffer, verbose_name=_("供给"), on_delete=models.CASCADE, related_name="choices"
    )
    side = models.CharField(_("选择方"), max_length=10, choices=Side.choices)
    rank = models.PositiveSmallIntegerField(_("志愿顺序"), validators=[MinValueValidator(1)])

    SCOPE = {"school": "need__school", "parent": None, "organisation": "offer__organisation"}

    class Meta:
        verbose_name = _("志愿")
        verbose_name_plural = _("志愿")
        ordering = ["side", "need", "offer", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["need", "offer", "side"], name="fair_choice_once"),
            models.UniqueConstraint(
                fields=["need", "rank"], condition=Q(side="school"), name="fair_school_rank_unique"
            ),
            models.UniqueConstraint(
                fields=["offer", "rank"],
                condition=Q(side="provider"),
                name="fair_provider_rank_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_side_display()}第{self.rank}志愿"


class FairMatch(models.Model):
    """A need matched with an offer by the matching, with the draft contract it became
    (afterschool ProviderContract at the offer's price)."""

    class How(models.TextChoices):
        MUTUAL_FIRST = "mutual_first", _("互为第一志愿")
        DEFERRED = "deferred", _("延迟接受")

    fair = models.ForeignKey(
        Fair, verbose_name=_("双向选择会"), on_delete=models.CASCADE, related_name="matches"
    )
    need = models.OneToOneField(
        FairNeed, verbose_name=_("需求"), on_delete=models.CASCADE, related_name="match"
    )
    offer = models.ForeignKey(
        FairOffer, verbose_name=_("供给"), on_delete=models.PROTECT, related_name="matches"
    )
    how = models.CharField(_("匹配方式"), max_length=15, choices=How.choices)
    school_rank = models.PositiveSmallIntegerField(_("学校志愿"))
    provider_rank = models.PositiveSmallIntegerField(_("机构志愿"))
    contract = models.OneToOneField(
        "afterschool.ProviderContract", verbose_name=_("合同草案"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="fair_match",
    )  # fmt: skip
    created_at = models.DateTimeField(_("匹配时间"), auto_now_add=True)

    SCOPE = {"school": "need__school", "parent": None, "organisation": "offer__organisation"}

    class Meta:
        verbose_name = _("匹配结果")
        verbose_name_plural = _("匹配结果")
        ordering = ["fair", "need__school", "need"]

    def __str__(self):
        return f"{self.need} ↔ {self.offer}"
