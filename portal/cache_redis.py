"""Where the page cache lives: a Redis database apart from Celery's broker (issue 21).

The broker's queues and the cache must not share a database: a flood of cached pages would
otherwise compete with the queues for memory, and an eviction policy for the cache would
evict the broker's keys. PORTAL_CACHE_REDIS_URL names the cache's server and database;
unset, the cache takes the broker's server and the next database (REDIS_URL's db n, the
cache n + 1). docker-compose.yml and the embedded servers (portal/embedded.py) give the
cache a server of its own, with ``maxmemory`` and an eviction policy.

No Django settings here: portal/settings.py imports this module.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from portal.env import redis_urls

# Redis's default `databases 16`: 0 to 15
LAST_DATABASE = 15


def _next_database(number: int, url: str) -> int:
    if number >= LAST_DATABASE:
        raise ImproperlyConfigured(
            f"REDIS_URL {url!r} uses the last Redis database, so the cache cannot take the "
            "next one: set PORTAL_CACHE_REDIS_URL (another database or server)"
        )
    return number + 1


def cache_redis_url(redis_url: str, cache_url: str | None = None) -> str:
    """The redis-py URL of the cache, given REDIS_URL and PORTAL_CACHE_REDIS_URL (or None)."""
    if cache_url:
        return redis_urls(cache_url)[0]
    client_url = redis_urls(redis_url)[0]
    parts = urlsplit(client_url)
    if parts.scheme == "unix":  # the database is the query's db=n (redis-py's spelling)
        query = dict(parse_qsl(parts.query))
        query["db"] = str(_next_database(int(query.get("db") or 0), redis_url))
        return f"unix://{parts.path}?{urlencode(query)}"
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL {redis_url!r}: the database must be a number")
    database = _next_database(int(path or 0), redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def redis_database(url: str) -> tuple[str, int]:
    """(server, database number) of a redis-py or Celery URL, to compare two of them."""
    parts = urlsplit(redis_urls(url)[0])
    if parts.scheme == "unix":
        return f"unix:{parts.path}", int(dict(parse_qsl(parts.query)).get("db") or 0)
    return f"{parts.hostname}:{parts.port or 6379}", int(parts.path.strip("/") or 0)
