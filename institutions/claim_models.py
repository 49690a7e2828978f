"""消课 claims: after each lesson the institution claims it against a parent's paid purchase
and the parent confirms or disputes it (institutions/claims.py writes them).

A claim moves once, from 待确认 to 已确认 (the parent), 有异议 (the parent, with a reason)
or 逾期自动确认 (the nightly sweep, after PORTAL_CLAIM_CONFIRM_DAYS days unanswered). The
database keeps one claim per (purchase, date, start): the same lesson cannot be claimed
twice for one purchase, whatever code path inserts it.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["LessonClaim"]


class LessonClaim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISPUTED = "disputed", _("有异议")
        AUTO_CONFIRMED = "auto", _("逾期自动确认")

    # pending -> one of the answers; an answer is final (a dispute goes to the bureau)
    TRANSITIONS = {
        Status.PENDING: {Status.CONFIRMED, Status.DISPUTED, Status.AUTO_CONFIRMED},
        Status.CONFIRMED: set(),
        Status.DISPUTED: set(),
        Status.AUTO_CONFIRMED: set(),
    }
    COUNTED = (Status.CONFIRMED, Status.AUTO_CONFIRMED)  # lessons the parent has confirmed

    # Few indexes on purpose: the nightly sweep rewrites hundreds of thousands of claims and
    # every index costs a write per row (bench/escrow_sweep.md). The UNIQUE (purchase, date,
    # start) serves every lookup by purchase; staff are deactivated, never deleted, so the
    # users' foreign keys need none.
    purchase = models.ForeignKey(
        "institutions.Purchase", verbose_name=_("预收费"), on_delete=models.PROTECT,
        related_name="claims", db_index=False,
    )  # fmt: skip
    date = models.DateField(_("上课日期"))
    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    lessons = models.PositiveSmallIntegerField(
        _("消课课时"), default=1, validators=[MinValueValidator(1)]
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+", db_index=False,
    )  # fmt: skip
    claimed_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("答复人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+", db_index=False,
    )  # fmt: skip
    dispute_reason = models.CharField(_("异议事由"), max_length=300, blank=True)

    SCOPE = {
        "school": None,
        "parent": "purchase__parent__user",
        "institution": "purchase__institution",
    }

    class Meta:
        verbose_name = _("消课记录")
        verbose_name_plural = _("消课记录")
        ordering = ["-date", "-start", "-id"]
        constraints = [
            # the same lesson is claimed once per purchase (the row lock on the purchase
            # makes the second claim a clean refusal; this makes it impossible)
            models.UniqueConstraint(
                fields=["purchase", "date", "start"], name="lessonclaim_once_per_lesson"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="lessonclaim_end_after_start"
            ),  # fmt: skip
            models.CheckConstraint(
                condition=models.Q(lessons__gte=1), name="lessonclaim_lessons_pos"
            ),  # fmt: skip
        ]
        indexes = [
            # the nightly sweep: pending claims by age
            models.Index(
                fields=["claimed_at"],
                name="lessonclaim_pending_age",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"消课 {self.date:%Y-%m-%d} {self.start:%H:%M}（{self.lessons}课时）"

    @property
    def answered(self) -> bool:
        return self.status != self.Status.PENDING
