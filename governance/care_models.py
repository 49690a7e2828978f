"""The care ledger (关爱帮扶 一人一档): a record per pupil needing care, and the home visits and
talks logged on it (imported by governance/models.py).

Minimal data: the record points at the portal's Child (name, school, class: nothing more
about the pupil), says which care categories apply (PORTAL_CARE_CATEGORIES) and carries a
short note of the need; never an ID number, address or diagnosis. Who may read a record is
narrower than the school: the pupil's head teacher, the principal and the school's
designated care staff (CareStaff), decided in governance/care_selectors.py; the bureau sees
counts only (care_dashboard.py, the overview page), never a record.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CareContact", "CareRecord", "CareStaff"]


class CareStaff(models.Model):
    """A school's designated care staff (关爱帮扶专干), kept by the principal."""

    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.CASCADE,
        related_name="care_staff",
    )  # fmt: skip
    staff = models.OneToOneField(
        "portal.SchoolStaff", verbose_name=_("教职工"), on_delete=models.CASCADE,
        related_name="care_designation",
    )  # fmt: skip
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("指定人"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    designated_at = models.DateTimeField(_("指定时间"), auto_now_add=True)

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("关爱帮扶专干")
        verbose_name_plural = _("关爱帮扶专干")
        ordering = ["school", "staff__name"]

    def __str__(self):
        return str(self.staff.name)


class CareRecord(models.Model):
    """One pupil's care record (一人一档)."""

    child = models.OneToOneField(
        "portal.Child", verbose_name=_("学生"), on_delete=models.CASCADE,
        related_name="care_record",
    )  # fmt: skip
    # the child's school, kept on the row so that scoping and the counts need no join; set
    # from the child by the service, never from input
    school = models.ForeignKey(
        "portal.School", verbose_name=_("学校"), on_delete=models.PROTECT,
        related_name="care_records",
    )  # fmt: skip
    categories = ArrayField(
        models.CharField(max_length=20), verbose_name=_("关爱类别"),
        help_text=_("可多选，类别由区教育局设定"),
    )  # fmt: skip
    need = models.CharField(_("帮扶需求"), max_length=300, blank=True)
    contact = models.ForeignKey(
        "portal.SchoolStaff", verbose_name=_("联系教师"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="care_contacts_of",
    )  # fmt: skip
    opened_on = models.DateField(_("建档日期"))
    closed_on = models.DateField(_("结档日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("建档人"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip

    SCOPE = {"school": "school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("关爱帮扶档案")
        verbose_name_plural = _("关爱帮扶档案")
        ordering = ["school", "child__school_class", "child__name"]

    def __str__(self):
        return f"关爱档案 {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class CareContact(models.Model):
    """A home visit or talk (家访 / 电话 / 谈心 / 线上) logged on a record."""

    class Form(models.TextChoices):
        VISIT = "visit", _("家访")
        PHONE = "phone", _("电话")
        TALK = "talk", _("谈心")
        ONLINE = "online", _("线上")

    record = models.ForeignKey(
        CareRecord, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="contacts"
    )
    date = models.DateField(_("日期"))
    form = models.CharField(_("形式"), max_length=10, choices=Form.choices)
    by = models.ForeignKey(
        "portal.SchoolStaff", verbose_name=_("走访教师"), on_delete=models.PROTECT,
        related_name="care_contacts",
    )  # fmt: skip
    notes = models.TextField(_("情况记录"), max_length=1000)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    SCOPE = {"school": "record__school", "parent": None, "institution": None}

    class Meta:
        verbose_name = _("家访谈心记录")
        verbose_name_plural = _("家访谈心记录")
        ordering = ["record", "-date", "-pk"]
        indexes = [models.Index(fields=["record", "form", "date"], name="care_contact_count")]

    def __str__(self):
        return f"{self.get_form_display()} {self.date}"
