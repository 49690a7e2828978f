"""What every app shares: districts, schools, classes, people, the audit log, the calendar
and the compliance engine's runs and findings."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

GRADE_NAMES = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


class Policy(models.Model):
    """A bureau's policy numbers: one row, created with the defaults on first use and then
    edited by staff in the admin (the rules differ between places; DOMAIN.md)."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls):
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class District(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")
        ordering = ["code"]

    def __str__(self):
        return self.name


class School(models.Model):
    class Stage(models.TextChoices):
        PRIMARY = "primary", _("小学")
        JUNIOR = "junior", _("初中")
        NINE_YEAR = "nine_year", _("九年一贯制")

    # Which grades each stage teaches: a class's grade must fit its school.
    STAGE_GRADES = {
        Stage.PRIMARY: range(1, 7),
        Stage.JUNIOR: range(7, 10),
        Stage.NINE_YEAR: range(1, 10),
    }

    code = models.CharField(
        _("学校代码"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]+$", _("学校代码只能包含字母和数字"))],
    )
    name = models.CharField(_("校名"), max_length=100)
    stage = models.CharField(_("学段"), max_length=12, choices=Stage.choices)
    district = models.ForeignKey(
        District, verbose_name=_("所属区"), on_delete=models.PROTECT, related_name="schools"
    )

    SCOPE = {"school": "", "parent": "children__parents__user"}

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")
        ordering = ["district__code", "code"]

    def __str__(self):
        return self.name

    def grades(self) -> range:
        return self.STAGE_GRADES[self.stage]


class SchoolStaff(models.Model):
    """A school user: bound to exactly one school, with one role there."""

    class Role(models.TextChoices):
        PRINCIPAL = "principal", _("校长")
        ACADEMIC = "academic", _("教导处")
        CLASS_TEACHER = "class_teacher", _("班主任")
        TEACHER = "teacher", _("教师")

    # who answers for the school (plans, fees, findings, corrections): principal or 教导处
    MANAGER_ROLES = (Role.PRINCIPAL, Role.ACADEMIC)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.CASCADE,
        related_name="school_staff",
    )
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    name = models.CharField(_("姓名"), max_length=50)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("学校教职工")
        verbose_name_plural = _("学校教职工")
        ordering = ["school", "role", "name"]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"


class SchoolClass(models.Model):
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="classes"
    )
    grade = models.PositiveSmallIntegerField(
        _("年级"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    number = models.PositiveSmallIntegerField(_("班号"), validators=[MinValueValidator(1)])
    head_teacher = models.ForeignKey(
        SchoolStaff,
        verbose_name=_("班主任"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="head_of",
    )

    SCOPE = {"school": "school", "parent": "children__parents__user"}

    class Meta:
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        ordering = ["school", "grade", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "grade", "number"], name="portal_class_unique_per_school"
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=9), name="portal_class_grade_1_9"
            ),
        ]

    def __str__(self):
        return f"{GRADE_NAMES.get(self.grade, self.grade)}年级{self.number}班"


class Parent(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.CASCADE,
        related_name="parent",
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(
        _("手机号"),
        max_length=11,
        validators=[RegexValidator(r"^1\d{10}$", _("手机号应为以1开头的11位数字"))],
    )

    SCOPE = {"school": None, "parent": "user"}

    class Meta:
        verbose_name = _("家长")
        verbose_name_plural = _("家长")
        # seeing a parent's full phone number (each showing audited, portal.privacy)
        permissions = [("view_parent_phone", _("可查看家长完整手机号（记入审计）"))]

    def __str__(self):
        return f"{self.name}（{self.masked_phone}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


def mask_phone(phone: str) -> str:
    """138****5678: the only form in which a phone number appears on a page."""
    if not phone or len(phone) < 7:
        return "****"
    return f"{phone[:3]}****{phone[-4:]}"


class Child(models.Model):
    """A pupil, as little as the portal needs: no national ID number, no birth date."""

    name = models.CharField(_("姓名"), max_length=50)
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="children"
    )
    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), on_delete=models.PROTECT, related_name="children"
    )
    parents = models.ManyToManyField(Parent, verbose_name=_("家长"), related_name="children")

    SCOPE = {"school": "school", "parent": "parents__user"}

    class Meta:
        verbose_name = _("学生")
        verbose_name_plural = _("学生")
        ordering = ["school_class", "name"]

    def __str__(self):
        return self.name


