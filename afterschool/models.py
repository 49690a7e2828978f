"""The "5+2" after-school service: plans (一校一案), providers, the course menu, enrolment."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Child, Policy, School, SchoolPeriod, SchoolStaff

WEEKDAY_NAMES = "一二三四五六日"


class AfterschoolPolicy(Policy):
    """The district's numbers for the 5+2 service (defaults: the national rule, 5 days a
    week, at least 2 hours a day, ending no earlier than local off-work time)."""

    min_days = models.PositiveSmallIntegerField(_("每周至少天数"), default=5)
    min_minutes_per_day = models.PositiveSmallIntegerField(_("每天至少分钟"), default=120)
    off_work_time = models.TimeField(
        _("当地下班时间（结束不早于）"),
        default=dt.time.fromisoformat(settings.AFTERSCHOOL_OFF_WORK_TIME),
    )
    teacher_subsidy_floor = models.DecimalField(
        _("教师课时补助下限（元/课时）"), max_digits=8, decimal_places=2, default=Decimal("50")
    )
    attendance_threshold = models.PositiveSmallIntegerField(
        _("出勤率下限（%）"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("课后服务规定")
        verbose_name_plural = _("课后服务规定")

    def __str__(self):
        return str(_("课后服务规定"))


class Weekday(models.IntegerChoices):
    """Monday is 0, as in Python's date.weekday()."""

    MONDAY = 0, _("周一")
    TUESDAY = 1, _("周二")
    WEDNESDAY = 2, _("周三")
    THURSDAY = 3, _("周四")
    FRIDAY = 4, _("周五")
    SATURDAY = 5, _("周六")
    SUNDAY = 6, _("周日")


class SchoolPlan(models.Model):
    """一校一案: a school's after-school plan for one term."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已批准")
        IN_EFFECT = "in_effect", _("实施中")
        CLOSED = "closed", _("已结束")

    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED},
        Status.SUBMITTED: {Status.APPROVED, Status.RETURNED},
        Status.RETURNED: {Status.SUBMITTED},
        Status.APPROVED: {Status.IN_EFFECT, Status.RETURNED},
        Status.IN_EFFECT: {Status.CLOSED},
        Status.CLOSED: set(),
    }

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="afterschool_plans"
    )
    term = models.ForeignKey(
        SchoolPeriod,
        verbose_name=_("学期"),
        on_delete=models.PROTECT,
        related_name="+",
    )  # a term, or a vacation (holiday care, afterschool.holiday)
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        verbose_name=_("服务日"),
        help_text=_("0=周一，1=周二……6=周日，以逗号分隔"),
    )
    start_time = models.TimeField(_("每日开始"))
    end_time = models.TimeField(_("每日结束"))
    items = models.TextField(_("服务内容"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    return_reason = models.TextField(_("退回原因"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("课后服务方案")
        verbose_name_plural = _("课后服务方案")
        ordering = ["-term__start", "school"]
        constraints = [
            models.UniqueConstraint(fields=["school", "term"], name="as_one_plan_per_term")
        ]

    def __str__(self):
        return f"{self.school} {self.term.name}"

    @property
    def minutes_per_day(self) -> int:
        start = dt.datetime.combine(dt.date.min, self.start_time)
        return int((dt.datetime.combine(dt.date.min, self.end_time) - start).total_seconds() // 60)


class PlanItem(models.Model):
    """One item of a plan (托管, 作业辅导, a club) with the teachers it plans for it."""

    plan = models.ForeignKey(
        SchoolPlan,
        verbose_name=_("课后服务方案"),
        on_delete=models.CASCADE,
        related_name="plan_items",
    )

    class Activity(models.TextChoices):
        # holiday care offers the first four only: the policy forbids 集体补课 (holiday)
        CARE = "care", _("看护")
        SELF_STUDY = "self_study", _("自主学习")
        SPORTS_ARTS = "sports_arts", _("文体活动")
        READING = "reading", _("阅读")
        SUBJECT = "subject", _("学科辅导")
        OTHER = "other", _("其他")

    name = models.CharField(_("服务项目"), max_length=100)
    teachers = models.PositiveSmallIntegerField(_("计划教师人数"), default=1)
    activity = models.CharField(
        _("活动类型"), max_length=12, choices=Activity.choices, default=Activity.OTHER
    )

    SCOPE = {"school": "plan__school", "parent": None}

    class Meta:
        verbose_name = _("方案服务项目")
        verbose_name_plural = _("方案服务项目")
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="as_plan_item_once")]

    def __str__(self):
        return self.name


class Room(models.Model):
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="rooms"
    )
    name = models.CharField(_("教室/场地"), max_length=50)
    capacity = models.PositiveSmallIntegerField(_("容纳人数"), validators=[MinValueValidator(1)])

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("教室与场地")
        verbose_name_plural = _("教室与场地")
        ordering = ["school", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="as_room_once")]

    def __str__(self):
        return f"{self.name}（{self.capacity}人）"


class ClosedDay(models.Model):
    """A day the school suspends its after-school service (besides the calendar's holidays)."""

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="closed_days"
    )
    date = models.DateField(_("日期"))
    reason = models.CharField(_("原因"), max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None}

    class Meta:
        verbose_name = _("学校停课日")
        verbose_name_plural = _("学校停课日")
        ordering = ["school", "date"]
        constraints = [models.UniqueConstraint(fields=["school", "date"], name="as_closed_once")]

    def __str__(self):
        return f"{self.school} {self.date}"


