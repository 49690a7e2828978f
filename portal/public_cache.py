"""Whole-response caching of public pages (the whitelist search, an institution's page, the
API), for a district that looks them up all at once.

Only anonymous GETs are cached, in Redis, under a key made of the view and its URL
arguments, the query parameters the page declares it reads, the language, today's date
(colours change with the date: a licence expires at midnight) and a version number per
namespace. Any change to the data behind a namespace bumps its version after commit (see
the signal handlers in each app's apps.py, and the enforcement services, which bump
"institutions" themselves: a sanction or a 通报 changes an institution's page, and the 通报
pages at /enforcement/notices/ are cached in the same namespace), so a cached page is never
older than the last committed change. PORTAL_PUBLIC_CACHE_SECONDS=0 turns it off (the test
suite does, except in the tests of the cache itself).

Bounded on purpose (issue 21): anyone can send any query string, so
  * each cached view declares the query parameters it reads (``params``); every other
    parameter is removed from the request before the view runs, so it is in neither the
    key nor the page, and ``?q=x&junk=1`` and ``?q=x&junk=2`` are one entry;
  * the key is built from the resolved view and its converted arguments, not the raw path
    (``/institutions/007/`` and ``/institutions/7/`` are one entry);
  * a page larger than PORTAL_PUBLIC_CACHE_MAX_BYTES is served but not stored;
  * the cache lives on its own Redis database (PORTAL_CACHE_REDIS_URL, settings), apart
    from Celery's broker, on a server with ``maxmemory`` and ``volatile-lru`` (compose,
    portal/embedded.py): pages carry a TTL and are evicted first; the version counters
    carry none and are never evicted, so an eviction never brings back an older page.
"""

import hashlib
import logging
import pickle
from collections.abc import Iterable
from functools import lru_cache, wraps

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.utils import timezone, translation
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _redis():
    # One client per process, not Django's cache: its Redis backend builds a client object
    # on every call, which cost more than the rest of a cache hit (profiled with
    # bench/whitelist_load.py --profile).
    import redis

    return redis.Redis.from_url(settings.PORTAL_CACHE_REDIS_URL)


def _key(name: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'portal')}:public:{name}"


def _version_key(namespace: str) -> str:
    return _key(f"{namespace}:version")


def version(namespace: str) -> int:
    r = _redis()
    r.set(_version_key(namespace), 1, nx=True)
    return int(r.get(_version_key(namespace)) or 1)


def bump(namespace: str) -> None:
    """Invalidate the namespace's cached pages, once the current transaction commits."""

    def incr():
        try:
            _redis().incr(_version_key(namespace))
        except RedisError:  # the change is committed: a cache outage must not make it a 500
            log.exception("public cache: could not invalidate %s", namespace)

    transaction.on_commit(incr)


def keep_only(request, params: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Drop every query parameter not in params from the request (GET and QUERY_STRING, which
    links such as DRF's next page are built from); the kept ones, in params' order."""
    kept = [(name, request.GET.getlist(name)) for name in params if name in request.GET]
    query = QueryDict(mutable=True)
    for name, values in kept:
        query.setlist(name, values)
    request.GET = query
    request.GET._mutable = False
    request.META["QUERY_STRING"] = query.urlencode()
    return kept


def page_key(request, namespace: str, kept, args, kwargs, negotiated: bool) -> str:
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match is not None else request.path
    # DRF answers a browser (Accept: text/html) with its HTML page, anyone else with JSON
    accept = "html" if negotiated and "text/html" in request.META.get("HTTP_ACCEPT", "") else ""
    raw = repr((view, args, sorted(kwargs.items()), kept, accept,
                translation.get_language(), timezone.localdate().isoformat()))  # fmt: skip
    digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
    return _key(f"{namespace}:page:{digest}")


def cached_public(namespace: str, *, params: Iterable[str], negotiated: bool = False):
    """Cache an anonymous GET view whole. ``params``: the query parameters the view reads
    (all others are dropped before it runs); ``negotiated``: the view answers HTML or JSON
    by the Accept header (a DRF view), which then becomes part of the key."""
    params = tuple(params)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != "GET":
                return view(request, *args, **kwargs)
            # the page is a function of its key alone, cached or not, for anyone
            kept = keep_only(request, params)
            seconds = settings.PORTAL_PUBLIC_CACHE_SECONDS
            if not seconds or request.user.is_authenticated:
                return view(request, *args, **kwargs)
            key = page_key(request, namespace, kept, args, kwargs, negotiated)
            # one round trip to Redis: the namespace's version and the page, which carries
            # the version it was made under; a page of an older version is a miss
            try:
                raw_version, raw_page = _redis().mget([_version_key(namespace), key])
                current = int(raw_version) if raw_version is not None else version(namespace)
            except RedisError:  # the cache's server is down: the page, uncached
                log.warning("public cache unavailable", exc_info=True)
                return view(request, *args, **kwargs)
            if raw_page is not None:
                page_version, content, content_type = pickle.loads(raw_page)  # noqa: S301
                if page_version == current:
                    return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()  # DRF and template responses
            if response.status_code == 200 and not response.cookies and not response.streaming:
                # our own bytes, written by this code only: pickle is safe here
                value = pickle.dumps((current, response.content, response["Content-Type"]))
                if len(value) <= settings.PORTAL_PUBLIC_CACHE_MAX_BYTES:
                    try:
                        _redis().set(key, value, ex=seconds)
                    except RedisError:
                        log.warning("public cache: page not stored", exc_info=True)
            return response

        wrapped.cache_params = params
        return wrapped

    return decorator
