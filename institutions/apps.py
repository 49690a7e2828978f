from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("校外培训机构")

    def ready(self):
        post_migrate.connect(_default_price_tiers, sender=self)


def _default_price_tiers(sender, using="default", **kwargs):
    """The price guidance of settings.INSTITUTION_PRICE_TIERS, when the bureau has none yet
    (afterwards staff edit the tiers in the admin)."""
    from decimal import Decimal

    from django.conf import settings

    from institutions.models import PriceTier

    if PriceTier.objects.using(using).exists():
        return
    PriceTier.objects.using(using).bulk_create(
        [PriceTier(min_size=lo, max_size=hi, cap=Decimal(cap))
         for lo, hi, cap in settings.INSTITUTION_PRICE_TIERS]
    )  # fmt: skip
