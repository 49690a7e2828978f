"""A bare gunicorn start (no system checks) refuses the sandbox in production too."""

import os
import subprocess
import sys

from django.conf import settings


def _import_wsgi(**extra):
    env = {
        **os.environ,
        "PORTAL_PRODUCTION": "true",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "portal.example.edu.cn",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_with_the_sandbox_does_not_start():
    result = _import_wsgi(PORTAL_PAYMENT_PROVIDERS="sandbox,transfer")
    assert result.returncode != 0
    assert "portal.E103" in result.stderr


def test_production_with_the_bank_transfer_starts():
    result = _import_wsgi(PORTAL_PAYMENT_PROVIDERS="transfer")
    assert result.returncode == 0, result.stderr
