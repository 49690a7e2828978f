from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("门户基础")

    def ready(self):
        from portal import checks  # noqa: F401  (registers the portal's own checks)
        from portal.accounts import connect_signals
        from portal.deploy_checks import payment_providers_check  # noqa: F401  (registers it)

        connect_signals()  # password changes are audited

        post_migrate.connect(_after_migrate)


def _after_migrate(sender, using="default", plan=None, **kwargs):
    from django.apps import apps

    # Once per migrate, after the last app that has models (Django signals only those):
    # every app's permissions exist by then.
    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if sender is not with_models[-1]:
        return
    from portal.setup import (
        ensure_calendar_years,
        ensure_check_sweep_schedule,
        ensure_daily_tasks,
        ensure_digest_schedule,
        ensure_nightly_schedule,
        ensure_staff_groups,
    )

    ensure_calendar_years(using=using)
    ensure_staff_groups(using=using, plan=plan)
    ensure_nightly_schedule(using=using)
    ensure_check_sweep_schedule(using=using)
    ensure_digest_schedule(using=using)
    ensure_daily_tasks(using=using)
