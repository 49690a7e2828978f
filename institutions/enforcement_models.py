"""Enforcement of the training line: inspections (专项整治), 约谈, sanctions and 通报.
Models (imported at the bottom of institutions/models.py, as the escrow's are).

- An ``InspectionRound`` (专项整治) has groups of inspectors (bureau users) and a plan of
  institutions to visit (``PlannedVisit``), drawn from the register by district / category,
  or at random with a recorded seed (``random.Random(seed)``: the same seed and the same
  register give the same draw).
- A ``Visit`` records the checklist (``VisitItem``: one row per ``CHECKLIST`` item, passed
  or failed with a note) and its photos (``VisitPhoto``, private evidence files). A failed
  item opens a finding of the compliance engine (rule ``institutions.inspection.failed_item``).
- ``PatrolSite``: an unlicensed site found on patrol, with its address and outcome.
- ``Interview`` (约谈): a talk with a deadline to 整改 and its follow-up visit.
- ``Sanction``: 警告, 责令整改, 暂停, 吊销, each tied to its source (a complaint, a visit, a 约谈 or
  a finding). An open 责令整改 past its deadline makes the institution grey (colour.py).
- ``EnforcementNotice`` (通报): published batches of ``NoticeEntry`` (institution, violation,
  sanction), public at /enforcement/notices/.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CHECKLIST",
    "EnforcementNotice",
    "InspectionGroup",
    "InspectionRound",
    "Interview",
    "NoticeEntry",
    "PatrolSite",
    "PlannedVisit",
    "Sanction",
    "Visit",
    "VisitItem",
    "VisitPhoto",
]


class ChecklistItem(models.TextChoices):
    LICENCE = "licence", _("证照公示")
    FEES = "fees", _("收费公示与预收费监管")
    HOURS = "hours", _("培训时间")
    CONTENT = "content", _("课程内容与备案一致")
    STAFF = "staff", _("从业人员资质")
    SAFETY = "safety", _("消防与场地")


CHECKLIST = ChecklistItem


class InspectionRound(models.Model):
    """A round of 专项整治: its dates, its groups, the institutions it plans to visit."""

    name = models.CharField(_("专项整治名称"), max_length=200)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    # how the plan was drawn: reproducible from these and the register
    draw_district = models.ForeignKey(
        "portal.District", verbose_name=_("抽取范围（区）"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    draw_category = models.CharField(_("抽取范围（类别）"), max_length=12, blank=True)
    draw_count = models.PositiveIntegerField(_("随机抽取家数"), null=True, blank=True)
    draw_seed = models.BigIntegerField(_("随机种子"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("专项整治")
        verbose_name_plural = _("专项整治")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="inspection_round_dates"
            )
        ]

    def __str__(self):
        return self.name


class InspectionGroup(models.Model):
    round = models.ForeignKey(
        InspectionRound, verbose_name=_("专项整治"), on_delete=models.CASCADE,
        related_name="groups",
    )  # fmt: skip
    name = models.CharField(_("检查组"), max_length=100)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("检查人员"), related_name="+"
    )

    class Meta:
        verbose_name = _("检查组")
        verbose_name_plural = _("检查组")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "name"], name="inspection_group_name")
        ]

    def __str__(self):
        return self.name


class PlannedVisit(models.Model):
    round = models.ForeignKey(
        InspectionRound, verbose_name=_("专项整治"), on_delete=models.CASCADE,
        related_name="planned",
    )  # fmt: skip
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    group = models.ForeignKey(
        InspectionGroup, verbose_name=_("检查组"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="planned",
    )  # fmt: skip

    class Meta:
        verbose_name = _("计划检查机构")
        verbose_name_plural = _("计划检查机构")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "institution"], name="planned_visit_once")
        ]

    def __str__(self):
        return f"{self.round} · {self.institution_id}"


class Visit(models.Model):
    """One inspection visit of an institution, with its checklist."""

    round = models.ForeignKey(
        InspectionRound, verbose_name=_("专项整治"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="visits",
    )  # fmt: skip
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="visits",
    )  # fmt: skip
    date = models.DateField(_("检查日期"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("检查人员"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    follow_up_of = models.ForeignKey(
        "self", verbose_name=_("复查的检查"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="follow_ups",
    )  # fmt: skip
    note = models.TextField(_("检查情况"), blank=True)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("检查记录")
        verbose_name_plural = _("检查记录")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["institution", "date"], name="visit_inst_date")]

    def __str__(self):
        return f"{self.institution} {self.date}"


class VisitItem(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("检查记录"), on_delete=models.CASCADE, related_name="items"
    )
    item = models.CharField(_("检查项目"), max_length=10, choices=ChecklistItem.choices)
    passed = models.BooleanField(_("合格"))
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("检查项目结果")
        verbose_name_plural = _("检查项目结果")
        ordering = ["visit", "id"]
        constraints = [models.UniqueConstraint(fields=["visit", "item"], name="visit_item_once")]

    def __str__(self):
        return f"{self.get_item_display()} {'合格' if self.passed else '不合格'}"


class VisitPhoto(models.Model):
    """A photo (or PDF) taken on a visit: checked by content and stored at a random path by
    portal.evidence, served only to the bureau's staff of the line, never public."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("检查记录"), on_delete=models.CASCADE, related_name="photos"
    )
    item = models.ForeignKey(
        VisitItem, verbose_name=_("检查项目"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="photos",
    )  # fmt: skip
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=3)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    path = models.CharField(_("存储路径"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("检查照片")
        verbose_name_plural = _("检查照片")
        ordering = ["visit", "id"]

    def __str__(self):
        return self.name


class PatrolSite(models.Model):
    """An unlicensed training site found on patrol (无证无照), and what became of it."""

    class Outcome(models.TextChoices):
        CLOSED = "closed", _("取缔")
        HANDED_OVER = "handed_over", _("移交")

    round = models.ForeignKey(
        InspectionRound, verbose_name=_("专项整治"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="patrol_sites",
    )  # fmt: skip
    name = models.CharField(_("场所名称"), max_length=200)
    address = models.CharField(_("地址"), max_length=300)
    district = models.ForeignKey(
        "portal.District", verbose_name=_("所在区"), on_delete=models.PROTECT, related_name="+"
    )
    found_on = models.DateField(_("发现日期"))
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices)
    handed_to = models.CharField(_("移交部门"), max_length=100, blank=True)
    note = models.TextField(_("情况说明"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("无证培训场所")
        verbose_name_plural = _("无证培训场所")
        ordering = ["-found_on", "-id"]

    def __str__(self):
        return self.name


class Interview(models.Model):
    """约谈: who attended, the problems, the deadline to 整改, and the follow-up visit."""

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="interviews",
    )  # fmt: skip
    date = models.DateField(_("约谈日期"))
    attendees = models.CharField(_("参加人员"), max_length=500)
    problems = models.TextField(_("存在问题"))
    deadline = models.DateField(_("整改期限"))
    visit = models.ForeignKey(
        Visit, verbose_name=_("来源检查记录"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="interviews",
    )  # fmt: skip
    follow_up_visit = models.ForeignKey(
        Visit, verbose_name=_("复查记录"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="followed_interviews",
    )  # fmt: skip
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("约谈")
        verbose_name_plural = _("约谈")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("date")), name="interview_deadline_after"
            )
        ]

    def __str__(self):
        return f"{self.institution} {self.date}"


class Sanction(models.Model):
    """A decision on an institution, through its state machine (services / colour):
    警告 (recorded), 责令整改 (grey once its deadline passes while open), 暂停 (grey),
    吊销 (black)."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("警告")
        RECTIFY = "rectify", _("责令整改")
        SUSPEND = "suspend", _("暂停办学")
        REVOKE = "revoke", _("吊销办学许可证")

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="sanctions",
    )  # fmt: skip
    kind = models.CharField(_("处理类型"), max_length=8, choices=Kind.choices)
    decided_on = models.DateField(_("决定日期"))
    reason = models.TextField(_("违规事实"))
    deadline = models.DateField(_("整改期限"), null=True, blank=True)
    # the source: at least one of these (a database constraint as well as the service)
    complaint = models.ForeignKey(
        "institutions.Complaint", verbose_name=_("来源举报"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="sanctions",
    )  # fmt: skip
    visit = models.ForeignKey(
        Visit, verbose_name=_("来源检查记录"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="sanctions",
    )  # fmt: skip
    interview = models.ForeignKey(
        Interview, verbose_name=_("来源约谈"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="sanctions",
    )  # fmt: skip
    finding = models.ForeignKey(
        "portal.Finding", verbose_name=_("来源检查发现"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    closed_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    closed_note = models.CharField(_("整改完成说明"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("行政处理")
        verbose_name_plural = _("行政处理")
        ordering = ["-decided_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(complaint__isnull=False)
                | Q(visit__isnull=False)
                | Q(interview__isnull=False)
                | Q(finding__isnull=False),
                name="sanction_has_source",
            ),
            models.CheckConstraint(
                condition=~Q(kind="rectify") | Q(deadline__isnull=False),
                name="sanction_rectify_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "kind", "closed_on"], name="sanction_open_kind")
        ]

    def __str__(self):
        return f"{self.institution} {self.get_kind_display()} {self.decided_on}"


class EnforcementNotice(models.Model):
    """通报: a published batch of enforcement results."""

    title = models.CharField(_("通报标题"), max_length=200)
    date = models.DateField(_("通报日期"))
    body = models.TextField(_("通报正文"), blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    published_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("查处通报")
        verbose_name_plural = _("查处通报")
        ordering = ["-date", "-id"]

    def __str__(self):
        return self.title


class NoticeEntry(models.Model):
    notice = models.ForeignKey(
        EnforcementNotice, verbose_name=_("通报"), on_delete=models.CASCADE,
        related_name="entries",
    )  # fmt: skip
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="notice_entries",
    )  # fmt: skip
    violation = models.CharField(_("违规行为"), max_length=500)
    sanction = models.ForeignKey(
        Sanction, verbose_name=_("处理结果"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="notice_entries",
    )  # fmt: skip
    outcome = models.CharField(_("处理情况"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("通报机构")
        verbose_name_plural = _("通报机构")
        ordering = ["notice", "id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "institution"], name="notice_entry_once")
        ]

    def __str__(self):
        return f"{self.notice} · {self.institution_id}"
