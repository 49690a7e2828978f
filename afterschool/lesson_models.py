"""Lessons of a course, their roll-call, ratings and term surveys (imported by models.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Child, Parent, School, SchoolPeriod


class Lesson(models.Model):
    """One dated meeting of an offering, generated from its weekly pattern within the term
    on the school days of the portal's calendar (afterschool.lessons)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待上课")
        HELD = "held", _("已上课")
        CANCELLED = "cancelled", _("已取消")

    offering = models.ForeignKey(
        "afterschool.Offering",
        verbose_name=_("课后服务课程"),
        on_delete=models.PROTECT,
        related_name="lessons",
    )
    # the day the weekly pattern gave it: generation is keyed by it, so a moved lesson is
    # never generated again on its old day
    planned_date = models.DateField(_("原定日期"))
    date = models.DateField(_("日期"), db_index=True)
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    room = models.ForeignKey(
        "afterschool.Room",
        verbose_name=_("教室"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    teacher_in_at = models.DateTimeField(_("教师签到"), null=True, blank=True)
    teacher_out_at = models.DateTimeField(_("教师签离"), null=True, blank=True)
    roll_submitted_at = models.DateTimeField(_("点名提交时间"), null=True, blank=True)
    roll_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("点名人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    SCOPE = {"school": "offering__school", "parent": "offering__enrolments__child__parents__user"}

    class Meta:
        verbose_name = _("课后服务课次")
        verbose_name_plural = _("课后服务课次")
        ordering = ["date", "offering_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "planned_date"], name="as_one_lesson_a_planned_day"
            )
        ]

    def __str__(self):
        return f"{self.offering.name} {self.date}"


class LessonMove(models.Model):
    """A reschedule of one lesson, with where it was and where it went; the latest one may
    be undone (``undone_at``)."""

    lesson = models.ForeignKey(
        Lesson, verbose_name=_("课次"), on_delete=models.PROTECT, related_name="moves"
    )
    from_date = models.DateField(
        _("原日期"),
    )
    from_start = models.TimeField(
        _("原开始时间"),
    )
    from_end = models.TimeField(
        _("原结束时间"),
    )
    from_room = models.ForeignKey(
        "afterschool.Room",
        verbose_name=_("原教室"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    to_date = models.DateField(_("调到日期"))
    to_start = models.TimeField(_("开始"))
    to_end = models.TimeField(_("结束"))
    to_room = models.ForeignKey(
        "afterschool.Room",
        verbose_name=_("新教室"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    reason = models.CharField(_("调课原因"), max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调课人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("调课时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调课记录")
        verbose_name_plural = _("调课记录")
        ordering = ["lesson", "at", "id"]

    def __str__(self):
        return f"{self.lesson}: {self.from_date} → {self.to_date}"


class LeaveRequest(models.Model):
    """A parent's request for leave from one lesson for their child."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        WITHDRAWN = "withdrawn", _("已撤回")

    ACTIVE = [Status.REQUESTED, Status.APPROVED]

    lesson = models.ForeignKey(
        Lesson, verbose_name=_("课次"), on_delete=models.PROTECT, related_name="leaves"
    )
    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="as_leaves"
    )
    reason = models.CharField(_("请假原因"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    SCOPE = {"school": "lesson__offering__school", "parent": "child__parents__user"}

    class Meta:
        verbose_name = _("请假申请")
        verbose_name_plural = _("请假申请")
        ordering = ["lesson", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lesson", "child"],
                condition=models.Q(status__in=["requested", "approved"]),
                name="as_one_active_leave",
            )
        ]

    def __str__(self):
        return f"{self.child} {self.lesson} {self.get_status_display()}"


class Attendance(models.Model):
    """A pupil's roll-call mark for one lesson; every change after the first mark is kept
    in AttendanceChange (a correction never overwrites history)."""

    class Mark(models.TextChoices):
        PRESENT = "present", _("出勤")
        ABSENT = "absent", _("缺勤")
        LEAVE = "leave", _("请假")

    lesson = models.ForeignKey(
        Lesson, verbose_name=_("课次"), on_delete=models.PROTECT, related_name="attendance"
    )
    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="as_attendance"
    )
    mark = models.CharField(_("出勤情况"), max_length=10, choices=Mark.choices)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    SCOPE = {"school": "lesson__offering__school", "parent": "child__parents__user"}

    class Meta:
        verbose_name = _("学生考勤")
        verbose_name_plural = _("学生考勤")
        ordering = ["lesson", "child"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "child"], name="as_one_mark_a_lesson")
        ]

    def __str__(self):
        return f"{self.child} {self.lesson} {self.get_mark_display()}"


class AttendanceChange(models.Model):
    attendance = models.ForeignKey(
        Attendance, verbose_name=_("考勤记录"), on_delete=models.PROTECT, related_name="changes"
    )
    old = models.CharField(_("原记录"), max_length=10, choices=Attendance.Mark.choices)
    new = models.CharField(_("新记录"), max_length=10, choices=Attendance.Mark.choices)
    reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更正人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("考勤更正")
        verbose_name_plural = _("考勤更正")
        ordering = ["attendance", "at", "id"]

    def __str__(self):
        return f"{self.attendance}: {self.old} → {self.new}"


class CorrectionRequest(models.Model):
    """A change of a submitted roll-call, asked by the teacher and approved by school staff
    (principal or 教导处); on approval the change is kept in AttendanceChange."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    attendance = models.ForeignKey(
        "afterschool.Attendance",
        verbose_name=_("考勤记录"),
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    mark = models.CharField(_("更正为"), max_length=10, choices=Attendance.Mark.choices)
    reason = models.CharField(_("原因"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("考勤更正申请")
        verbose_name_plural = _("考勤更正申请")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.attendance} → {self.mark}"


class Rating(models.Model):
    """A parent's rating of a course their child took, once the course has ended: one per
    child and course (a parent of two children in it rates twice)."""

    offering = models.ForeignKey(
        "afterschool.Offering",
        verbose_name=_("课后服务课程"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    parent = models.ForeignKey(
        Parent, verbose_name=_("家长"), on_delete=models.PROTECT, related_name="+"
    )
    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="as_ratings"
    )
    stars = models.PositiveSmallIntegerField(
        _("评分"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("意见"), max_length=300, blank=True)
    at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    SCOPE = {"school": "offering__school", "parent": "parent__user"}

    class Meta:
        verbose_name = _("课程评价")
        verbose_name_plural = _("课程评价")
        constraints = [
            models.UniqueConstraint(fields=["offering", "child"], name="as_one_rating"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="as_rating_stars"
            ),
        ]

    def __str__(self):
        return f"{self.offering} {self.stars}"


class TermSurvey(models.Model):
    """A parent's answer to the school's term survey (满意度调查): one per parent and term."""

    class Answer(models.TextChoices):
        VERY = "very", _("非常满意")
        SATISFIED = "satisfied", _("满意")
        NEUTRAL = "neutral", _("一般")
        DISSATISFIED = "dissatisfied", _("不满意")

    SATISFIED_ANSWERS = [Answer.VERY, Answer.SATISFIED]

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    term = models.ForeignKey(
        SchoolPeriod, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        Parent, verbose_name=_("家长"), on_delete=models.PROTECT, related_name="+"
    )
    answer = models.CharField(_("总体满意度"), max_length=12, choices=Answer.choices)
    suggestion = models.CharField(_("意见建议"), max_length=500, blank=True)
    at = models.DateTimeField(_("填写时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": "parent__user"}

    class Meta:
        verbose_name = _("课后服务满意度调查")
        verbose_name_plural = _("课后服务满意度调查")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term", "parent"], name="as_one_survey_answer"
            )
        ]

    def __str__(self):
        return f"{self.school} {self.term.name} {self.get_answer_display()}"


__all__ = [
    "Attendance",
    "AttendanceChange",
    "CorrectionRequest",
    "LeaveRequest",
    "Lesson",
    "LessonMove",
    "Rating",
    "TermSurvey",
]
