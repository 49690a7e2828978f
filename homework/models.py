"""Homework publication (作业公示): items per class and day, under the grade's time limit."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Child, Parent, Policy, School, SchoolClass, SchoolStaff

SUBJECTS = [
    "语文", "数学", "英语", "道德与法治", "科学", "历史", "地理",
    "物理", "化学", "生物", "信息科技", "其他",
]  # fmt: skip


class HomeworkPolicy(Policy):
    """The limits in force, one row, editable by bureau staff (defaults: the national rule,
    《关于进一步减轻义务教育阶段学生作业负担和校外培训负担的意见》, 2021)."""

    limit_grades_1_2 = models.PositiveSmallIntegerField(
        _("一、二年级每日书面作业上限（分钟）"), default=settings.HOMEWORK_LIMITS[1]
    )
    limit_grades_3_6 = models.PositiveSmallIntegerField(
        _("三至六年级每日书面作业上限（分钟）"), default=settings.HOMEWORK_LIMITS[3]
    )
    limit_grades_7_9 = models.PositiveSmallIntegerField(
        _("初中每日书面作业上限（分钟）"), default=settings.HOMEWORK_LIMITS[7]
    )
    count_optional = models.BooleanField(
        _("选做作业计入时长"), default=settings.HOMEWORK_COUNT_OPTIONAL
    )
    count_non_written = models.BooleanField(
        _("非书面作业计入时长"), default=settings.HOMEWORK_COUNT_NON_WRITTEN
    )
    min_reports = models.PositiveSmallIntegerField(
        _("家长反馈达到多少份才据以判断"), default=settings.HOMEWORK_MIN_REPORTS
    )

    class Meta:
        verbose_name = _("作业时长规定")
        verbose_name_plural = _("作业时长规定")

    def __str__(self):
        return str(_("作业时长规定"))

    def limit_for(self, grade: int) -> int:
        if grade <= 2:
            return self.limit_grades_1_2
        if grade <= 6:
            return self.limit_grades_3_6
        return self.limit_grades_7_9

    def counts(self, *, required: bool, written: bool) -> bool:
        """Whether an item's minutes count toward the daily limit."""
        return (required or self.count_optional) and (written or self.count_non_written)


