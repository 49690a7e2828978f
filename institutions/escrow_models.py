"""The escrow of parents' prepaid fees (预收费监管): the bureau's policy numbers, release
rules, purchases, the ledger (portal/ledger.py) and imported bank statements.

Chart of accounts (positive = debit):
  escrow:inst:<institution id>     money held in the institution's bank escrow account
                                   (asset; an imported bank statement shows its movements)
  inst_held:inst:<institution id>  money a risk-deposit institution collected itself (the
                                   deposit, not an escrow, guarantees it)
  parent_prepaid:purchase:<id>     what the purchase still owes the parent: the fee paid,
                                   less what was released and refunded (liability, so its
                                   balance is negative or zero, never positive)
  bank_adjustment:inst:<id>        the other side of a bank line booked by staff
                                   (bank charges, interest, a withdrawal found in a statement)

Transactions (kind): purchase (Dr holding / Cr parent_prepaid), release and refund and
refund_full (Dr parent_prepaid / Cr holding), adjustment. A reversal keeps its kind, so the
sums by kind below stay true after corrections.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.ledger import CENT, LedgerEntry, LedgerTransaction

__all__ = [
    "EscrowPolicy",
    "ReleaseKind",
    "ReleaseRule",
    "Purchase",
    "EscrowTransaction",
    "EscrowEntry",
    "BankStatementImport",
    "BankStatementLine",
]

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ReleaseKind(models.TextChoices):
    # 一课一销: released lesson by lesson once the parent confirms it (教育部等六部门《关于
    # 加强校外培训机构预收费监管工作的通知》, 2021, names it as the model).
    PER_LESSON = "per_lesson", _("一课一销（家长确认后按课时释放）")
    TRANCHES = "tranches", _("分期释放（1/3、2/3、结课时分三次）")
    DELAY = "delay", _("结课后延期释放")


class EscrowPolicy(models.Model):
    """The bureau's escrow numbers, one row, editable in the admin.

    Defaults, where no national figure exists, are the portal's and meant to be set by the
    bureau: the deposit follows the institution's scale (学员规模 × 每生金额, at least the
    floor); yellow below 100 % of what is required (any shortfall), red below 80 %. The
    default release rule is 一课一销; tranches 30 % / 30 % / 40 % (the remainder at
    completion) and a 7-day delay are the examples of DOMAIN.md."""

    deposit_per_student = models.DecimalField(
        _("风险保证金：每名在训学员（元）"), max_digits=12, decimal_places=2,
        default=Decimal("500.00"), validators=[MinValueValidator(Decimal("0"))],
    )  # fmt: skip
    deposit_minimum = models.DecimalField(
        _("风险保证金：最低金额（元）"), max_digits=12, decimal_places=2,
        default=Decimal("50000.00"), validators=[MinValueValidator(Decimal("0"))],
    )  # fmt: skip
    yellow_below_percent = models.DecimalField(
        _("黄色预警：低于应有金额的（%）"), max_digits=5, decimal_places=2,
        default=Decimal("100"), validators=PERCENT,
    )  # fmt: skip
    red_below_percent = models.DecimalField(
        _("红色预警：低于应有金额的（%）"), max_digits=5, decimal_places=2,
        default=Decimal("80"), validators=PERCENT,
    )  # fmt: skip
    release_kind = models.CharField(
        _("默认释放规则"), max_length=12, choices=ReleaseKind.choices,
        default=ReleaseKind.PER_LESSON,
    )  # fmt: skip
    tranche_1_percent = models.DecimalField(
        _("分期释放：完成1/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30"),
        validators=PERCENT,
    )  # fmt: skip
    tranche_2_percent = models.DecimalField(
        _("分期释放：完成2/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30"),
        validators=PERCENT,
    )  # fmt: skip
    delay_days = models.PositiveSmallIntegerField(_("延期释放：结课后天数"), default=7)

    class Meta:
        verbose_name = _("预收费监管规定")
        verbose_name_plural = _("预收费监管规定")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(red_below_percent__lte=models.F("yellow_below_percent")),
                name="escrow_policy_red_under_yellow",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    tranche_1_percent__lte=Decimal("100") - models.F("tranche_2_percent")
                ),
                name="escrow_policy_tranches_le_100",
            ),
        ]

    def __str__(self):
        return str(_("预收费监管规定"))

    @classmethod
    def current(cls) -> "EscrowPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def deposit_required(self, scale: int) -> Decimal:
        return max(self.deposit_minimum, (self.deposit_per_student * scale).quantize(CENT))

    def level(self, have: Decimal, need: Decimal) -> str:
        """The warning level of ``have`` against ``need``: "red", "yellow" or "" (none)."""
        if need <= 0:
            return ""
        ratio = have * 100 / need
        if ratio < self.red_below_percent:
            return "red"
        if ratio < self.yellow_below_percent:
            return "yellow"
        return ""


class ReleaseRule(models.Model):
    """An institution's own release rule, set by the bureau; without one the policy's
    default applies. A purchase copies the rule when it is recorded: a later change of rule
    does not alter the terms a parent already paid under."""

    institution = models.OneToOneField(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
        related_name="release_rule",
    )  # fmt: skip
    kind = models.CharField(_("释放规则"), max_length=12, choices=ReleaseKind.choices)
    tranche_1_percent = models.DecimalField(
        _("分期释放：完成1/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30"),
        validators=PERCENT,
    )  # fmt: skip
    tranche_2_percent = models.DecimalField(
        _("分期释放：完成2/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30"),
        validators=PERCENT,
    )  # fmt: skip
    delay_days = models.PositiveSmallIntegerField(_("延期释放：结课后天数"), default=7)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("资金释放规则")
        verbose_name_plural = _("资金释放规则")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    tranche_1_percent__lte=Decimal("100") - models.F("tranche_2_percent")
                ),
                name="release_rule_tranches_le_100",
            )
        ]

    def __str__(self):
        return f"{self.institution}：{self.get_kind_display()}"


class Purchase(models.Model):
    """A parent's prepaid purchase of lessons (one collection, 一次收费).

    ``lessons_consumed`` is what the institution reported (消课), ``lessons_confirmed`` what
    the parent confirmed (never more). Money is counted in the ledger, not here: the
    fields below are the state; paid, released and refunded come from the entries."""

    class Status(models.TextChoices):
        # before any money (a sale the institution recorded, institutions/sales.py): the
        # parent reads and accepts the contract (待家长确认), then pays (待付款)
        OFFERED = "offered", _("待家长确认")
        ACCEPTED = "accepted", _("待付款")
        # paid: the money is held (escrow or deposit). Everything that counts money held
        # (unconsumed_values, warning levels, checks, colour, pages) means ACTIVE only.
        ACTIVE = "active", _("履行中")
        REFUNDED = "refunded", _("已退未消课部分")
        REFUNDED_FULL = "refunded_full", _("已全额退费（机构过错）")
        # ended before any money: cancelled by the institution or declined by the parent;
        # an offer unanswered within PORTAL_SALE_OFFER_DAYS lapses
        CANCELLED = "cancelled", _("已取消")
        EXPIRED = "expired", _("已过期")

    # Which moves are allowed (STYLE "State and money"); a purchase ends by refund or by
    # every lesson consumed, the latter needs no status of its own.
    TRANSITIONS = {
        Status.OFFERED: {Status.ACCEPTED, Status.CANCELLED, Status.EXPIRED},
        Status.ACCEPTED: {Status.ACTIVE, Status.CANCELLED},
        Status.ACTIVE: {Status.REFUNDED, Status.REFUNDED_FULL},
        Status.REFUNDED: {Status.REFUNDED_FULL},
        Status.REFUNDED_FULL: set(),
        Status.CANCELLED: set(),
        Status.EXPIRED: set(),
    }
    # the states in which no money was ever taken
    UNPAID = frozenset({Status.OFFERED, Status.ACCEPTED, Status.CANCELLED, Status.EXPIRED})

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
        related_name="purchases",
    )  # fmt: skip
    course = models.ForeignKey(
        "institutions.Course", verbose_name=_("课程"), on_delete=models.PROTECT,
        related_name="purchases",
    )  # fmt: skip
    # The least that identifies the payer for a refund: no ID numbers; pages mask both.
    parent_name = models.CharField(_("家长姓名"), max_length=50)
    parent_phone = models.CharField(_("家长手机号"), max_length=20)
    # the parent's portal account, when the purchase is theirs to see (a sale by phone
    # number: the parent whose phone it is; staff-typed purchases may have none)
    parent = models.ForeignKey(
        "portal.Parent", verbose_name=_("家长账号"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="training_purchases",
    )  # fmt: skip
    lessons = models.PositiveSmallIntegerField(_("购买课时"), validators=[MinValueValidator(1)])
    amount = models.DecimalField(
        _("金额（元）"), max_digits=12, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )  # fmt: skip
    starts_on = models.DateField(_("服务开始"))
    ends_on = models.DateField(_("服务结束"))
    lessons_consumed = models.PositiveSmallIntegerField(_("已消课时"), default=0)
    lessons_confirmed = models.PositiveSmallIntegerField(_("家长已确认课时"), default=0)
    completed_on = models.DateField(_("结课日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=14, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    supervision = models.CharField(
        _("监管方式"),
        max_length=8,
        choices=[("escrow", _("银行托管")), ("deposit", _("风险保证金"))],
    )
    release_kind = models.CharField(_("释放规则"), max_length=12, choices=ReleaseKind.choices)
    # the rule's numbers as they were when the purchase was recorded
    tranche_1_percent = models.DecimalField(
        _("分期释放：完成1/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30")
    )
    tranche_2_percent = models.DecimalField(
        _("分期释放：完成2/3时（%）"), max_digits=5, decimal_places=2, default=Decimal("30")
    )
    delay_days = models.PositiveSmallIntegerField(_("延期释放：结课后天数"), default=0)
    dispute_open = models.BooleanField(_("争议中"), default=False)
    dispute_reason = models.CharField(_("争议事由"), max_length=300, blank=True)
    refund_reason = models.CharField(_("退费原因"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("幂等键 / 支付参考号"), max_length=100, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    # a sale (institutions/sales.py): the offer lapses after this moment unless accepted;
    # paid_at is when the payment was booked (None for a staff-typed record: paid at once)
    offer_expires_at = models.DateTimeField(_("确认截止时间"), null=True, blank=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    SCOPE = {"school": None, "parent": "parent__user", "institution": "institution"}

    class Meta:
        verbose_name = _("预收费")
        verbose_name_plural = _("预收费")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["institution", "status"], name="purchase_inst_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lessons_confirmed__lte=models.F("lessons_consumed"))
                & models.Q(lessons_consumed__lte=models.F("lessons")),
                name="purchase_lessons_order",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="purchase_dates_order",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="purchase_amount_pos"),
        ]

    def __str__(self):
        return f"预收费 #{self.pk}（{self.amount}元/{self.lessons}课时）"

    @property
    def account(self) -> str:
        return f"parent_prepaid:purchase:{self.pk}"

    @property
    def holding_account(self) -> str:
        prefix = "escrow" if self.supervision == "escrow" else "inst_held"
        return f"{prefix}:inst:{self.institution_id}"

    def value_of(self, lessons: int) -> Decimal:
        """The value of ``lessons`` of this purchase, rounded to the fen; cumulative, so
        value_of(self.lessons) is the whole amount and no fen is lost to rounding."""
        if lessons >= self.lessons:
            return self.amount
        exact = self.amount * Decimal(lessons) / Decimal(self.lessons)
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def unconsumed_value(self) -> Decimal:
        """The parents' exposure: the value of lessons not yet consumed (0 once refunded)."""
        if self.status != self.Status.ACTIVE:
            return Decimal("0.00")
        return self.amount - self.value_of(self.lessons_consumed)

    @property
    def is_finished(self) -> bool:
        return self.status != self.Status.ACTIVE or self.lessons_confirmed >= self.lessons

    @property
    def is_paid(self) -> bool:
        """Money was taken (held now, or released/refunded since)."""
        return self.status not in self.UNPAID

    @property
    def masked_phone(self) -> str:
        p = self.parent_phone
        return f"{p[:3]}****{p[-4:]}" if len(p) >= 8 else "****"

    @property
    def masked_name(self) -> str:
        name = self.parent_name
        return name[:1] + "*" * max(1, len(name) - 1) if name else ""

    @property
    def release_date(self) -> dt.date | None:
        """Under the delay rule, the day the money may go (None before completion)."""
        if self.completed_on is None:
            return None
        return self.completed_on + dt.timedelta(days=self.delay_days)


