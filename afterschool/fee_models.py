"""Fees of the after-school service: the school's fee rule, waivers, bills, payments and
their provider events, the fee ledger (portal/ledger.py) and the term-end settlement.

Money is counted in the ledger, never in a column: a bill states what is asked (its
``amount``), the ledger what was paid, refunded and settled. Accounts (see fees.py):
``cash:school:<id>`` the school's collection account, ``family:bill:<id>`` what is held for
the family on one bill, and at settlement ``income:``, ``provider:``, ``subsidy:`` and
``pool:`` accounts per school and term.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.ledger import LedgerEntry, LedgerTransaction
from portal.models import Child, School, SchoolPeriod


class FeeRule(models.Model):
    """The school's rule for bills and refunds (set by the school, within the bureau's
    policy). A school without one uses the defaults below."""

    class Period(models.TextChoices):
        MONTH = "month", _("按月")
        TERM = "term", _("按学期")

    class Refund(models.TextChoices):
        NOT_HELD = "not_held", _("只退未开课的课次")
        LEAVE = "leave", _("退未开课和请假的课次")
        ABSENT = "absent", _("退所有未出勤的课次")

    school = models.OneToOneField(
        School, verbose_name=_("学校"), on_delete=models.CASCADE, related_name="fee_rule"
    )
    period = models.CharField(
        _("收费周期"), max_length=10, choices=Period.choices, default=Period.MONTH
    )
    refund = models.CharField(
        _("退费规则"), max_length=10, choices=Refund.choices, default=Refund.LEAVE
    )
    due_days = models.PositiveSmallIntegerField(
        _("缴费期限（天）"), default=10, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    subsidy_per_lesson = models.DecimalField(
        _("教师课时补助（元/课时）"), max_digits=8, decimal_places=2, default=Decimal("50")
    )

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("学校收费与退费规则")
        verbose_name_plural = _("学校收费与退费规则")

    def __str__(self):
        return f"{self.school} {self.get_period_display()} {self.get_refund_display()}"


class Waiver(models.Model):
    """Fee relief for a pupil of a family in financial difficulty, for one term. The reason
    is seen by school staff and the bureau only."""

    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="as_waivers"
    )
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    percent = models.PositiveSmallIntegerField(
        _("减免比例（%）"), default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    reason = models.CharField(_("减免原因（仅学校与教育局可见）"), max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": "child__school", "parent": None}

    class Meta:
        verbose_name = _("困难学生费用减免")
        verbose_name_plural = _("困难学生费用减免")
        constraints = [
            models.UniqueConstraint(fields=["child", "term"], name="as_one_waiver_a_term"),
            models.CheckConstraint(
                condition=Q(percent__gte=1, percent__lte=100), name="as_waiver_percent"
            ),
        ]

    def __str__(self):
        return f"{self.child} {self.term.name} {self.percent}%"


class Bill(models.Model):
    """What one enrolment owes for one month or term (never across terms)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待缴费")
        PAID = "paid", _("已缴费")
        WAIVED = "waived", _("已减免")
        CANCELLED = "cancelled", _("已作废")

    class Kind(models.TextChoices):
        SERVICE = "service", _("服务性收费")
        PROVIDER = "provider", _("代收费")

    TRANSITIONS = {
        Status.OPEN: {Status.PAID, Status.CANCELLED},
        Status.PAID: {Status.CANCELLED},  # cancelled after payment: the payment is refunded
        Status.WAIVED: {Status.CANCELLED},
        Status.CANCELLED: set(),
    }

    enrolment = models.ForeignKey(
        "afterschool.Enrolment",
        verbose_name=_("报名"),
        on_delete=models.PROTECT,
        related_name="bills",
    )
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="as_bills"
    )
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("收费类型"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("计费开始"))
    period_end = models.DateField(_("计费结束"))
    # the first day whose lessons this bill counts (an enrolment mid-month pays from then)
    lessons_from = models.DateField(_("计费课次起始"))
    lessons = models.PositiveSmallIntegerField(_("课次"))
    fee_per_lesson = models.DecimalField(_("每课时（元）"), max_digits=8, decimal_places=2)
    gross = models.DecimalField(_("应收（元）"), max_digits=12, decimal_places=2)
    waived = models.DecimalField(_("减免（元）"), max_digits=12, decimal_places=2, default=0)
    amount = models.DecimalField(_("实收（元）"), max_digits=12, decimal_places=2)
    due_on = models.DateField(_("缴费截止"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    issued_at = models.DateTimeField(_("开具时间"), auto_now_add=True)
    cancel_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    SCOPE = {"school": "school", "parent": "child__parents__user"}

    class Meta:
        verbose_name = _("课后服务账单")
        verbose_name_plural = _("课后服务账单")
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "period_start"],
                condition=~Q(status="cancelled"),
                name="as_one_bill_a_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="as_bill_order"
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("gross") - models.F("waived"), amount__gte=0),
                name="as_bill_amount",
            ),
        ]

    def __str__(self):
        return f"{self.child} {self.period_start:%Y-%m}"

    @property
    def account(self) -> str:
        return f"family:bill:{self.pk}"