class HomeworkItem(models.Model):
    class Kind(models.TextChoices):
        BASIC = "basic", _("基础")
        EXTENDED = "extended", _("拓展")
        PRACTICE = "practice", _("实践")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("已公示")
        WITHDRAWN = "withdrawn", _("已撤回")

    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), on_delete=models.PROTECT, related_name="homework"
    )
    date = models.DateField(_("日期"))
    subject = models.CharField(_("学科"), max_length=10, choices=[(s, s) for s in SUBJECTS])
    content = models.TextField(_("作业内容"), max_length=2000)
    minutes = models.PositiveSmallIntegerField(
        _("预计用时（分钟）"), validators=[MinValueValidator(1), MaxValueValidator(300)]
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.BASIC)
    required = models.BooleanField(_("必做"), default=True)
    written = models.BooleanField(_("书面作业"), default=True)
    layer = models.CharField(_("分层"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PUBLISHED
    )
    published_by = models.ForeignKey(
        SchoolStaff, verbose_name=_("发布教师"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    SCOPE = {"school": "school_class__school", "parent": "school_class__children__parents__user"}

    class Meta:
        verbose_name = _("作业")
        verbose_name_plural = _("作业")
        # by the column, not the relation: ordering by "school_class" would join the class,
        # school and district tables into every query on items (bench/homework_checks.py)
        ordering = ["date", "school_class_id", "subject", "id"]
        indexes = [
            models.Index(fields=["school_class", "date"], name="hw_class_date"),
            models.Index(fields=["date", "school_class"], name="hw_date_class"),
        ]

    def __str__(self):
        return f"{self.date} {self.subject} {self.minutes}分钟"


class HomeworkRevision(models.Model):
    """What an item was before each change after publication: kept forever."""

    item = models.ForeignKey(
        HomeworkItem, verbose_name=_("作业"), on_delete=models.CASCADE, related_name="revisions"
    )
    changed_by = models.ForeignKey(
        SchoolStaff, verbose_name=_("修改人"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("变更时间"), auto_now_add=True)
    before = models.JSONField(
        _("修改前"),
    )
    after = models.JSONField(
        _("修改后"),
    )

    class Meta:
        verbose_name = _("作业修改记录")
        verbose_name_plural = _("作业修改记录")
        ordering = ["item", "changed_at", "id"]

    def __str__(self):
        return f"{self.item_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


def _board_token():
    return secrets.token_urlsafe(9)


class ClassBoard(models.Model):
    """The public link of a class's homework board (printed as a QR code in the classroom)."""

    school_class = models.OneToOneField(
        SchoolClass, verbose_name=_("班级"), on_delete=models.CASCADE, related_name="homework_board"
    )
    token = models.CharField(_("访问令牌"), max_length=20, unique=True, default=_board_token)

    class Meta:
        verbose_name = _("班级作业公示牌")
        verbose_name_plural = _("班级作业公示牌")

    def __str__(self):
        return str(self.school_class)


class ParentReport(models.Model):
    """A parent's report of the minutes their child really spent on a day."""

    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.CASCADE, related_name="homework_reports"
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("班级"),
        on_delete=models.CASCADE,
        related_name="homework_reports",
    )
    date = models.DateField(_("日期"))
    minutes = models.PositiveSmallIntegerField(
        _("实际用时（分钟）"), validators=[MaxValueValidator(600)]
    )
    reported_by = models.ForeignKey(
        Parent, verbose_name=_("填报人"), on_delete=models.CASCADE, related_name="+"
    )
    reported_at = models.DateTimeField(_("填报时间"), auto_now=True)

    SCOPE = {"school": "school_class__school", "parent": "child__parents__user"}

    class Meta:
        verbose_name = _("家长反馈用时")
        verbose_name_plural = _("家长反馈用时")
        constraints = [
            models.UniqueConstraint(fields=["child", "date"], name="hw_report_one_per_day")
        ]
        indexes = [models.Index(fields=["date", "school_class"], name="hw_report_date_class")]

    def __str__(self):
        return f"{self.child} {self.date} {self.minutes}"


class Survey(models.Model):
    """An anonymous survey of a class's homework load (作业量民意调查) for a period."""

    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=100)
    start = models.DateField(_("开始"))
    end = models.DateField(_("结束"))
    token = models.CharField(_("访问令牌"), max_length=20, unique=True, default=_board_token)
    created_by = models.ForeignKey(
        SchoolStaff, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = {"school": "school_class__school", "parent": None}

    class Meta:
        verbose_name = _("作业量问卷")
        verbose_name_plural = _("作业量问卷")

    def __str__(self):
        return self.title


class SurveyBallot(models.Model):
    """That a parent has answered, and nothing of what: kept apart from the answers."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="+"
    )
    parent = models.ForeignKey(
        Parent, verbose_name=_("家长"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("问卷答卷登记")
        verbose_name_plural = _("问卷答卷登记")
        constraints = [
            models.UniqueConstraint(fields=["survey", "parent"], name="hw_one_ballot_per_parent")
        ]

    def __str__(self):
        return f"{self.survey_id}"


class SurveyAnswer(models.Model):
    class Load(models.TextChoices):
        TOO_MUCH = "too_much", _("偏多")
        RIGHT = "right", _("适中")
        TOO_LITTLE = "too_little", _("偏少")

    survey = models.ForeignKey(
        Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="answers"
    )
    load = models.CharField(_("作业量"), max_length=12, choices=Load.choices)
    typical_minutes = models.PositiveSmallIntegerField(
        _("孩子每天完成书面作业大约用时（分钟）"), validators=[MaxValueValidator(600)]
    )

    class Meta:
        verbose_name = _("问卷回答")
        verbose_name_plural = _("问卷回答")

    def __str__(self):
        return f"{self.survey_id} {self.load}"


class Inspection(models.Model):
    """三级督查: a district flying check, a guidance-centre visit or a school's own check."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("区级飞行检查")
        CENTRE = "centre", _("教育指导中心")
        SCHOOL = "school", _("学校自查")

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="inspections"
    )
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    date = models.DateField(_("日期"))
    classes = models.ManyToManyField(SchoolClass, verbose_name=_("抽查班级"), blank=True)
    summary = models.TextField(_("检查情况"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("作业督查")
        verbose_name_plural = _("作业督查")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date} {self.school} {self.get_level_display()}"


class InspectionIssue(models.Model):
    """A problem an inspection found, followed up until closed."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("督查"), on_delete=models.CASCADE, related_name="issues"
    )
    description = models.TextField(_("问题"))
    follow_up = models.TextField(_("整改情况"), blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    SCOPE = {"school": "inspection__school", "parent": None}

    class Meta:
        verbose_name = _("督查问题")
        verbose_name_plural = _("督查问题")

    def __str__(self):
        return self.description[:40]


class ReportSnapshot(models.Model):
    """The monthly report of a district as computed at ``computed_at``: the dashboard reads
    it instead of adding up a month of a whole district's homework on every page view (4-7 s
    for 30,000 classes). Refreshed nightly for the current month (homework.tasks)."""

    district = models.ForeignKey(
        "portal.District", verbose_name=_("区"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.CharField(_("月份"), max_length=7)
    rows = models.JSONField(
        _("报表数据"),
    )
    days = models.PositiveSmallIntegerField(_("上学日"))
    # why there are no rows (the calendar cannot judge the month), kept like the rows
    note = models.TextField(_("说明"), blank=True)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("作业月报快照")
        verbose_name_plural = _("作业月报快照")
        constraints = [
            models.UniqueConstraint(fields=["district", "month"], name="hw_snapshot_once")
        ]

    def __str__(self):
        return f"{self.district} {self.month}"


from homework.design_models import *  # noqa: E402, F401, F403
