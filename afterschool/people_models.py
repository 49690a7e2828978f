"""Volunteers and resource people (志愿者与社会资源人员, issue 17 part 4): the register of
people who teach without being a school's staff, and the courses and lessons that name them.

A ``Person`` belongs to whoever registered them: a school (its managers), a community site
(its operator) or, with neither, the district's pool kept by the bureau (people of a
provider, a venue or a community that teach in several schools). Their three vetting dates
(无犯罪记录证明, 健康证明, 安全培训) each stay valid for a setting's months
(afterschool/people.py); a lapsed one keeps them off courses.

``OfferingPerson`` names a course's people; ``LessonPerson`` names one lesson's people where
they differ from the course's (a substitute): a lesson with rows of its own is taught by
those, any other lesson by its course's people.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["LessonPerson", "OfferingPerson", "Person"]


class Person(models.Model):
    class Kind(models.TextChoices):
        RETIRED_TEACHER = "retired_teacher", _("退休教师")
        ARTIST = "artist", _("艺术家")
        COACH = "coach", _("教练")
        STUDENT = "student", _("大学生")
        PARENT = "parent", _("家长")
        OTHER = "other", _("其他")

    name = models.CharField(_("姓名"), max_length=50)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    district = models.ForeignKey(
        "portal.District", verbose_name=_("所属区"), on_delete=models.PROTECT,
        related_name="care_people",
    )  # fmt: skip
    # whose register: a school's, a community site's, or (neither) the bureau's district pool
    school = models.ForeignKey(
        "portal.School", verbose_name=_("登记学校"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="care_people",
    )  # fmt: skip
    site = models.ForeignKey(
        "afterschool.CareSite", verbose_name=_("登记托管点"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="people",
    )  # fmt: skip
    # the organisation they come from: a provider of the whitelist, or a venue/community name
    provider = models.ForeignKey(
        "afterschool.Provider", verbose_name=_("所属第三方机构"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="people",
    )  # fmt: skip
    venue = models.CharField(_("所属单位/场馆"), max_length=100, blank=True)
    no_criminal_record_on = models.DateField(_("无犯罪记录证明开具日期"), null=True, blank=True)
    health_cert_on = models.DateField(_("健康证明日期"), null=True, blank=True)
    trained_on = models.DateField(_("安全培训日期"), null=True, blank=True)
    active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    # none: moved by the migration from a course's old free text (0012_people)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    SCOPE = {"school": "school", "parent": None, "site": "site"}

    class Meta:
        verbose_name = _("志愿者/社会资源人员")
        verbose_name_plural = _("志愿者/社会资源人员")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(school__isnull=True) | models.Q(site__isnull=True),
                name="as_person_one_register",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def organisation(self) -> str:
        if self.provider_id:
            return self.provider.name
        if self.venue:
            return self.venue
        if self.site_id:
            return self.site.name
        if self.school_id:
            return self.school.name
        return ""

    @property
    def masked_phone(self) -> str:
        from portal.models import mask_phone

        return mask_phone(self.phone) if self.phone else ""


class OfferingPerson(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("主讲")
        ASSISTANT = "assistant", _("助教")

    offering = models.ForeignKey(
        "afterschool.Offering", verbose_name=_("课后服务课程"), on_delete=models.CASCADE,
        related_name="people",
    )  # fmt: skip
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="offerings"
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.LEAD)
    created_at = models.DateTimeField(_("安排时间"), auto_now_add=True)

    SCOPE = {"school": "offering__school", "parent": None, "site": "offering__site"}

    class Meta:
        verbose_name = _("课程授课人员")
        verbose_name_plural = _("课程授课人员")
        ordering = ["offering", "role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "person"], name="as_offering_person_once")
        ]

    def __str__(self):
        return f"{self.offering.name} · {self.person.name}"


class LessonPerson(models.Model):
    lesson = models.ForeignKey(
        "afterschool.Lesson", verbose_name=_("课次"), on_delete=models.CASCADE,
        related_name="people",
    )  # fmt: skip
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="lessons"
    )
    created_at = models.DateTimeField(_("安排时间"), auto_now_add=True)

    SCOPE = {"school": "lesson__offering__school", "parent": None, "site": "lesson__offering__site"}

    class Meta:
        verbose_name = _("课次授课人员")
        verbose_name_plural = _("课次授课人员")
        ordering = ["lesson", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "person"], name="as_lesson_person_once")
        ]

    def __str__(self):
        return f"{self.lesson} · {self.person.name}"
