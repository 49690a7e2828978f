"""Where care happens besides a pupil's own school: care sites (托管点) and their operators.

A ``CareSite`` is a school that hosts care for the pupils of other schools (a holiday host
school) or a community site outside schools (社区小学堂: 社区/街道). A community site runs its
courses on the after-school engine like a school; its money and its plan go through its
承办学校 (``partner_school``): the school's collection account and plan, as the published
cases run them (学校+社区 co-run classrooms). A ``SiteOperator`` makes a user a community
site's operator, a kind of user of its own (portal.access.SITE), scoped to the site.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["CareSite", "SiteOperator", "SiteSafetyCheck"]


class CareSite(models.Model):
    class Kind(models.TextChoices):
        SCHOOL = "school", _("学校")
        COMMUNITY = "community", _("社区")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    district = models.ForeignKey(
        "portal.District", verbose_name=_("所属区"), on_delete=models.PROTECT,
        related_name="care_sites",
    )  # fmt: skip
    # a school site: the school itself
    school = models.OneToOneField(
        "portal.School", verbose_name=_("学校"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="care_site",
    )  # fmt: skip
    # a community site: the school whose plan and collection account its courses use
    partner_school = models.ForeignKey(
        "portal.School", verbose_name=_("承办学校"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="partner_sites",
    )  # fmt: skip
    street = models.CharField(_("街道"), max_length=50, blank=True)
    community = models.CharField(_("社区"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(_("容纳人数"), validators=[MinValueValidator(1)])
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    safety_checked_on = models.DateField(_("最近安全检查日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None, "site": ""}

    class Meta:
        verbose_name = _("托管点")
        verbose_name_plural = _("托管点")
        ordering = ["district", "kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="school", school__isnull=False, partner_school__isnull=True)
                | Q(kind="community", school__isnull=True, partner_school__isnull=False),
                name="as_site_school_or_community",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def money_school_id(self) -> int:
        """The school whose plan and collection account the site's courses use."""
        return self.school_id or self.partner_school_id


class SiteOperator(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE,
        related_name="site_operator",
    )  # fmt: skip
    site = models.ForeignKey(
        CareSite, verbose_name=_("托管点"), on_delete=models.PROTECT, related_name="operators"
    )
    name = models.CharField(_("姓名"), max_length=50)
    active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "site": "site"}

    class Meta:
        verbose_name = _("托管点管理员")
        verbose_name_plural = _("托管点管理员")
        ordering = ["site", "name"]

    def __str__(self):
        return self.name


class SiteSafetyCheck(models.Model):
    """One safety check of a community site (安全检查), kept as history: a new check adds a
    row, never edits one. The site's ``safety_checked_on`` is the latest row's date (the
    gate in afterschool.sites.open_problem reads it without a join)."""

    site = models.ForeignKey(
        CareSite, verbose_name=_("托管点"), on_delete=models.PROTECT,
        related_name="safety_checks",
    )  # fmt: skip
    checked_on = models.DateField(_("检查日期"))
    checked_by = models.CharField(_("检查人"), max_length=50)
    note = models.CharField(_("检查情况"), max_length=500, blank=True)
    # an optional evidence file (portal.evidence: checked by content, random private path)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    file_kind = models.CharField(_("文件类型"), max_length=3, blank=True)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), null=True, blank=True)
    file_sha256 = models.CharField(_("SHA-256 校验值"), max_length=64, blank=True)
    file_path = models.CharField(_("存储路径"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "site": "site"}

    class Meta:
        verbose_name = _("托管点安全检查")
        verbose_name_plural = _("托管点安全检查")
        ordering = ["site", "-checked_on", "-id"]

    def __str__(self):
        return f"{self.site} {self.checked_on}"
