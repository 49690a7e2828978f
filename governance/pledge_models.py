"""Commitment letters (承诺书): the bureau's templates, its yearly campaigns to the teachers of
chosen schools, and each teacher's letter with its signature (issue 18, part 2)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import School, SchoolStaff

__all__ = ["PledgeCampaign", "PledgeLetter", "PledgeTemplate"]


class PledgeTemplate(models.Model):
    """One version of a template's text. Once a campaign has issued it (``frozen_at``) the
    text never changes: an edit makes the next version (governance/pledges.py), so every
    signature points at the exact words the teacher read."""

    title = models.CharField(_("标题"), max_length=100)
    version = models.PositiveIntegerField(_("版本"), default=1)
    text = models.TextField(_("承诺内容"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    frozen_at = models.DateTimeField(_("发放时间（此后文本不可改）"), null=True, blank=True)

    SCOPE = {"school": None, "parent": None, "institution": None}

    class Meta:
        verbose_name = _("承诺书模板")
        verbose_name_plural = _("承诺书模板")
        ordering = ["title", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["title", "version"], name="pledge_template_version")
        ]

    def __str__(self):
        return f"{self.title}（第{self.version}版）"


class PledgeCampaign(models.Model):
    """A year's issue of one template version to every teacher of the chosen schools."""

    template = models.ForeignKey(
        PledgeTemplate,
        verbose_name=_("模板版本"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    deadline = models.DateField(_("签署截止日期"))
    schools = models.ManyToManyField(School, verbose_name=_("学校"), related_name="+")
    renewed_from = models.ForeignKey(
        "self",
        verbose_name=_("续签自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发放人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发放时间"), auto_now_add=True)

    SCOPE = {"school": "schools", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("承诺书签署活动")
        verbose_name_plural = _("承诺书签署活动")
        ordering = ["-year", "-created_at"]

    def __str__(self):
        return f"{self.year}年度 {self.template.title}"


class PledgeLetter(models.Model):
    """One teacher's letter in a campaign; signed once, by that teacher only."""

    campaign = models.ForeignKey(
        PledgeCampaign,
        verbose_name=_("签署活动"),
        on_delete=models.CASCADE,
        related_name="letters",
    )
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        SchoolStaff, verbose_name=_("教师"), on_delete=models.PROTECT, related_name="pledges"
    )
    signed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签署账号"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_version = models.PositiveIntegerField(_("签署的文本版本"), null=True, blank=True)
    signed_text_sha256 = models.CharField(_("签署文本 SHA-256"), max_length=64, blank=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("教师承诺书")
        verbose_name_plural = _("教师承诺书")
        ordering = ["campaign", "school", "staff__name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "staff"], name="pledge_letter_once")
        ]

    def __str__(self):
        return f"{self.staff.name} · {self.campaign}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None