class Payment(models.Model):
    """One attempt to pay a bill through a payment provider (afterschool.payments)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待支付")
        SUCCEEDED = "succeeded", _("支付成功")
        FAILED = "failed", _("支付失败")
        REFUNDED = "refunded", _("已退回")

    bill = models.ForeignKey(
        Bill, verbose_name=_("账单"), on_delete=models.PROTECT, related_name="payments"
    )
    provider = models.CharField(_("支付渠道"), max_length=20)
    reference = models.CharField(_("支付单号"), max_length=40, unique=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    paid_at = models.DateTimeField(_("到账时间"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    SCOPE = {"school": "bill__school", "parent": "bill__child__parents__user"}

    class Meta:
        verbose_name = _("缴费记录")
        verbose_name_plural = _("缴费记录")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.reference


class PaymentEvent(models.Model):
    """A provider's notification, kept as received; a replay meets the UNIQUE constraint.

    The event id is unique per school, provider and id: a bank transfer's event id is the
    bank's reference on the school's own account, which another school's bank may well use
    too; a gateway's event (sandbox) is of one payment, so of one school, and a replay of it
    still meets the constraint."""

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(_("支付渠道"), max_length=20)
    event_id = models.CharField(_("事件编号"), max_length=80)
    payment = models.ForeignKey(
        Payment, verbose_name=_("缴费记录"), on_delete=models.PROTECT, related_name="events"
    )
    payload = models.JSONField(
        _("通知原文"),
    )
    outcome = models.CharField(_("处理结果"), max_length=40)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "provider", "event_id"], name="as_event_once_a_school"
            )
        ]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"


class Settlement(models.Model):
    """The term-end settlement of one school, posted once."""

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(_("入账时间"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结算人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fees = models.DecimalField(_("实际消费的费用"), max_digits=12, decimal_places=2)
    providers = models.DecimalField(_("第三方机构结算"), max_digits=12, decimal_places=2)
    subsidies = models.DecimalField(_("教师课时补助"), max_digits=12, decimal_places=2)
    pool = models.DecimalField(_("计入绩效工资"), max_digits=12, decimal_places=2)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("课后服务学期结算")
        verbose_name_plural = _("课后服务学期结算")
        constraints = [
            models.UniqueConstraint(fields=["school", "term"], name="as_settle_once"),
            models.CheckConstraint(
                condition=Q(fees=models.F("providers") + models.F("subsidies") + models.F("pool")),
                name="as_settlement_balances",
            ),
        ]

    def __str__(self):
        return f"{self.school} {self.term.name}"


class FeeTransaction(LedgerTransaction):
    class Kind(models.TextChoices):
        PAYMENT = "payment", _("缴费到账")
        REFUND = "refund", _("退费")
        RETURN = "return", _("退回重复或无效的付款")
        CONSUME = "consume", _("结算：确认消费")
        DISTRIBUTE = "distribute", _("结算：分配")
        SUBSIDY = "subsidy", _("财政奖补")  # the per-pupil subsidy (afterschool/funding.py)

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    bill = models.ForeignKey(
        Bill,
        verbose_name=_("账单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("缴费记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )

    class Meta:
        verbose_name = _("课后服务费记账")
        verbose_name_plural = _("课后服务费记账")
        ordering = ["-created_at", "-id"]


class FeeEntry(LedgerEntry):
    transaction = models.ForeignKey(
        FeeTransaction, verbose_name=_("记账"), on_delete=models.PROTECT, related_name="entries"
    )

    class Meta:
        verbose_name = _("课后服务费分录")
        verbose_name_plural = _("课后服务费分录")
        ordering = ["transaction_id", "id"]
