"""Outside users of supply: organisations (providers applying to a call, venues and clubs of
the course catalogue) with their members, and the bureau's expert pool.

``OrganisationMember`` makes a user an organisation's member (portal.access.ORGANISATION),
scoped by a model's ``SCOPE["organisation"]`` lookup; ``Expert`` makes a user an expert
(portal.access.EXPERT), who sees only what is assigned to them (``SCOPE["expert"]``, a lookup
reaching the user). An inactive row makes the user nobody.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Expert", "Organisation", "OrganisationMember"]


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PROVIDER = "provider", _("课后服务机构")
        MUSEUM = "museum", _("博物馆")
        SCIENCE = "science", _("科技馆")
        LIBRARY = "library", _("图书馆")
        CLUB = "club", _("俱乐部/协会")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    # set when the organisation is admitted to the after-school provider whitelist
    provider = models.OneToOneField(
        "afterschool.Provider", verbose_name=_("课后服务机构名单"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="organisation",
    )  # fmt: skip
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    # the bureau deactivates an organisation (its members become nobody); added by the
    # calls part (migration 0002_calls)
    active = models.BooleanField(_("有效"), default=True)
    deactivated_reason = models.CharField(_("停用原因"), max_length=200, blank=True)

    SCOPE = {"school": None, "parent": None, "organisation": ""}

    class Meta:
        verbose_name = _("供给方组织")
        verbose_name_plural = _("供给方组织")
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationMember(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("管理员")
        STAFF = "staff", _("工作人员")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE,
        related_name="organisation_member",
    )  # fmt: skip
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="members"
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    name = models.CharField(_("姓名"), max_length=50)
    active = models.BooleanField(_("在职"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "organisation": "organisation"}

    class Meta:
        verbose_name = _("组织工作人员")
        verbose_name_plural = _("组织工作人员")
        ordering = ["organisation", "role", "name"]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"


class Expert(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE,
        related_name="expert",
    )  # fmt: skip
    name = models.CharField(_("姓名"), max_length=50)
    field = models.CharField(_("专业领域"), max_length=100, blank=True)
    active = models.BooleanField(_("在库"), default=True)
    created_at = models.DateTimeField(_("入库时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "expert": "user"}

    class Meta:
        verbose_name = _("评审专家")
        verbose_name_plural = _("评审专家")
        ordering = ["name"]

    def __str__(self):
        return self.name
