"""Enforcement of the training line: complaints (举报/投诉) and their handling. Models (imported at
the bottom of institutions/models.py, as the escrow's are).

A complaint is filed on a public page without an account (institutions/complaints.py,
``complaint_file``); the complainant keeps a tracking code, of which only a SHA-256 digest is
stored. It is routed by category to a line of work (``Complaint.LINES``), and moves through
``Complaint.TRANSITIONS``, each move kept as a ComplaintStep and audited. The complainant's
name and phone are stored for the handling staff only: masked everywhere else, each showing
audited (``complaint_contact_show``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import District, FindingEvidence, Parent, School, mask_phone

__all__ = ["Complaint", "ComplaintFile", "ComplaintStep"]


class Complaint(models.Model):
    class Category(models.TextChoices):
        DISGUISED = "disguised", _("学科类隐形变异培训")
        OVERTIME = "overtime", _("超时培训")
        AHEAD = "ahead", _("超前超标培训")
        FEES = "fees", _("违规收费/预收费")
        CLOSED_DOWN = "closed_down", _("停业跑路")
        PAID_TUTORING = "paid_tutoring", _("在职教师有偿补课")
        HOMEWORK = "homework", _("学校作业超量")
        AFTERSCHOOL = "afterschool", _("学校课后服务")
        OTHER = "other", _("其他")

    class Line(models.TextChoices):
        INSTITUTIONS = "institutions", _("校外培训")
        HOMEWORK = "homework", _("作业管理")
        AFTERSCHOOL = "afterschool", _("课后服务")
        # serving teachers' paid tutoring is a matter of teachers' conduct (师德师风), which no
        # line's group owns: the bureau's administrators (superusers) handle it
        BUREAU = "bureau", _("局机关（师德师风）")

    # which line handles a category (issue 15): the training line by default
    ROUTE = {
        Category.HOMEWORK: Line.HOMEWORK,
        Category.AFTERSCHOOL: Line.AFTERSCHOOL,
        Category.PAID_TUTORING: Line.BUREAU,
    }
    # categories about a school (the complainant names it; it may be assigned to it)
    SCHOOL_CATEGORIES = (Category.HOMEWORK, Category.AFTERSCHOOL, Category.PAID_TUTORING)
    # categories about a training institution (registered, or named in free text)
    INSTITUTION_CATEGORIES = (
        Category.DISGUISED,
        Category.OVERTIME,
        Category.AHEAD,
        Category.FEES,
        Category.CLOSED_DOWN,
    )

    class Status(models.TextChoices):
        RECEIVED = "received", _("已收到，待受理")
        ACCEPTED = "accepted", _("已受理")
        REJECTED = "rejected", _("不予受理")
        ASSIGNED = "assigned", _("已交办")
        ANSWERED = "answered", _("已反馈办理情况")
        CLOSED = "closed", _("已办结")

    S = Status
    TRANSITIONS = {
        S.RECEIVED: {S.ACCEPTED, S.REJECTED},
        S.ACCEPTED: {S.ASSIGNED, S.ANSWERED},  # staff may handle it themselves
        S.ASSIGNED: {S.ANSWERED},
        S.ANSWERED: {S.CLOSED, S.ASSIGNED},  # back: the answer is sent back
        S.REJECTED: set(),
        S.CLOSED: set(),
    }
    OPEN = (S.RECEIVED, S.ACCEPTED, S.ASSIGNED, S.ANSWERED)
    DONE = (S.REJECTED, S.CLOSED)

    # a SHA-256 digest of the tracking code; the code itself is shown once, to the
    # complainant, and stored nowhere
    code_digest = models.CharField(_("查询码摘要"), max_length=64, unique=True, editable=False)
    category = models.CharField(_("举报类别"), max_length=16, choices=Category.choices)
    line = models.CharField(_("办理条线"), max_length=16, choices=Line.choices, db_index=True)
    district = models.ForeignKey(
        District, verbose_name=_("所在区"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints",
    )  # fmt: skip
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("被举报机构"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="complaints",
    )  # fmt: skip
    institution_name = models.CharField(_("机构名称（未在名录中）"), max_length=200, blank=True)
    institution_address = models.CharField(_("机构地址"), max_length=300, blank=True)
    school = models.ForeignKey(
        School, verbose_name=_("涉及学校"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints",
    )  # fmt: skip
    text = models.TextField(_("举报内容"))
    happened_on = models.DateField(_("发生日期"), null=True, blank=True)
    contact_name = models.CharField(_("举报人姓名"), max_length=50, blank=True)
    contact_phone = models.CharField(_("举报人电话"), max_length=20, blank=True)
    parent = models.ForeignKey(
        Parent, verbose_name=_("家长账号"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="complaints",
    )  # fmt: skip
    received_at = models.DateTimeField(_("收到时间"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("办理状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    # repeats about the same institution (or school) and category within
    # PORTAL_COMPLAINT_GROUP_DAYS: grouped under the first one
    group_key = models.CharField(_("归并标识"), max_length=250, blank=True, db_index=True)
    group_head = models.ForeignKey(
        "self", verbose_name=_("归并至"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="repeats",
    )  # fmt: skip
    assigned_school = models.ForeignKey(
        School, verbose_name=_("交办学校"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_complaints",
    )  # fmt: skip
    answer = models.TextField(_("办理情况"), blank=True)
    reply = models.TextField(_("答复举报人"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    # a school's managers see the complaints assigned to their school; a parent their own
    SCOPE = {"school": "assigned_school", "parent": "parent__user"}

    class Meta:
        verbose_name = _("举报投诉")
        verbose_name_plural = _("举报投诉")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["line", "status"], name="complaint_line_status")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(group_head=models.F("pk")), name="complaint_not_own_group"
            ),
        ]

    def __str__(self):
        # never the tracking code nor the complainant: this is what audit rows keep
        return f"举报 #{self.pk}（{self.get_category_display()}）"

    @property
    def subject_name(self) -> str:
        if self.institution_id:
            return self.institution.name
        if self.institution_name:
            return self.institution_name
        if self.school_id:
            return self.school.name
        return ""

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone) if self.contact_phone else ""

    @property
    def masked_name(self) -> str:
        name = self.contact_name
        return f"{name[0]}{'*' * max(len(name) - 1, 1)}" if name else ""

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class ComplaintStep(models.Model):
    """One step of a complaint's handling, as it happened (the history)."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("举报投诉"), on_delete=models.CASCADE, related_name="steps"
    )
    action = models.CharField(_("动作"), max_length=20)
    status = models.CharField(_("办理后状态"), max_length=10, choices=Complaint.Status.choices)
    note = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("办理人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None}

    class Meta:
        verbose_name = _("举报办理记录")
        verbose_name_plural = _("举报办理记录")
        ordering = ["complaint", "at", "id"]

    def __str__(self):
        return f"{self.complaint_id} {self.action}"


class ComplaintFile(models.Model):
    """A file sent with a complaint or with an answer to it: PDF, JPG or PNG by content
    (portal.evidence), at a random path under MEDIA_ROOT, served only through
    ``complaints:evidence`` to those who may see it; never public."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("举报投诉"), on_delete=models.CASCADE, related_name="files"
    )
    step = models.ForeignKey(
        ComplaintStep, verbose_name=_("办理步骤"), on_delete=models.CASCADE,
        related_name="files", null=True, blank=True,
    )  # fmt: skip
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=3, choices=FindingEvidence.Kind.choices)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    path = models.CharField(_("存储路径"), max_length=200, unique=True)
    # the complainant's files (filed) or the answer's (the school's or the staff's)
    from_complainant = models.BooleanField(_("举报人提交"), default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    # decided by complaint_selectors.file_for (a school sees its own answer's files only)
    SCOPE = {"school": None, "parent": None}

    class Meta:
        verbose_name = _("举报佐证材料")
        verbose_name_plural = _("举报佐证材料")
        ordering = ["complaint", "at", "id"]

    def __str__(self):
        return self.name
