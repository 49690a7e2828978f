"""Models of the public call for after-school providers (公开征集, issue 19 part 1).

The bureau opens a ``Call`` with its scoring criteria (``CallCriterion``, weights summing to
100) and the tie rule; organisations apply (``CallApplication`` with its
``CallDocument`` files); the bureau assigns experts (``CallExpert``), who declare conflicts of
interest (``CallConflict``) and score (``CallScore``). The rules live in supply/calls.py.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Call",
    "CallApplication",
    "CallConflict",
    "CallCriterion",
    "CallDocument",
    "CallExpert",
    "CallScore",
]


class Call(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("征集中")
        PUBLISHED = "published", _("结果已公布")

    title = models.CharField(_("标题"), max_length=200)
    service_kinds = models.CharField(_("服务类别"), max_length=200)
    description = models.TextField(_("征集说明"), blank=True)
    deadline = models.DateTimeField(_("截止时间"))
    admit_count = models.PositiveIntegerField(_("拟准入数量"))
    # the tie rule, recorded when the call opens: equal totals are ordered by the higher
    # mean score of this criterion (blank: none), then by the earlier submission
    tie_criterion = models.CharField(_("同分优先评分项"), max_length=50, blank=True)
    service_start = models.DateField(_("服务期开始"))
    service_end = models.DateField(_("服务期结束"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    published_at = models.DateTimeField(_("结果公布时间"), null=True, blank=True)

    # calls are public (their pages read them without scope); users who are not bureau
    # staff reach them only through their own applications and assignments
    SCOPE = {"school": None, "parent": None, "organisation": None, "expert": None}

    class Meta:
        verbose_name = _("课后服务机构公开征集")
        verbose_name_plural = _("课后服务机构公开征集")
        ordering = ["-deadline", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and timezone.now() <= self.deadline

    @property
    def tie_rule(self) -> str:
        if self.tie_criterion:
            return f"总分相同时，“{self.tie_criterion}”平均分高者在前；仍相同时，提交时间早者在前。"
        return "总分相同时，提交时间早者在前。"


class CallCriterion(models.Model):
    call = models.ForeignKey(
        Call, verbose_name=_("征集"), on_delete=models.CASCADE, related_name="criteria"
    )
    name = models.CharField(_("评分项"), max_length=50)
    weight = models.PositiveIntegerField(_("分值"))
    position = models.PositiveIntegerField(_("顺序"), default=0)

    SCOPE = {"school": None, "parent": None}

    class Meta:
        verbose_name = _("评分项")
        verbose_name_plural = _("评分项")
        ordering = ["call", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="call_criterion_unique_name")
        ]

    def __str__(self):
        return f"{self.name}（{self.weight}分）"


class CallApplication(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        ADMITTED = "admitted", _("准入")
        NOT_ADMITTED = "not_admitted", _("未准入")

    call = models.ForeignKey(
        Call, verbose_name=_("征集"), on_delete=models.PROTECT, related_name="applications"
    )
    organisation = models.ForeignKey(
        "supply.Organisation", verbose_name=_("申报组织"), on_delete=models.PROTECT,
        related_name="call_applications",
    )  # fmt: skip
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    service_items = models.TextField(_("服务项目"))
    plan = models.TextField(_("课程方案概述"), blank=True)
    price_per_lesson = models.DecimalField(_("报价（元/课时）"), max_digits=8, decimal_places=2)
    outside_price = models.DecimalField(
        _("校外同类课时价（元/课时）"), max_digits=8, decimal_places=2
    )
    status = models.CharField(
        _("状态"), max_length=15, choices=Status.choices, default=Status.SUBMITTED
    )
    # the result, written when the bureau admits and publishes (never recomputed later)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=2, null=True, blank=True)
    criterion_means = models.JSONField(_("各评分项平均分"), default=dict, blank=True)

    SCOPE = {
        "school": None,
        "parent": None,
        "organisation": "organisation",
        # an expert sees the applications of the calls they are assigned to
        "expert": "call__experts__expert__user",
    }

    class Meta:
        verbose_name = _("申报")
        verbose_name_plural = _("申报")
        ordering = ["call", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organisation"], name="call_application_one_per_organisation"
            )
        ]

    def __str__(self):
        return f"{self.organisation.name} · {self.call.title}"


class CallDocument(models.Model):
    """A file of an application, checked and stored as findings' evidence (portal.evidence)."""

    application = models.ForeignKey(
        CallApplication, verbose_name=_("申报"), on_delete=models.CASCADE,
        related_name="documents",
    )  # fmt: skip
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=5)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("文件摘要（SHA-256）"), max_length=64)
    path = models.CharField(_("存储路径"), max_length=200)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    SCOPE = {
        "school": None,
        "parent": None,
        "organisation": "application__organisation",
        "expert": "application__call__experts__expert__user",
    }

    class Meta:
        verbose_name = _("申报材料")
        verbose_name_plural = _("申报材料")
        ordering = ["application", "id"]

    def __str__(self):
        return self.name


class CallExpert(models.Model):
    """An expert assigned to a call's panel: they score every application of the call."""

    call = models.ForeignKey(
        Call, verbose_name=_("征集"), on_delete=models.CASCADE, related_name="experts"
    )
    expert = models.ForeignKey(
        "supply.Expert", verbose_name=_("专家"), on_delete=models.PROTECT,
        related_name="call_assignments",
    )  # fmt: skip
    assigned_at = models.DateTimeField(_("指派时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "expert": "expert__user"}

    class Meta:
        verbose_name = _("评审专家指派")
        verbose_name_plural = _("评审专家指派")
        ordering = ["call", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "expert"], name="call_expert_unique")
        ]

    def __str__(self):
        return f"{self.expert} · {self.call}"


class CallConflict(models.Model):
    """An expert's declared conflict of interest with one applicant: that expert's scores
    for that application are excluded (and no new ones are taken)."""

    application = models.ForeignKey(
        CallApplication, verbose_name=_("申报"), on_delete=models.CASCADE,
        related_name="conflicts",
    )  # fmt: skip
    expert = models.ForeignKey(
        "supply.Expert", verbose_name=_("专家"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("回避事由"), max_length=200)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "expert": "expert__user"}

    class Meta:
        verbose_name = _("利益冲突回避")
        verbose_name_plural = _("利益冲突回避")
        constraints = [
            models.UniqueConstraint(fields=["application", "expert"], name="call_conflict_unique")
        ]

    def __str__(self):
        return f"{self.expert} 回避 {self.application}"


class CallScore(models.Model):
    application = models.ForeignKey(
        CallApplication, verbose_name=_("申报"), on_delete=models.CASCADE,
        related_name="scores",
    )  # fmt: skip
    expert = models.ForeignKey(
        "supply.Expert", verbose_name=_("专家"), on_delete=models.PROTECT, related_name="+"
    )
    criterion = models.ForeignKey(
        CallCriterion, verbose_name=_("评分项"), on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)
    scored_at = models.DateTimeField(_("评分时间"), auto_now=True)

    SCOPE = {"school": None, "parent": None, "expert": "expert__user"}

    class Meta:
        verbose_name = _("专家评分")
        verbose_name_plural = _("专家评分")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "expert", "criterion"], name="call_score_unique"
            )
        ]

    def __str__(self):
        return f"{self.criterion.name}: {self.value}"