class Provider(models.Model):
    """A third party on the bureau's provider whitelist (准入, 年审, 退出)."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("已申请")
        ADMITTED = "admitted", _("已准入")
        REJECTED = "rejected", _("未通过")
        EXITED = "exited", _("已退出")

    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    institution = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("对应培训机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="afterschool_providers",
    )
    licence_checked = models.BooleanField(_("资质已核验"), default=False)
    staff_vetted = models.BooleanField(_("人员已审查（无犯罪记录等）"), default=False)
    vetting_note = models.TextField(_("审查记录"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    exit_reason = models.TextField(_("退出原因"), blank=True)
    admitted_on = models.DateField(_("准入日期"), null=True, blank=True)
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("课后服务第三方机构")
        verbose_name_plural = _("课后服务第三方机构")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProviderContract(models.Model):
    provider = models.ForeignKey(
        Provider, verbose_name=_("第三方机构"), on_delete=models.CASCADE, related_name="contracts"
    )
    items = models.CharField(_("服务项目"), max_length=300)
    price_per_lesson = models.DecimalField(_("课时单价（元）"), max_digits=8, decimal_places=2)
    outside_price = models.DecimalField(_("校外同类课时价（元）"), max_digits=8, decimal_places=2)
    start = models.DateField(_("开始"))
    end = models.DateField(_("结束"))

    class Meta:
        verbose_name = _("服务合同")
        verbose_name_plural = _("服务合同")
        constraints = [
            # 点餐制: a provider's price must be clearly below its price outside school
            models.CheckConstraint(
                condition=Q(price_per_lesson__lt=models.F("outside_price")),
                name="as_contract_below_outside_price",
            ),
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="as_contract_order"
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.items}"


class ProviderReview(models.Model):
    provider = models.ForeignKey(
        Provider, verbose_name=_("第三方机构"), on_delete=models.CASCADE, related_name="reviews"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    passed = models.BooleanField(_("合格"))
    date = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("第三方机构年审")
        verbose_name_plural = _("第三方机构年审")
        constraints = [
            models.UniqueConstraint(fields=["provider", "year"], name="as_review_per_year")
        ]

    def __str__(self):
        return f"{self.provider} {self.year}"


class Offering(models.Model):
    """A course on a school's menu (课程超市) for a term."""

    class Kind(models.TextChoices):
        CARE = "care", _("基本托管")
        HOMEWORK = "homework", _("作业辅导")
        ENRICHMENT = "enrichment", _("拓展课程")
        HOLIDAY = "holiday", _("假期托管")  # one week block at a host site
        LUNCH = "lunch", _("午托")  # one month of a school's lunch-break care
        COMMUNITY = "community", _("社区课堂")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("开放报名")
        CLOSED = "closed", _("已停止")  # a provider's exit (afterschool.providers)
        CANCELLED = "cancelled", _("已取消")
        FINISHED = "finished", _("已结课")

    # a course's life: draft -> published -> (cancelled | finished) (afterschool.course_life)

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="offerings"
    )
    plan = models.ForeignKey(
        SchoolPlan,
        verbose_name=_("课后服务方案"),
        on_delete=models.PROTECT,
        related_name="offerings",
    )
    name = models.CharField(_("课程名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    contract = models.ForeignKey(
        ProviderContract,
        verbose_name=_("第三方合同"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
    )
    teacher = models.ForeignKey(
        SchoolStaff,
        verbose_name=_("授课教师"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # the people who teach besides ``teacher``: afterschool.OfferingPerson, from the register
    grades = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(9)]),
        verbose_name=_("面向年级"),
    )
    capacity = models.PositiveSmallIntegerField(_("名额"), validators=[MinValueValidator(1)])
    weekday = models.PositiveSmallIntegerField(
        _("星期"), choices=Weekday.choices, validators=[MaxValueValidator(6)]
    )
    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))
    fee_per_lesson = models.DecimalField(
        _("每课时收费（元）"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    room = models.ForeignKey(
        Room,
        verbose_name=_("教室/场地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
    )
    plan_item = models.ForeignKey(
        PlanItem,
        verbose_name=_("方案服务项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
    )
    # a course may start later in the term than the term itself (a second-half club)
    starts_on = models.DateField(_("开课日期（空：学期开始）"), null=True, blank=True)
    # and end before it (a holiday week block, a month of lunch care)
    ends_on = models.DateField(_("结课日期（空：学期结束）"), null=True, blank=True)
    # where it happens when not at ``school`` (a community site, a holiday host site); the
    # school is then the one whose plan and collection account it uses
    site = models.ForeignKey(
        "afterschool.CareSite", verbose_name=_("托管点"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="offerings",
    )  # fmt: skip
    # whose pupils may enrol: none listed means the school's own pupils only
    served_schools = models.ManyToManyField(
        School, verbose_name=_("服务学校"), blank=True, related_name="served_offerings"
    )
    signup_opens = models.DateField(_("报名开始"), null=True, blank=True)
    signup_closes = models.DateField(_("报名截止"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("取消或结课时间"), null=True, blank=True)

    SCOPE = {
        "school": "school",
        # the school's own parents, those of the schools it serves (a holiday host site),
        # and at a community site those of every school of the site's district (only a
        # community site has a partner school: CareSite's CHECK; a school host site's
        # courses reach no other school's parents through it, as enrolment.may_serve says)
        "parent": (
            "school__children__parents__user",
            "served_schools__children__parents__user",
            "site__partner_school__district__schools__children__parents__user",
        ),
        "site": "site",
    }

    class Meta:
        verbose_name = _("课后服务课程")
        verbose_name_plural = _("课后服务课程")
        ordering = ["school", "weekday", "start", "name"]

    def __str__(self):
        return f"{self.name}（周{WEEKDAY_NAMES[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}）"


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("已报名")
        WAITING = "waiting", _("候补中")
        WITHDRAWN = "withdrawn", _("已退课")
        COMPLETED = "completed", _("已结课")  # the course finished, or its term closed

    offering = models.ForeignKey(
        Offering,
        verbose_name=_("课后服务课程"),
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    child = models.ForeignKey(
        Child, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="enrolments"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    changed_at = models.DateTimeField(_("变更时间"), auto_now=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    SCOPE = {"school": "offering__school", "parent": "child__parents__user"}

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ["offering", "created_at", "id"]
        constraints = [
            # a child holds at most one live place (or waiting place) in a course
            models.UniqueConstraint(
                fields=["offering", "child"],
                condition=~Q(status="withdrawn"),
                name="as_one_live_enrolment",
            )
        ]

    def __str__(self):
        return f"{self.child} → {self.offering} ({self.get_status_display()})"


from afterschool.fee_models import (  # noqa: E402,F401  (one app, models split in modules)
    Bill,
    FeeEntry,
    FeeRule,
    FeeTransaction,
    Payment,
    PaymentEvent,
    Settlement,
    Waiver,
)
from afterschool.funding_models import *  # noqa: E402,F401,F403
from afterschool.holiday_models import *  # noqa: E402,F401,F403
from afterschool.lesson_models import (  # noqa: E402,F401
    Attendance,
    AttendanceChange,
    CorrectionRequest,
    LeaveRequest,
    Lesson,
    LessonMove,
    Rating,
    TermSurvey,
)
from afterschool.lunch_models import *  # noqa: E402,F401,F403
from afterschool.people_models import *  # noqa: E402,F401,F403
from afterschool.site_models import *  # noqa: E402,F401,F403
