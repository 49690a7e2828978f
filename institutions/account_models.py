"""The institution's side of the portal (机构端): its staff accounts.

An ``InstitutionStaff`` row makes a user a training institution's staff, the fourth kind of
user beside bureau staff, school staff and parents (portal.access.INSTITUTION). Such users
see only what a model's ``SCOPE["institution"]`` lookup leads back to their institution;
another institution's object is a 404, as another school's is to a principal. An inactive
row (staff who left) makes the user nobody.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["AccountRequest", "InstitutionStaff"]


class InstitutionStaff(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("管理员")
        DESK = "desk", _("教务/前台")
        FINANCE = "finance", _("财务")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE,
        related_name="institution_staff",
    )  # fmt: skip
    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.PROTECT,
        related_name="staff",
    )  # fmt: skip
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    name = models.CharField(_("姓名"), max_length=50)
    active = models.BooleanField(_("在职"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    SCOPE = {"school": None, "parent": None, "institution": "institution"}

    class Meta:
        verbose_name = _("机构工作人员")
        verbose_name_plural = _("机构工作人员")
        ordering = ["institution", "role", "name"]

    def __str__(self):
        return f"{self.name}（{self.get_role_display()}）"


class AccountRequest(models.Model):
    """An institution's request for its first account (申请机构账号), filed from its public
    page without an account; bureau staff approve it (which creates the 管理员 account) or
    reject it with a reason. One open request per institution (a UNIQUE index): a second
    filing while one waits is refused, so the form cannot flood the queue."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        APPROVED = "approved", _("已开通")
        REJECTED = "rejected", _("未通过")

    institution = models.ForeignKey(
        "institutions.Institution", verbose_name=_("培训机构"), on_delete=models.CASCADE,
        related_name="account_requests",
    )  # fmt: skip
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(_("未通过理由"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    staff = models.ForeignKey(
        InstitutionStaff, verbose_name=_("开通的账号"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    # bureau staff only: the contact's phone is not for the institution's later staff
    SCOPE = {"school": None, "parent": None, "institution": None}

    class Meta:
        verbose_name = _("机构账号申请")
        verbose_name_plural = _("机构账号申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution"], condition=Q(status="open"),
                name="account_request_one_open",
            )
        ]  # fmt: skip

    def __str__(self):
        return f"{self.institution}：{self.contact_name}（{self.get_status_display()}）"

    @property
    def masked_phone(self) -> str:
        from portal.models import mask_phone

        return mask_phone(self.contact_phone)
