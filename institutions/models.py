"""Off-campus training institutions: register, licences, reviews, governance, the list
colour, courses with prices and schedules, and the supervised accounts of their fees.

The escrow ledger itself lives in institutions/escrow_models.py (imported at the bottom)."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import District, Policy

SUBJECT_TYPE = ["道德与法治", "语文", "历史", "地理", "数学", "外语", "物理", "化学", "生物"]
NON_SUBJECT_TYPE = ["体育", "文化艺术", "科技", "综合实践"]
# The stored value is the Chinese name (data and URLs keep it); the label is translatable,
# each written out so that makemessages finds it.
SUBJECT_LABELS = {
    "道德与法治": _("道德与法治"),
    "语文": _("语文"),
    "历史": _("历史"),
    "地理": _("地理"),
    "数学": _("数学"),
    "外语": _("外语"),
    "物理": _("物理"),
    "化学": _("化学"),
    "生物": _("生物"),
    "体育": _("体育"),
    "文化艺术": _("文化艺术"),
    "科技": _("科技"),
    "综合实践": _("综合实践"),
}
SUBJECT_CHOICES = [(s, SUBJECT_LABELS[s]) for s in SUBJECT_TYPE + NON_SUBJECT_TYPE]


class TrainingPolicy(Policy):
    """The bureau's numbers for training, one row, editable in the admin. Defaults: the
    national rules and the price guidance quoted in DOMAIN.md (Dali, Ziyang)."""

    price_float_percent = models.DecimalField(
        _("政府指导价上浮上限（%）"), max_digits=5, decimal_places=2,
        default=Decimal(settings.INSTITUTION_PRICE_FLOAT_PERCENT),
    )  # fmt: skip
    standard_minutes_offline = models.PositiveSmallIntegerField(
        _("线下标准课时（分钟）"), default=settings.INSTITUTION_STANDARD_MINUTES["offline"]
    )
    standard_minutes_online = models.PositiveSmallIntegerField(
        _("线上标准课时（分钟）"), default=settings.INSTITUTION_STANDARD_MINUTES["online"]
    )
    latest_end_offline = models.TimeField(
        _("线下培训最晚结束"),
        default=dt.time.fromisoformat(settings.INSTITUTION_LATEST_END["offline"]),
    )
    latest_end_online = models.TimeField(
        _("线上培训最晚结束"),
        default=dt.time.fromisoformat(settings.INSTITUTION_LATEST_END["online"]),
    )
    online_lesson_max_minutes = models.PositiveSmallIntegerField(
        _("线上单课时最长（分钟）"), default=settings.INSTITUTION_ONLINE_MAX_MINUTES
    )
    online_break_minutes = models.PositiveSmallIntegerField(
        _("线上课间至少（分钟）"), default=settings.INSTITUTION_ONLINE_BREAK_MINUTES
    )
    makeup_saturday_is_rest_day = models.BooleanField(
        _("调休上班的周六仍视为休息日"), default=settings.INSTITUTION_MAKEUP_SATURDAY_IS_REST
    )
    review_valid_months = models.PositiveSmallIntegerField(
        _("年检有效期（月）"), default=settings.INSTITUTION_REVIEW_VALID_MONTHS
    )

    class Meta:
        verbose_name = _("校外培训规定")
        verbose_name_plural = _("校外培训规定")

    def __str__(self):
        return str(_("校外培训规定"))


class PriceTier(models.Model):
    """政府指导价: the cap per student per standard lesson for a class size."""

    min_size = models.PositiveSmallIntegerField(_("班额下限"))
    max_size = models.PositiveSmallIntegerField(_("班额上限"))
    cap = models.DecimalField(_("基准价（元/生·课时）"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("政府指导价档次")
        verbose_name_plural = _("政府指导价档次")
        ordering = ["min_size"]

    def __str__(self):
        return f"{self.min_size}–{self.max_size}人：{self.cap}元"


class Institution(models.Model):
    class Category(models.TextChoices):
        SUBJECT = "subject", _("学科类")
        NON_SUBJECT = "non_subject", _("非学科类")

    class Mode(models.TextChoices):
        OFFLINE = "offline", _("线下")
        ONLINE = "online", _("线上")

    class Nature(models.TextChoices):
        FOR_PROFIT = "for_profit", _("营利性")
        NON_PROFIT = "non_profit", _("非营利性")

    class Governance(models.TextChoices):
        NOT_APPLICABLE = "n/a", _("不适用")
        PENDING = "pending", _("待治理")
        CONVERTING = "converting", _("营转非办理中")
        CONVERTED = "converted", _("已营转非")
        STRIPPING = "stripping", _("剥离办理中")
        STRIPPED = "stripped", _("已剥离学科类业务")
        DEREGISTERING = "deregistering", _("注销办理中")
        DEREGISTERED = "deregistered", _("已注销")

    # 营转非 / 剥离 / 注销: the allowed moves of a subject-type institution.
    GOVERNANCE_TRANSITIONS = {
        Governance.PENDING: {Governance.CONVERTING, Governance.STRIPPING, Governance.DEREGISTERING},
        Governance.CONVERTING: {Governance.CONVERTED, Governance.DEREGISTERING},
        Governance.STRIPPING: {Governance.STRIPPED, Governance.DEREGISTERING},
        Governance.CONVERTED: {Governance.DEREGISTERING},
        Governance.STRIPPED: {Governance.DEREGISTERING},
        Governance.DEREGISTERING: {Governance.DEREGISTERED},
        Governance.DEREGISTERED: set(),
        Governance.NOT_APPLICABLE: set(),
    }

    name = models.CharField(_("机构名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    credit_code_override = models.BooleanField(_("校验位例外（历史代码）"), default=False)
    credit_code_override_reason = models.CharField(_("例外理由"), max_length=200, blank=True)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    subjects = ArrayField(
        models.CharField(max_length=10, choices=SUBJECT_CHOICES), verbose_name=_("培训科目"),
        default=list, blank=True,
    )  # fmt: skip
    mode = models.CharField(_("形式"), max_length=8, choices=Mode.choices)
    nature = models.CharField(_("法人性质"), max_length=12, choices=Nature.choices)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("所在区"), on_delete=models.PROTECT, related_name="institutions"
    )
    scale = models.PositiveIntegerField(_("在训学员规模"), default=0)
    licence_number = models.CharField(_("办学许可证号"), max_length=50, blank=True)
    licence_issued = models.DateField(_("发证日期"), null=True, blank=True)
    licence_expires = models.DateField(_("有效期至"), null=True, blank=True, db_index=True)
    licence_revoked = models.BooleanField(_("许可证已吊销"), default=False)
    governance = models.CharField(
        _("治理状态"), max_length=14, choices=Governance.choices, default=Governance.NOT_APPLICABLE
    )
    suspended_reason = models.CharField(_("暂停原因"), max_length=300, blank=True)
    suspended_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Every two-character piece of the name, for partial-match search of Chinese names
    # through a GIN index (the embedded PostgreSQL has no pg_trgm); see institutions/search.py.
    name_grams = SearchVectorField(_("名称检索词"), null=True, editable=False)
    # The list colour as institutions.colour.refresh last computed it, its reasons (codes and
    # dates, rendered by colour.render_reasons) and the last day it holds by time alone;
    # NULL = stale. Only the refresh writes them: a trigger (migration 0009) keeps any other
    # write from setting them and makes them stale when an input of the colour changes, and
    # every reader falls back to computing the colour when colour_until < today or NULL.
    list_colour = models.CharField(_("名单颜色（存储）"), max_length=5, blank=True, editable=False)
    list_reasons = models.JSONField(_("名单原因（存储）"), default=list, editable=False)
    colour_until = models.DateField(_("名单颜色有效至"), null=True, editable=False)

    SCOPE = {"school": None, "parent": None, "institution": ""}

    class Meta:
        verbose_name = _("校外培训机构")
        verbose_name_plural = _("校外培训机构")
        ordering = ["name", "id"]
        indexes = [
            GinIndex(fields=["name_grams"], name="inst_name_grams"),
            # the register's order: the public search's first page without a name
            models.Index(fields=["name", "id"], name="inst_name_id"),
            GinIndex(fields=["subjects"], name="inst_subjects"),
            models.Index(fields=["district", "category"], name="inst_district_category"),
            # the dashboard's colour count of a district (institutions.dashboard.by_colour)
            # from the index alone: the rows whose stored colour holds, and the others
            models.Index(
                fields=["district", "colour_until"],
                include=["list_colour"],
                name="inst_district_colour",
            ),  # fmt: skip
        ]

    def __str__(self):
        return self.name

    @property
    def is_subject_type(self) -> bool:
        return self.category == self.Category.SUBJECT

    @property
    def subject_labels(self) -> list:
        """The subjects in the reader's language (the stored values are the Chinese names)."""
        return [SUBJECT_LABELS.get(s, s) for s in self.subjects or []]


