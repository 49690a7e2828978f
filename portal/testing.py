"""pytest plugin (loaded with -p portal.testing): the embedded services for the test run.

It runs before pytest-django reads the settings, so an unset DATABASE_URL / REDIS_URL means
the embedded PostgreSQL and Redis, started here and stopped when the run ends.
"""

import os

import pytest

_services = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _services
    # whole-page caching would carry pages from one test's data into the next; the tests of
    # the cache turn it on themselves
    os.environ.setdefault("PORTAL_PUBLIC_CACHE_SECONDS", "0")
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    from portal.embedded import Services

    _services = Services()
    os.environ.update(_services.start())


def pytest_unconfigure(config):
    if _services is not None:
        _services.stop()
