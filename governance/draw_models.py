"""阳光分班: a school's new intake placed in classes by a public, verifiable random draw
(governance/draw.py holds the rules and the algorithm)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import GRADE_NAMES, School

__all__ = ["Draw", "DrawPupil"]


class Draw(models.Model):
    """One draw of one intake: the school enters the list (draft), the bureau publishes the
    commitment (the seed's and the input's SHA-256), the school runs it at or after the
    scheduled time (the seed is revealed with the result). A draw that was published is never
    run again: the bureau's re-draw, with its reason, supersedes it by a new draw."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("录入名单")
        PUBLISHED = "published", _("已公布承诺，待抽签")
        DRAWN = "drawn", _("已抽签")
        SUPERSEDED = "superseded", _("已作废（重新分班）")

    # the grades of a new intake (小学一年级、初中七年级)
    INTAKE_GRADES = (1, 7)

    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="draws"
    )
    grade = models.PositiveSmallIntegerField(_("年级"))
    year = models.PositiveSmallIntegerField(_("入学年份"))
    class_count = models.PositiveSmallIntegerField(_("班级数"))
    scheduled_at = models.DateTimeField(_("抽签时间"))
    # the school's band column (分层) counts only where the bureau allows it (grade 7)
    bands_allowed = models.BooleanField(_("允许按分层均衡"), default=False)
    use_bands = models.BooleanField(_("按分层均衡"), default=False)  # frozen at publishing
    teachers = models.JSONField(_("参与抽签的班主任"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # the canonical input (JSON text, hashed as is) and the commitments, fixed at publishing
    document = models.TextField(_("公开名单与参数（规范 JSON）"), blank=True)
    input_sha256 = models.CharField(_("名单与参数承诺值（SHA-256）"), max_length=64, blank=True)
    seed_sha256 = models.CharField(_("随机种子承诺值（SHA-256）"), max_length=64, blank=True)
    # secret until the draw: shown nowhere before status "drawn"
    seed = models.CharField(_("随机种子"), max_length=64, blank=True)
    result = models.JSONField(_("分班结果"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("取代的分班"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    redraw_reason = models.TextField(_("重新分班理由"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("公布人"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )  # fmt: skip
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽签人"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )  # fmt: skip
    drawn_at = models.DateTimeField(_("抽签完成时间"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("阳光分班")
        verbose_name_plural = _("阳光分班")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=(1, 7)), name="draw_intake_grade"),
            models.CheckConstraint(condition=Q(class_count__gte=2), name="draw_two_classes"),
            # a draw run has its seed, its input and its result: none can be missing
            models.CheckConstraint(
                condition=Q(status="draft")
                | (~Q(document="") & ~Q(seed="") & ~Q(input_sha256="") & ~Q(seed_sha256="")),
                name="draw_published_has_commitment",
            ),
            # one live draw per intake: a second one only by the bureau's re-draw, which
            # supersedes the first
            models.UniqueConstraint(
                fields=["school", "grade", "year"],
                condition=~Q(status="superseded"),
                name="draw_one_live_per_intake",
            ),
        ]

    def __str__(self):
        return f"{self.school.name} {self.year}级{GRADE_NAMES.get(self.grade, self.grade)}年级分班"

    @property
    def seed_revealed(self) -> bool:
        """The seed is public once the draw was run (also when later superseded)."""
        return self.drawn_at is not None

    @property
    def is_public(self) -> bool:
        return self.status != self.Status.DRAFT


class DrawPupil(models.Model):
    """One pupil of a draw's list: a name and a gender, a band where the bureau allows
    (grade 7). No ID number, no birth date. ``number`` is the pupil's 序号 in the published
    list (fixed at publishing), ``class_number`` the class drawn."""

    class Gender(models.TextChoices):
        FEMALE = "F", _("女")
        MALE = "M", _("男")

    draw = models.ForeignKey(
        Draw, verbose_name=_("阳光分班"), on_delete=models.CASCADE, related_name="pupils"
    )
    row = models.PositiveIntegerField(_("录入行号"))
    name = models.CharField(_("姓名"), max_length=30)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    band = models.CharField(_("分层"), max_length=10, blank=True)
    number = models.PositiveIntegerField(_("序号"), null=True, blank=True)
    class_number = models.PositiveSmallIntegerField(_("分入班级"), null=True, blank=True)

    SCOPE = {"school": "draw__school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("分班学生")
        verbose_name_plural = _("分班学生")
        ordering = ["draw", "number", "row"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "name", "gender"], name="drawpupil_unique"),
            models.UniqueConstraint(fields=["draw", "number"], name="drawpupil_number_unique"),
        ]

    def __str__(self):
        return self.name
