"""Selling through the escrow (institutions/sales.py): the bureau's model contract
(示范文本), the contract issued with each sale and its acceptance, and the payment notices
that booked (or did not book) a sale's money.

The contract template is versioned: every edit in the admin is a new version, and the
text issued with a sale is frozen on the sale's contract row with its SHA-256, so what a
parent accepted can always be shown as it was, whatever the bureau edits later.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

__all__ = ["ContractTemplate", "SaleContract", "SaleNotice"]


class ContractTemplate(models.Model):
    """One version of the bureau's 示范文本 (校外培训服务合同). Placeholders in braces,
    e.g. {机构名称}, are filled in with the sale's data (sales.PLACEHOLDERS)."""

    version = models.PositiveIntegerField(_("版本号"), unique=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文（可用占位符，如 {机构名称}）"))
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修订人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "institution": None}

    class Meta:
        verbose_name = _("培训合同示范文本")
        verbose_name_plural = _("培训合同示范文本")
        ordering = ["-version"]

    def __str__(self):
        return f"{self.title}（第{self.version}版）"


class SaleContract(models.Model):
    """The contract issued with one sale: the template's version and its text filled in with
    the sale's data, frozen when the sale is recorded; then who accepted it and when."""

    purchase = models.OneToOneField(
        "institutions.Purchase", verbose_name=_("预收费"), on_delete=models.PROTECT,
        related_name="contract",
    )  # fmt: skip
    template = models.ForeignKey(
        ContractTemplate, verbose_name=_("示范文本版本"), on_delete=models.PROTECT,
        related_name="contracts",
    )  # fmt: skip
    text = models.TextField(_("合同文本"))
    text_sha256 = models.CharField(_("合同文本SHA-256"), max_length=64)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    accepted_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("出具时间"), auto_now_add=True)

    SCOPE = {
        "school": None,
        "parent": "purchase__parent__user",
        "institution": "purchase__institution",
    }

    class Meta:
        verbose_name = _("培训合同")
        verbose_name_plural = _("培训合同")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"合同（预收费 #{self.purchase_id}，示范文本第{self.template.version}版）"


class SaleNotice(models.Model):
    """A payment notice for a sale: a provider's signed notification (sandbox) or a bank
    statement line with the sale's reference (transfer). Unique per provider and event id
    (the bank line for a transfer), so a replay writes nothing; ``outcome`` says what was
    booked: paid, failed, or money that could not be booked as the sale's payment (another
    amount, or the sale no longer awaiting payment), kept here to be returned."""

    class Outcome(models.TextChoices):
        PAID = "paid", _("已入账（履行中）")
        FAILED = "failed", _("支付失败")
        MISMATCH = "mismatch", _("金额不符，未入账，待退回")
        NOT_PAYABLE = "not_payable", _("该笔预收费不在待付款状态，未入账，待退回")

    provider = models.CharField(_("支付渠道"), max_length=20)
    event_id = models.CharField(_("通知编号 / 银行流水"), max_length=100)
    purchase = models.ForeignKey(
        "institutions.Purchase", verbose_name=_("预收费"), on_delete=models.PROTECT,
        related_name="notices",
    )  # fmt: skip
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices)
    payload = models.JSONField(_("通知内容"), default=dict)
    created_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "institution": "purchase__institution"}

    class Meta:
        verbose_name = _("预收费付款通知")
        verbose_name_plural = _("预收费付款通知")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="salenotice_event_once")
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id}（{self.get_outcome_display()}）"


@receiver(user_logged_in, dispatch_uid="institutions.sales.link_on_login")
def _link_sales_on_login(sender, request, user, **kwargs):
    """A parent who logs in gets the sales recorded with their phone number before their
    portal account existed (institutions/sales.py ``parent_sales_link``)."""
    from institutions import sales

    sales.parent_sales_link(user)