class AuditLog(models.Model):
    """One row per change, written in the same transaction as the change (portal.audit)."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(_("操作人（记录时）"), max_length=150, blank=True)
    action = models.CharField(
        _("动作代码"),
        max_length=100,
        db_index=True,
        validators=[RegexValidator(r"^[a-z_]+(\.[a-z_]+)+$", _("动作代码应为点分小写"))],
    )
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("对象类型"), on_delete=models.PROTECT, null=True
    )
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    old = models.JSONField(_("原值"), null=True, blank=True)
    new = models.JSONField(_("新值"), null=True, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


# --- the calendar ------------------------------------------------------------------------


class CalendarYear(models.Model):
    """A year whose statutory holidays and make-up workdays are known to the portal."""

    class Source(models.TextChoices):
        PACKAGE = "chinesecalendar", _("chinesecalendar 软件包")
        STAFF = "staff", _("工作人员录入")

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    note = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("日历年份")
        verbose_name_plural = _("日历年份")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the plain week: a statutory holiday, or a weekend made a workday."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")
        WORKDAY = "workday", _("调休上班日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"


class SchoolPeriod(models.Model):
    """A district's school terms and winter/summer vacations."""

    class Kind(models.TextChoices):
        TERM = "term", _("学期")
        WINTER = "winter", _("寒假")
        SUMMER = "summer", _("暑假")

    district = models.ForeignKey(
        District, verbose_name=_("区"), on_delete=models.CASCADE, related_name="periods"
    )

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACTIVE = "active", _("进行中")
        CLOSED = "closed", _("已结束")
        ARCHIVED = "archived", _("已归档")

    # a term moves one step at a time, by bureau staff (portal.terms.term_move)
    TRANSITIONS = {
        Status.DRAFT: {Status.ACTIVE},
        Status.ACTIVE: {Status.CLOSED},
        Status.CLOSED: {Status.ARCHIVED},
        Status.ARCHIVED: set(),
    }

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50)
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )

    class Meta:
        verbose_name = _("学期与假期")
        verbose_name_plural = _("学期与假期")
        ordering = ["district", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_order"),
        ]

    def __str__(self):
        return f"{self.district} {self.name}（{self.start}至{self.end}）"

    @property
    def is_vacation(self) -> bool:
        return self.kind != self.Kind.TERM


class FindingStep(models.Model):
    """One step of a finding's handling: assigned, answered (整改), sent back, closed."""

    finding = models.ForeignKey(
        "Finding", verbose_name=_("检查发现"), on_delete=models.CASCADE, related_name="steps"
    )
    action = models.CharField(_("动作"), max_length=20)
    note = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("检查发现办理记录")
        verbose_name_plural = _("检查发现办理记录")
        ordering = ["finding", "at", "id"]

    def __str__(self):
        return f"{self.finding_id} {self.action}"


