import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url, env_bool, env_secret, redis_urls

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw, value", [("true", True), ("False", False), ("1", True), ("", True)])
def test_a_boolean_is_true_or_false(raw, value):
    assert env_bool("X", True, environ={"X": raw}) is value


@pytest.mark.parametrize("raw", ["ture", "yes please", "2"])
def test_anything_else_is_an_error(raw):
    with pytest.raises(ImproperlyConfigured, match="X must be true or false"):
        env_bool("X", False, environ={"X": raw})


def test_a_secret_comes_from_a_file(tmp_path):
    path = tmp_path / "key"
    path.write_text("s3cret\n")
    assert env_secret("KEY", environ={"KEY_FILE": str(path)}) == "s3cret"
    with pytest.raises(ImproperlyConfigured, match="either KEY or KEY_FILE"):
        env_secret("KEY", environ={"KEY": "a", "KEY_FILE": str(path)})
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_secret("KEY", environ={"KEY_FILE": str(tmp_path / "missing")})


def test_only_postgresql_is_accepted():
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL only"):
        database_from_url("sqlite:///db.sqlite3")
    db = database_from_url("postgres://u:p%40ss@db:5433/portal?sslmode=require")
    assert (db["HOST"], db["PORT"], db["NAME"], db["PASSWORD"]) == ("db", "5433", "portal", "p@ss")
    assert db["OPTIONS"] == {"sslmode": "require"}
    socket_db = database_from_url("postgresql://postgres:@/portal?host=/srv/var/pg")
    assert socket_db["HOST"] == "/srv/var/pg" and socket_db["OPTIONS"] == {}


def test_redis_urls_for_sockets_and_tcp():
    assert redis_urls("redis+socket:///v/redis.sock") == (
        "unix:///v/redis.sock",
        "redis+socket:///v/redis.sock",
    )
    assert redis_urls("redis://r:6379/0") == ("redis://r:6379/0", "redis://r:6379/0")
    with pytest.raises(ImproperlyConfigured):
        redis_urls("http://r")


@pytest.mark.production_hashers
def test_the_portal_speaks_chinese_in_shanghai(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _check_deploy(extra_env):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PORTAL_PRODUCTION", "PYTEST"))
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _check_deploy(
        {
            "PORTAL_PRODUCTION": "true",
            "DJANGO_SECRET_KEY": "k" * 10 + "Z9-x_Qp7vLm3Rt8Wy2Bn5Hc4Jd6Fg1Ks0" * 2,
            "DJANGO_ALLOWED_HOSTS": "portal.example.cn",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_settings_do_not_pass_check_deploy():
    # the same check must be able to fail: without production settings it does
    result = _check_deploy({"PORTAL_PRODUCTION": "false"})
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _check_deploy({"PORTAL_PRODUCTION": "true", "DJANGO_ALLOWED_HOSTS": "x.cn"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_the_portal_connection_does_not_jit_compile():
    """DATABASE_JIT (default off): the planner's JIT is off on the portal's connections."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
