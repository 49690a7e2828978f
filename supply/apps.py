from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    """How a district finds and pays for after-school supply (课后服务供给): the public call
    for providers with expert scoring, the matching fair (双向选择会) and the district
    course catalogue (公益课程包). A new app beside afterschool: these are the bureau's
    procurement registers with outside users of their own (organisations, experts); what they
    decide feeds the after-school engine (the provider whitelist, contracts, offerings),
    which stays the one place where courses, enrolment and money live. Funding oversight is
    money, and lives with the fee ledger (afterschool.funding)."""

    name = "supply"
    verbose_name = _("课后服务供给")
