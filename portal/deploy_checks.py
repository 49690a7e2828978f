"""Django system checks that stop a production start with a dangerous setting.

They run on every ``manage.py check``, ``migrate`` (docker-compose's one-shot migrate
service, which web, worker and beat wait for) and ``runserver``: an Error stops them.
Registered without a tag, so a plain ``manage.py check`` runs them, not only ``--deploy``.
"""

from django.conf import settings
from django.core import checks

# What afterschool.payments implements. Kept here as names, not imported: a check must not
# import an app's models before the registry asks it to run.
KNOWN_PAYMENT_PROVIDERS = ("sandbox", "transfer")


@checks.register()
def payment_providers_check(app_configs=None, **kwargs):
    """PORTAL_PAYMENT_PROVIDERS: known names, at least one, never the sandbox in production
    (it books a payment without any money moving)."""
    errors = []
    providers = getattr(settings, "PORTAL_PAYMENT_PROVIDERS", None)
    if not isinstance(providers, list | tuple) or not providers:
        return [
            checks.Error(
                "PORTAL_PAYMENT_PROVIDERS 为空：家长没有可用的缴费方式。",
                hint="生产环境请设置 PORTAL_PAYMENT_PROVIDERS=transfer（银行转账）。",
                id="portal.E101",
            )
        ]
    unknown = [name for name in providers if name not in KNOWN_PAYMENT_PROVIDERS]
    if unknown:
        errors.append(
            checks.Error(
                f"PORTAL_PAYMENT_PROVIDERS 含有未知的支付渠道：{', '.join(map(str, unknown))}。",
                hint=f"可用的支付渠道：{', '.join(KNOWN_PAYMENT_PROVIDERS)}。",
                id="portal.E102",
            )
        )
    if settings.PRODUCTION and "sandbox" in providers:
        errors.append(
            checks.Error(
                "生产环境（PORTAL_PRODUCTION=true）不能启用演示支付网关 sandbox："
                "它不经真实付款即可把账单标记为已缴费。",
                hint="从 PORTAL_PAYMENT_PROVIDERS 中去掉 sandbox（例如 PORTAL_PAYMENT_PROVIDERS"
                "=transfer）。",
                id="portal.E103",
            )
        )
    return errors
