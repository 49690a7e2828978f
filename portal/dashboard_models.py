"""The dashboard's kept panels (portal.dashboard, ``kept=True``): a panel whose figures add up
a month of a whole district (the homework designs' share, the after-school rates, the
institutions' queues and escrow coverage) is computed once and kept, like the homework
report (homework.ReportSnapshot), instead of at every view: computed on first view of a
district and month, refreshed nightly for the current month (portal.dashboard
.snapshots_refresh). The page shows when its figures were computed."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PanelSnapshot(models.Model):
    key = models.CharField(_("图表"), max_length=80)
    district = models.ForeignKey(
        "portal.District", verbose_name=_("区"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.CharField(_("月份"), max_length=7)
    data = models.JSONField(_("图表数据"))
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        app_label = "portal"
        verbose_name = _("工作台图表快照")
        verbose_name_plural = _("工作台图表快照")
        constraints = [
            models.UniqueConstraint(fields=["district", "month", "key"], name="panel_snapshot_once")
        ]

    def __str__(self):
        return f"{self.key} {self.district_id} {self.month}"
