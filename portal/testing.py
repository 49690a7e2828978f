"""pytest plugin (loaded with -p portal.testing): the services of the test run.

It runs before pytest-django reads the settings, so an unset DATABASE_URL / REDIS_URL means
embedded servers, started here and stopped when the run ends.

Serial run (``-n 0``, or no pytest-xdist): as ``make run``, the embedded PostgreSQL and
Redis of var/ (portal/embedded.py).

Parallel run (pytest-xdist; ``make test`` runs ``-n 2``):

- PostgreSQL: one server for the whole run. The controller (the process that starts the
  workers and runs no test itself) starts the embedded one when DATABASE_URL is unset,
  before any worker exists: the workers inherit its URL, so two of them never race to start
  it. pytest-django gives each worker a test database of its own (``test_<name>_gw0``,
  ``_gw1``, ...), and the Celery workers that some tests start are pointed at that
  database (tests/workers.py).
- Redis: each worker has databases of its own, so one worker's queues, unacknowledged
  messages (Celery restores those of a whole database) and cached pages are never another's.
  REDIS_URL given (``redis://host:port/n``; the cache then takes n + 1): worker k takes
  database n + 2k and its cache n + 2k + 1, all within Redis's 0..15 (REDIS_URL .../12 leaves
  room for two workers: 12/13 and 14/15). PORTAL_CACHE_REDIS_URL given too: on another
  server, worker k takes n + k there and m + k for the cache; on the same one, n + 2k and
  m + 2k. REDIS_URL unset: each worker starts an embedded Redis pair of its own, in
  var/test-gw<k>/, never the one a running ``make run`` uses.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

_services = None

# Redis's default `databases 16`
REDIS_DATABASES = 16


def _distributed(early_config) -> bool:
    """Will pytest-xdist start workers? (Read before xdist resolves its options.)"""
    ns = early_config.known_args_namespace
    number = getattr(ns, "numprocesses", None)
    if not number:
        return False
    if number in ("auto", "logical") and getattr(ns, "usepdb", False):
        return False  # xdist turns itself off for --pdb
    return True


def _with_database(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, ""))


def _tcp_database(name: str, url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise pytest.UsageError(
            f"{name} {url!r}: a parallel run (-n) gives each worker its own Redis databases, "
            "which needs a redis:// URL; leave it unset (embedded servers) or run with -n 0"
        )
    path = parts.path.strip("/") or "0"
    if not path.isdigit():
        raise pytest.UsageError(f"{name} {url!r}: the database must be a number")
    return f"{parts.hostname}:{parts.port or 6379}", int(path)


def worker_redis_env(environ, worker: int, count: int) -> dict[str, str]:
    """REDIS_URL (and PORTAL_CACHE_REDIS_URL) for xdist worker ``worker`` of ``count``, from
    the ones given for the run; a UsageError when the databases do not fit or would meet."""
    broker_url = environ["REDIS_URL"]
    server, base = _tcp_database("REDIS_URL", broker_url)
    cache_url = environ.get("PORTAL_CACHE_REDIS_URL") or None
    if cache_url:
        cache_server, cache_base = _tcp_database("PORTAL_CACHE_REDIS_URL", cache_url)
        stride = 2 if cache_server == server else 1
    else:
        cache_server, cache_base, stride = server, base + 1, 2

    def plan(k):
        return (server, base + stride * k), (cache_server, cache_base + stride * k)

    taken = [db for k in range(count) for db in plan(k)]
    if max(number for _, number in taken) >= REDIS_DATABASES or len(set(taken)) != len(taken):
        raise pytest.UsageError(
            f"{count} test workers need {len(taken)} Redis databases of their own from "
            f"REDIS_URL {broker_url!r} (worker k: database n + {stride}k, its cache the "
            f"next): they do not fit in 0..{REDIS_DATABASES - 1}. Start from a lower "
            "database, use fewer workers (-n), or leave REDIS_URL unset"
        )
    (_, broker_db), (_, cache_db) = plan(worker)
    env = {"REDIS_URL": _with_database(broker_url, broker_db)}
    if cache_url:
        env["PORTAL_CACHE_REDIS_URL"] = _with_database(cache_url, cache_db)
    return env


def _xdist_worker() -> tuple[str, int, int] | None:
    name = os.environ.get("PYTEST_XDIST_WORKER")
    if not name:
        return None
    return name, int(name.removeprefix("gw")), int(os.environ["PYTEST_XDIST_WORKER_COUNT"])


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _services
    # whole-page caching would carry pages from one test's data into the next; the tests of
    # the cache turn it on themselves
    os.environ.setdefault("PORTAL_PUBLIC_CACHE_SECONDS", "0")
    from portal.embedded import EmbeddedRedis, Services, var_dir

    worker = _xdist_worker()
    if worker is None:
        _services = Services()
        if _distributed(early_config):
            # the controller: the database the workers share; each starts its own Redis
            if not os.environ.get("DATABASE_URL"):
                os.environ["DATABASE_URL"] = _services.postgres.start()
            return
        os.environ.update(_services.start())
        return

    name, index, count = worker
    if os.environ.get("REDIS_URL"):
        os.environ.update(worker_redis_env(os.environ, index, count))
        return
    _services = Services()  # stopped at the end like the controller's: only what it started
    base = var_dir() / f"test-{name}"
    _services.redis = EmbeddedRedis(base / "redis")
    _services.cache_redis = EmbeddedRedis(base / "redis-cache", cache=True)
    os.environ.update(_services.start())


def pytest_unconfigure(config):
    if _services is not None:
        _services.stop()