class EscrowTransaction(LedgerTransaction):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("收取预收费")
        RELEASE = "release", _("释放给机构")
        REFUND = "refund", _("退还未消课费用")
        REFUND_FULL = "refund_full", _("全额退费（机构过错）")
        ADJUSTMENT = "adjustment", _("银行流水补记")

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
        related_name="escrow_transactions",
    )  # fmt: skip
    purchase = models.ForeignKey(
        Purchase, verbose_name=_("预收费"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="transactions",
    )  # fmt: skip

    class Meta:
        verbose_name = _("托管资金记账")
        verbose_name_plural = _("托管资金记账")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"

    def get_kind_display(self):
        try:
            return self.Kind(self.kind).label
        except ValueError:
            return self.kind


class EscrowEntry(LedgerEntry):
    transaction = models.ForeignKey(
        EscrowTransaction, verbose_name=_("记账"), on_delete=models.PROTECT,
        related_name="entries",
    )  # fmt: skip

    class Meta:
        verbose_name = _("托管资金分录")
        verbose_name_plural = _("托管资金分录")
        ordering = ["transaction_id", "id"]


class BankStatementImport(models.Model):
    """One uploaded CSV statement of a supervised account."""

    account = models.ForeignKey(
        "institutions.SupervisedAccount", verbose_name=_("监管账户"), on_delete=models.PROTECT,
        related_name="statement_imports",
    )  # fmt: skip
    filename = models.CharField(_("文件名"), max_length=200)
    encoding = models.CharField(_("编码"), max_length=20)
    lines_imported = models.PositiveIntegerField(_("导入行数"), default=0)
    lines_skipped = models.PositiveIntegerField(_("已导入过而跳过的行数"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("银行流水导入")
        verbose_name_plural = _("银行流水导入")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.filename}（{self.uploaded_at:%Y-%m-%d}）"


class BankStatementLine(models.Model):
    """A line of a bank statement: positive amount = money into the account."""

    class Match(models.TextChoices):
        MATCHED = "matched", _("已匹配")
        AMOUNT_MISMATCH = "amount", _("参考号相符但金额不符")
        UNMATCHED = "unmatched", _("未匹配")

    statement = models.ForeignKey(
        BankStatementImport,
        verbose_name=_("银行流水导入"),
        on_delete=models.PROTECT,
        related_name="lines",
    )
    account = models.ForeignKey(
        "institutions.SupervisedAccount",
        verbose_name=_("资金监管账户"),
        on_delete=models.PROTECT,
        related_name="statement_lines",
    )
    row_number = models.PositiveIntegerField(_("文件行号"))
    date = models.DateField(_("交易日期"))
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("参考号"), max_length=100, blank=True)
    counterparty = models.CharField(_("对方户名"), max_length=200, blank=True)
    match = models.CharField(
        _("核对结果"), max_length=10, choices=Match.choices, default=Match.UNMATCHED
    )
    # One bank line for one ledger transaction, under the database's UNIQUE.
    transaction = models.OneToOneField(
        EscrowTransaction, verbose_name=_("对应记账"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="bank_line",
    )  # fmt: skip

    class Meta:
        verbose_name = _("银行流水")
        verbose_name_plural = _("银行流水")
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["account", "match"], name="bankline_account_match")]

    def __str__(self):
        return f"{self.date} {self.amount:+} {self.reference}"
