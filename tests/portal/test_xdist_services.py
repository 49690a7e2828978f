"""The services of a parallel test run (portal/testing.py) and `make manage`
(portal/launcher.py manage): each pytest-xdist worker its own Redis databases; a management
command run with the embedded servers it needs, stopping what it started."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from portal.cache_redis import redis_database
from portal.testing import worker_redis_env

ROOT = Path(__file__).resolve().parents[2]


def _plan(environ, count):
    return [worker_redis_env(environ, k, count) for k in range(count)]


def test_two_workers_from_database_12_take_12_13_and_14_15():
    env = {"REDIS_URL": "redis://127.0.0.1:6379/12"}
    assert _plan(env, 2) == [
        {"REDIS_URL": "redis://127.0.0.1:6379/12"},  # its cache: 13 (settings)
        {"REDIS_URL": "redis://127.0.0.1:6379/14"},  # its cache: 15
    ]


def test_a_third_worker_does_not_fit_above_database_12():
    with pytest.raises(pytest.UsageError, match="3 test workers need 6 Redis databases"):
        worker_redis_env({"REDIS_URL": "redis://127.0.0.1:6379/12"}, 0, 3)
    # from database 3 (CI's): six workers, 3 to 14; a seventh would need 15 and 16
    assert len(_plan({"REDIS_URL": "redis://r:6379/3"}, 6)) == 6
    with pytest.raises(pytest.UsageError):
        worker_redis_env({"REDIS_URL": "redis://r:6379/3"}, 0, 7)


def test_a_cache_on_a_server_of_its_own_steps_by_one_on_each():
    env = {"REDIS_URL": "redis://broker:6379/0", "PORTAL_CACHE_REDIS_URL": "redis://cache/0"}
    assert _plan(env, 3)[2] == {
        "REDIS_URL": "redis://broker:6379/2",
        "PORTAL_CACHE_REDIS_URL": "redis://cache/2",
    }


def test_a_cache_on_the_same_server_never_meets_a_workers_broker():
    env = {"REDIS_URL": "redis://r:6379/0", "PORTAL_CACHE_REDIS_URL": "redis://r:6379/2"}
    with pytest.raises(pytest.UsageError, match="do not fit"):
        worker_redis_env(env, 0, 2)  # worker 1's broker would be database 2, worker 0's cache
    env["PORTAL_CACHE_REDIS_URL"] = "redis://r:6379/1"
    assert _plan(env, 2)[1]["PORTAL_CACHE_REDIS_URL"] == "redis://r:6379/3"


def test_a_socket_url_cannot_be_split_between_workers():
    with pytest.raises(pytest.UsageError, match="redis://"):
        worker_redis_env({"REDIS_URL": "redis+socket:///srv/redis.sock"}, 0, 2)


def test_this_process_uses_its_own_databases(db):
    """Whatever the run: the settings read the REDIS_URL this process was given (under xdist,
    its worker's), the broker and the cache apart; under xdist, the worker's own test
    database."""
    assert django_settings.REDIS_URL == os.environ["REDIS_URL"]
    broker = redis_database(django_settings.CELERY_BROKER_URL)
    cache = redis_database(django_settings.PORTAL_CACHE_REDIS_URL)
    assert broker != cache
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        pytest.skip("not a parallel run")
    assert connection.settings_dict["NAME"].endswith(f"_{worker}")


# --- make manage -------------------------------------------------------------------------


def _left_running(var_dir: Path) -> str:
    found = subprocess.run(["pgrep", "-af", str(var_dir)], capture_output=True, text=True)
    return found.stdout.strip()


def _manage(var_dir: Path, *args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for name in ("DATABASE_URL", "REDIS_URL", "PORTAL_CACHE_REDIS_URL"):
        environ.pop(name, None)
    environ.update(PORTAL_VAR_DIR=str(var_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "portal.launcher", "manage", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def var_dir(tmp_path_factory):
    # short: the embedded servers' unix sockets live in it
    path = tmp_path_factory.mktemp("mg")
    yield path
    assert _left_running(path) == "", "a server of the test was left running"


def test_manage_starts_the_embedded_servers_runs_the_command_and_stops_them(var_dir):
    done = _manage(var_dir, "showmigrations", "portal")
    assert done.returncode == 0, done.stdout + done.stderr
    # it read the embedded database: a fresh one, no migration applied
    assert "[ ] 0001_initial" in done.stdout
    assert (var_dir / "pg" / "PG_VERSION").exists() and (var_dir / "redis").is_dir()
    assert _left_running(var_dir) == ""  # both stopped: they were not running before
    # a failing command: its exit code, and still nothing left running
    failed = _manage(var_dir, "no_such_command")
    assert failed.returncode != 0 and "no_such_command" in failed.stderr
    assert _left_running(var_dir) == ""


@pytest.mark.django_db
def test_manage_starts_nothing_when_the_servers_are_given(var_dir):
    from tests.workers import worker_database_url

    done = _manage(
        var_dir,
        "showmigrations",
        "portal",
        DATABASE_URL=worker_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[X] 0001_initial" in done.stdout  # the test database, migrated
    assert not (var_dir / "pg").exists() and not (var_dir / "redis").exists()
