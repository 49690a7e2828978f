"""Refunds of parents' prepaid fees (退费, issue 16 parts 5 and 7). Models (imported at the
bottom of institutions/models.py, as the escrow's are); every write is in
institutions/refunds.py.

A ``RefundRequest`` is a parent's request for the refund of the unconsumed part of a paid
purchase (按课时退还未消课费用). The institution (管理员 or 财务) agrees or refuses within
PORTAL_REFUND_ANSWER_DAYS calendar days; agreeing pays at once through the escrow
(``escrow.refund_unconsumed``). A refusal, or no answer by the deadline, goes to the bureau,
who decides. The database keeps at most one open request per purchase.

A ``RefundBatch`` is the bureau's refund of every buyer of a closed or suspended institution
(卷钱跑路): one ``RefundBatchLine`` per purchase, written in the purchase's own transaction
with the refund it records, so a re-run finds the line and pays nothing twice.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["RefundRequest", "RefundBatch", "RefundBatchLine"]

MONEY = {"max_digits": 12, "decimal_places": 2}


class RefundRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待机构答复")
        AGREED = "agreed", _("机构同意")
        REFUSED = "refused", _("机构拒绝")
        ESCALATED = "escalated", _("已转教育局")
        BUREAU_REFUND = "bureau_refund", _("教育局决定退费")
        BUREAU_REJECTED = "bureau_rejected", _("教育局驳回")
        REFUNDED = "refunded", _("已退费")

    S = Status
    # A decision to refund is paid in the same transaction: it ends 已退费, or stays at the
    # decision (机构同意 / 教育局决定退费) when nothing was left to pay back.
    TRANSITIONS = {
        S.PENDING: {S.AGREED, S.REFUSED, S.ESCALATED, S.REFUNDED},
        S.REFUSED: {S.BUREAU_REFUND, S.BUREAU_REJECTED, S.REFUNDED},
        S.ESCALATED: {S.BUREAU_REFUND, S.BUREAU_REJECTED, S.REFUNDED},
        S.AGREED: {S.REFUNDED},
        S.BUREAU_REFUND: {S.REFUNDED},
        S.BUREAU_REJECTED: set(),
        S.REFUNDED: set(),
    }
    # waiting for someone: the institution (pending) or the bureau (refused, escalated)
    OPEN = (S.PENDING, S.REFUSED, S.ESCALATED)
    FOR_BUREAU = (S.REFUSED, S.ESCALATED)

    purchase = models.ForeignKey(
        "institutions.Purchase", verbose_name=_("预收费"), on_delete=models.PROTECT,
        related_name="refund_requests",
    )  # fmt: skip
    reason = models.CharField(_("退费原因"), max_length=300)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    asked_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    deadline = models.DateField(_("机构答复期限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("机构答复人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("机构答复时间"), null=True, blank=True)
    answer_reason = models.CharField(_("机构答复理由"), max_length=300, blank=True)
    escalated_at = models.DateTimeField(_("转教育局时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("教育局经办人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("教育局决定时间"), null=True, blank=True)
    decision_reason = models.CharField(_("教育局决定理由"), max_length=300, blank=True)
    # the refund's ledger transaction (None: nothing was left to pay back, or not refunded)
    transaction = models.ForeignKey(
        "institutions.EscrowTransaction", verbose_name=_("退费记账"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    # what the refund paid, as it was at that moment (the ledger stays the record of money)
    refund_amount = models.DecimalField(_("退费金额（元）"), null=True, blank=True, **MONEY)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    SCOPE = {
        "school": None,
        "parent": "purchase__parent__user",
        "institution": "purchase__institution",
    }

    class Meta:
        verbose_name = _("退费申请")
        verbose_name_plural = _("退费申请")
        ordering = ["-asked_at", "-id"]
        constraints = [
            # one open request per purchase, whatever code path inserts it
            models.UniqueConstraint(
                fields=["purchase"],
                condition=Q(status__in=["pending", "refused", "escalated"]),
                name="refundrequest_one_open",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="refundrequest_due")]

    def __str__(self):
        return f"退费申请 #{self.pk}（预收费 #{self.purchase_id}）"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def decided_by_bureau(self) -> bool:
        return self.decided_at is not None


class RefundBatch(models.Model):
    """One run of the bureau's batch refund of a closed or suspended institution's buyers.
    The totals are those of this run's lines (what was paid back in this run)."""

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
        related_name="refund_batches",
    )  # fmt: skip
    reason = models.CharField(_("退费事由"), max_length=300)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    run_at = models.DateTimeField(_("执行时间"), default=timezone.now)
    purchases = models.PositiveIntegerField(_("涉及预收费笔数"), default=0)
    failed = models.JSONField(_("未成功的预收费"), default=list, blank=True)

    SCOPE = {"school": None, "parent": None, "institution": None}

    class Meta:
        verbose_name = _("停业机构批量退费")
        verbose_name_plural = _("停业机构批量退费")
        ordering = ["-run_at", "-id"]

    def __str__(self):
        return f"批量退费 #{self.pk}（{self.institution_id}）"


class RefundBatchLine(models.Model):
    """One purchase in a batch: what the parent paid, what was not consumed, what the escrow
    paid back, and the shortfall (unconsumed less refunded, never below zero). One line per
    purchase ever (OneToOne): a re-run skips a purchase already in a batch."""

    batch = models.ForeignKey(
        RefundBatch, verbose_name=_("批量退费"), on_delete=models.PROTECT, related_name="lines"
    )
    purchase = models.OneToOneField(
        "institutions.Purchase", verbose_name=_("预收费"), on_delete=models.PROTECT,
        related_name="batch_line",
    )  # fmt: skip
    supervision = models.CharField(
        _("监管方式"),
        max_length=8,
        choices=[("escrow", _("银行托管")), ("deposit", _("风险保证金"))],
    )
    paid = models.DecimalField(_("实付金额（元）"), **MONEY)
    unconsumed = models.DecimalField(_("未消课金额（元）"), **MONEY)
    refunded = models.DecimalField(_("已退金额（元）"), default=Decimal("0.00"), **MONEY)
    shortfall = models.DecimalField(_("缺口（元）"), default=Decimal("0.00"), **MONEY)
    transaction = models.ForeignKey(
        "institutions.EscrowTransaction", verbose_name=_("退费记账"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    note = models.CharField(_("说明"), max_length=200, blank=True)

    SCOPE = {"school": None, "parent": None, "institution": None}

    class Meta:
        verbose_name = _("批量退费明细")
        verbose_name_plural = _("批量退费明细")
        ordering = ["batch", "purchase_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shortfall__gte=0) & Q(refunded__gte=0), name="batchline_non_negative"
            ),
        ]

    def __str__(self):
        return f"批量退费 #{self.batch_id} 预收费 #{self.purchase_id}"
