from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """School governance registers (学校治理台账): 阳光分班, commitment letters (承诺书), the
    care ledger (一人一档), exams and letters to parents. A new app rather than a part of
    homework or portal: these are the bureau's registers of how schools keep the policy,
    each with its own records, pages and nightly checks, read by the 基础教育 staff; neither
    daily homework nor the shared core (which every app imports) is their home."""

    name = "governance"
    verbose_name = _("学校治理")
