"""Letters to parents (致家长的一封信): written by bureau or school staff to the parents of a
district, schools, grades or classes; each parent gets it in the inbox (portal.notices) and
the daily digest (issue 18, part 6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import District, School, SchoolClass

__all__ = ["ParentLetter", "ParentLetterDelivery"]


class ParentLetter(models.Model):
    district = models.ForeignKey(
        District, verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    # the audience: the district's parents, narrowed by each list that is not empty
    schools = models.ManyToManyField(School, verbose_name=_("学校"), blank=True, related_name="+")
    grades = models.JSONField(_("年级"), default=list, blank=True)
    classes = models.ManyToManyField(
        SchoolClass, verbose_name=_("班级"), blank=True, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发信人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # set when a school's staff sent it: they see their school's letters only
    sender_school = models.ForeignKey(
        School, verbose_name=_("发信学校"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    SCOPE = {"school": "sender_school", "parent": "deliveries__user", "institution": None}

    class Meta:
        verbose_name = _("致家长的一封信")
        verbose_name_plural = _("致家长的一封信")
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def notice_key(self) -> str:
        return f"governance.letter:{self.pk}"


class ParentLetterDelivery(models.Model):
    """One parent's copy: who got the letter, through which child's school and class (the
    read rates per school and class); read is the inbox notice's read_at."""

    letter = models.ForeignKey(
        ParentLetter, verbose_name=_("信件"), on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("家长账号"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    school = models.ForeignKey(
        School, verbose_name=_("学校"), on_delete=models.PROTECT, related_name="+"
    )
    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), on_delete=models.PROTECT, related_name="+"
    )

    SCOPE = {"school": "school", "parent": "user", "institution": None}

    class Meta:
        verbose_name = _("家长信送达")
        verbose_name_plural = _("家长信送达")
        ordering = ["letter", "school", "school_class"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "user"], name="parent_letter_once")
        ]

    def __str__(self):
        return f"{self.letter} → {self.user}"