class NameGram(models.Model):
    """One two-character piece of an institution's name, with the name: the public search's
    index (institutions.selectors.public_search_page). The unique index (gram, name,
    institution) lists a piece's institutions in the search's order, so a page and its
    count are read from the index alone (no visit to each match's row, as the GIN index
    of ``name_grams`` needs to sort by name). Written only by triggers (migration 0011) on
    institutions_institution: an INSERT adds the pieces, a change of the name replaces them;
    a delete takes them with it."""

    gram = models.CharField(_("名称片段"), max_length=2)
    name = models.CharField(_("机构名称"), max_length=200)
    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("机构名称检索片段")
        verbose_name_plural = _("机构名称检索片段")
        constraints = [
            models.UniqueConstraint(
                fields=["gram", "name", "institution"], name="inst_namegram_key"
            )
        ]

    def __str__(self):
        return f"{self.gram} {self.name}"


class AnnualReview(models.Model):
    class Result(models.TextChoices):
        PASSED = "passed", _("合格")
        RECTIFY = "rectify", _("限期整改")
        FAILED = "failed", _("不合格")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.CASCADE, related_name="reviews"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    result = models.CharField(_("结论"), max_length=10, choices=Result.choices)
    date = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("年检")
        verbose_name_plural = _("年检")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year"], name="inst_review_per_year")
        ]

    def __str__(self):
        return f"{self.institution} {self.year} {self.get_result_display()}"