class Notice(models.Model):
    """A message in a user's in-site inbox. ``key`` names the event, so the same event never
    reaches the same user twice (portal.notices)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    key = models.CharField(_("事件标识"), max_length=120)
    message = models.CharField(_("内容"), max_length=500)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    SCOPE = {"school": None, "parent": "user"}

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notice_once")]

    def __str__(self):
        return self.message[:40]


# --- the compliance engine ---------------------------------------------------------------


class CheckRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("有错误")

    for_date = models.DateField(_("检查日期"))
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(_("触发方式"), max_length=20, default="manual")
    chunks_total = models.PositiveIntegerField(_("分片数"), default=0)
    findings_seen = models.PositiveIntegerField(_("发现问题"), default=0)
    findings_new = models.PositiveIntegerField(_("新增"), default=0)
    findings_resolved = models.PositiveIntegerField(_("已消除"), default=0)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("检查运行")
        verbose_name_plural = _("检查运行")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.for_date} {self.get_status_display()}"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class CheckChunk(models.Model):
    """One piece of a run (a rule over a range of subjects), done by one worker task."""

    run = models.ForeignKey(
        CheckRun, verbose_name=_("检查运行"), on_delete=models.CASCADE, related_name="chunks"
    )
    rule = models.CharField(_("规则"), max_length=100)
    lo = models.BigIntegerField(_("范围起"), null=True)
    hi = models.BigIntegerField(_("范围止"), null=True)
    done = models.BooleanField(_("已完成"), default=False)
    findings = models.PositiveIntegerField(_("发现问题数"), default=0)
    new = models.PositiveIntegerField(_("新增数"), default=0)
    error = models.TextField(_("错误"), blank=True)

    class Meta:
        verbose_name = _("检查分片")
        verbose_name_plural = _("检查分片")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "rule", "lo"], name="checkchunk_unique", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.rule} [{self.lo}-{self.hi}]"


class Finding(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", _("提示")
        WARNING = "warning", _("警告")
        SERIOUS = "serious", _("严重")

    rule = models.CharField(_("规则"), max_length=100, db_index=True)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    # What the finding is about: an object (generic) and a key that identifies it within
    # the rule, so that the same problem found again tomorrow updates the same row.
    subject_key = models.CharField(_("对象标识"), max_length=200)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("对象类型")
    )
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    subject_repr = models.CharField(_("对象"), max_length=200, blank=True)
    # For scoping: a school user sees the findings of their own school only.
    school = models.ForeignKey(
        School,
        verbose_name=_("学校"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="findings",
    )
    institution_id = models.BigIntegerField(_("培训机构编号"), null=True, blank=True)
    message = models.TextField(_("说明"))
    first_seen = models.DateField(_("首次发现"))
    last_seen = models.DateField(_("最近发现"))
    last_run = models.ForeignKey(
        CheckRun,
        verbose_name=_("最近一次检查运行"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # set by the engine when a run no longer sees the problem; the row stays in the record
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)

    class Workflow(models.TextChoices):
        NEW = "new", _("待处理")
        ASSIGNED = "assigned", _("已交办")
        ANSWERED = "answered", _("已反馈整改")
        CLOSED = "closed", _("已办结")

    # the staff's handling (portal.findings), apart from what the checks see
    WORKFLOW = {
        Workflow.NEW: {Workflow.ASSIGNED, Workflow.CLOSED},
        Workflow.ASSIGNED: {Workflow.ANSWERED, Workflow.CLOSED},
        Workflow.ANSWERED: {Workflow.CLOSED, Workflow.ASSIGNED},  # back: sent back
        Workflow.CLOSED: set(),
    }
    workflow = models.CharField(
        _("办理状态"), max_length=10, choices=Workflow.choices, default=Workflow.NEW
    )
    assigned_school = models.ForeignKey(
        School, verbose_name=_("交办学校"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_findings",
    )  # fmt: skip
    assigned_institution_id = models.BigIntegerField(_("交办培训机构"), null=True, blank=True)
    answer = models.TextField(_("整改情况"), blank=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")
        ordering = ["resolved_at", "-last_seen", "rule"]
        constraints = [
            # At most one open finding per rule and subject: the re-run updates it.
            models.UniqueConstraint(
                fields=["rule", "subject_key"],
                condition=Q(resolved_at__isnull=True),
                name="finding_one_open_per_subject",
            )
        ]
        indexes = [models.Index(fields=["school", "resolved_at"])]

    def __str__(self):
        return f"[{self.rule}] {self.subject_repr}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class FindingEvidence(models.Model):
    """A file a school (or the bureau on an institution's behalf) sent with its answer to a
    finding: PDF, JPG or PNG by content (portal.evidence). The file lives under MEDIA_ROOT
    at a random path and is served only through portal.views.evidence_file, to users who
    may see the finding; never from a public URL."""

    class Kind(models.TextChoices):
        PDF = "pdf", _("PDF 文件")
        JPG = "jpg", _("JPG 图片")
        PNG = "png", _("PNG 图片")

    finding = models.ForeignKey(
        Finding, verbose_name=_("检查发现"), on_delete=models.CASCADE, related_name="evidence"
    )
    step = models.ForeignKey(
        FindingStep,
        verbose_name=_("办理记录"),
        on_delete=models.CASCADE,
        related_name="evidence",
        null=True,
        blank=True,
    )
    name = models.CharField(_("文件名"), max_length=200)  # as the user named it, for display
    kind = models.CharField(_("类型"), max_length=3, choices=Kind.choices)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    path = models.CharField(
        _("存储路径"), max_length=200, unique=True
    )  # in portal.evidence.storage()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    # Seen through the finding (a school sees those about it or assigned to it, which one
    # SCOPE path cannot say): portal.evidence.evidence_for decides, fail closed here.
    SCOPE = {"school": None, "parent": None}

    class Meta:
        verbose_name = _("整改佐证材料")
        verbose_name_plural = _("整改佐证材料")
        ordering = ["finding", "at", "id"]

    def __str__(self):
        return self.name


from portal.dashboard_models import PanelSnapshot  # noqa: E402,F401
