"""Strict readers for settings taken from the environment.

A value that cannot be parsed is an error at start-up, never a silent default: a typo in
``DJANGO_DEBUG=ture`` must not turn debugging on (or off) in production.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_UNSET = object()


def _raw(name: str, environ=None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is None or value == "":
        return None
    return value


def env_bool(name: str, default: bool, environ=None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, environ=None) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_str(name: str, default=_UNSET, environ=None) -> str:
    value = _raw(name, environ)
    if value is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_list(name: str, default: list[str], environ=None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default=_UNSET, environ=None) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    value = _raw(name, environ)
    path = _raw(f"{name}_FILE", environ)
    if value is not None and path is not None:
        raise ImproperlyConfigured(f"set either {name} or {name}_FILE, not both")
    if path is not None:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from None
    if value is not None:
        return value
    if default is _UNSET:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set")
    return default


def database_from_url(url: str) -> dict:
    """Django DATABASES entry from postgres://user:pass@host:port/name?host=/socket/dir.

    Only PostgreSQL is accepted: the portal has one code path.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL (PostgreSQL only), not {parts.scheme!r}"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = unquote(parts.hostname or "") or query.pop("host", "")
    options = {key: value for key, value in query.items() if key != "host"}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "portal",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
    }


def redis_urls(url: str) -> tuple[str, str]:
    """(URL for redis-py/Django's cache, URL for Celery's broker) from one REDIS_URL.

    A unix socket is written redis+socket:///path (Celery's spelling) or unix:///path
    (redis-py's); a TCP server redis://host:port/db.
    """
    parts = urlsplit(url)
    if parts.scheme in {"redis+socket", "unix", "socket"}:
        path = parts.path
        if not path:
            raise ImproperlyConfigured(f"REDIS_URL {url!r} names no socket path")
        query = f"?{parts.query}" if parts.query else ""
        return f"unix://{path}{query}", f"redis+socket://{path}{query}"
    if parts.scheme in {"redis", "rediss"}:
        return url, url
    raise ImproperlyConfigured(
        f"REDIS_URL must be redis://, rediss:// or redis+socket://, not {url!r}"
    )