class GovernanceStep(models.Model):
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("培训机构"),
        on_delete=models.CASCADE,
        related_name="governance_steps",
    )
    from_status = models.CharField(
        _("原状态"), max_length=14, choices=Institution.Governance.choices
    )
    to_status = models.CharField(_("新状态"), max_length=14, choices=Institution.Governance.choices)
    date = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("治理进度")
        verbose_name_plural = _("治理进度")
        ordering = ["institution", "created_at", "id"]

    def __str__(self):
        return f"{self.institution} {self.from_status}→{self.to_status}"


class SupervisedAccount(models.Model):
    """How an institution's prepaid fees are supervised (预收费监管)."""

    class Kind(models.TextChoices):
        ESCROW = "escrow", _("银行托管")
        DEPOSIT = "deposit", _("风险保证金")

    institution = models.OneToOneField(
        Institution,
        verbose_name=_("培训机构"),
        on_delete=models.CASCADE,
        related_name="supervised_account",
    )
    kind = models.CharField(_("监管方式"), max_length=8, choices=Kind.choices)
    bank = models.CharField(_("银行"), max_length=100)
    account_name = models.CharField(_("账户名称"), max_length=200)
    account_number = models.CharField(_("账号"), max_length=40)
    deposit_amount = models.DecimalField(
        _("保证金余额（元）"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    active = models.BooleanField(_("有效"), default=True)
    opened_on = models.DateField(_("开立日期"), default=dt.date.today)

    class Meta:
        verbose_name = _("资金监管账户")
        verbose_name_plural = _("资金监管账户")

    def __str__(self):
        return f"{self.institution} {self.get_kind_display()} {self.bank}"

    @property
    def masked_number(self) -> str:
        n = self.account_number
        return f"{n[:4]}****{n[-4:]}" if len(n) > 8 else "****"


class ListChange(models.Model):
    """Each time an institution's list colour changed, and why (the public page says when)."""

    institution = models.ForeignKey(
        Institution,
        verbose_name=_("培训机构"),
        on_delete=models.CASCADE,
        related_name="list_changes",
    )

    class Colour(models.TextChoices):
        # the same three as institutions.colour (white / grey / black)
        WHITE = "white", _("白名单")
        GREY = "grey", _("灰名单")
        BLACK = "black", _("黑名单")

    colour = models.CharField(_("名单颜色"), max_length=5, choices=Colour.choices)
    reasons = models.JSONField(_("原因"), default=list)
    changed_at = models.DateTimeField(_("变更时间"), db_index=True)

    class Meta:
        verbose_name = _("名单变更")
        verbose_name_plural = _("名单变更")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.institution} → {self.colour}"


class Course(models.Model):
    class Filing(models.TextChoices):
        """备案: a course the institution files waits for the bureau (待备案) and is sold only
        once approved (已备案); a change after approval files it again. A course the bureau's
        own staff enter is approved as it is made (the model's default, and the migration's
        value for the rows that existed before filing: they were all entered by the bureau)."""

        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待备案")
        APPROVED = "approved", _("已备案")
        RETURNED = "returned", _("退回")

    institution = models.ForeignKey(
        Institution, verbose_name=_("培训机构"), on_delete=models.CASCADE, related_name="courses"
    )
    name = models.CharField(_("课程名称"), max_length=200)
    subject = models.CharField(_("科目"), max_length=10, choices=SUBJECT_CHOICES)
    mode = models.CharField(_("形式"), max_length=8, choices=Institution.Mode.choices)
    lesson_minutes = models.PositiveSmallIntegerField(
        _("每课时（分钟）"), validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    class_size = models.PositiveSmallIntegerField(
        _("班额（人）"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    price_per_lesson = models.DecimalField(
        _("每生每课时价格（元）"), max_digits=8, decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )  # fmt: skip
    term_start = models.DateField(_("开课日期"))
    term_end = models.DateField(_("结课日期"))
    active = models.BooleanField(_("在售"), default=True)
    filing = models.CharField(
        _("备案状态"), max_length=10, choices=Filing.choices, default=Filing.APPROVED,
        db_index=True,
    )  # fmt: skip
    filing_reason = models.CharField(_("退回理由"), max_length=500, blank=True)
    filed_at = models.DateTimeField(_("提交备案时间"), null=True, blank=True)

    SCOPE = {"school": None, "parent": None, "institution": "institution"}

    class Meta:
        verbose_name = _("课程")
        verbose_name_plural = _("课程")
        ordering = ["institution", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__gte=models.F("term_start")), name="course_term_order"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_subject_type(self) -> bool:
        return self.subject in SUBJECT_TYPE


class CourseSlot(models.Model):
    """A weekly lesson of a course: weekday (0 = Monday) and times."""

    course = models.ForeignKey(
        Course, verbose_name=_("课程"), on_delete=models.CASCADE, related_name="slots"
    )
    weekday = models.PositiveSmallIntegerField(
        _("星期"), validators=[MaxValueValidator(6)],
        choices=[(i, n) for i, n in enumerate("一二三四五六日")],
    )  # fmt: skip
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))

    SCOPE = {"school": None, "parent": None, "institution": "course__institution"}

    class Meta:
        verbose_name = _("上课时间")
        verbose_name_plural = _("上课时间")
        ordering = ["course", "weekday", "start"]

    def __str__(self):
        return f"周{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


from institutions.account_models import *  # noqa: E402, F401, F403
from institutions.claim_models import *  # noqa: E402, F401, F403
from institutions.complaint_models import *  # noqa: E402, F401, F403
from institutions.enforcement_models import *  # noqa: E402, F401, F403
from institutions.escrow_models import *  # noqa: E402, F401, F403
from institutions.refund_models import *  # noqa: E402, F401, F403
from institutions.sale_models import *  # noqa: E402, F401, F403
