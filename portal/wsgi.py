import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# A bare gunicorn start (the Dockerfile's CMD) runs no system checks: refuse to serve with a
# dangerous payment setting (the sandbox in production) all the same.
from portal.deploy_checks import payment_providers_check  # noqa: E402

_errors = payment_providers_check()
if _errors:
    raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in _errors))

# The case search's word dictionaries (jieba's and cases/userdict.txt) load here, once per
# gunicorn worker at boot (or once in the master under --preload), not on a visitor's first
# search (~1-3 s). cases helper, issue 14.
from cases.search import warm_up  # noqa: E402

warm_up()
