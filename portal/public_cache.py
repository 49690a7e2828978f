"""Whole-response caching of public pages (the whitelist search, an institution's page, the
API), for a district that looks them up all at once.

Only anonymous GETs are cached, in Redis, under a key made of the path, the sorted query,
the language, today's date (colours change with the date: a licence expires at midnight)
and a version number per namespace. Any change to the data behind a namespace bumps its
version after commit (see the signal handlers in each app's apps.py), so a cached page is
never older than the last committed change. PORTAL_PUBLIC_CACHE_SECONDS=0 turns it off
(the test suite does, except in the tests of the cache itself).
"""

import hashlib
import pickle
from functools import lru_cache, wraps

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone, translation


@lru_cache(maxsize=1)
def _redis():
    # One client per process, not Django's cache: its Redis backend builds a client object
    # on every call, which cost more than the rest of a cache hit (profiled with
    # bench/whitelist_load.py --profile).
    import redis

    return redis.Redis.from_url(settings.REDIS_CLIENT_URL)


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
    transaction.on_commit(lambda: _redis().incr(_version_key(namespace)))


def cached_public(namespace: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            seconds = settings.PORTAL_PUBLIC_CACHE_SECONDS
            if not seconds or request.method != "GET" or request.user.is_authenticated:
                return view(request, *args, **kwargs)
            query = "&".join(sorted(request.META.get("QUERY_STRING", "").split("&")))
            raw = (f"{request.path}?{query}|{translation.get_language()}|"
                   f"{timezone.localdate().isoformat()}")  # fmt: skip
            digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
            # one round trip to Redis: the namespace's version and the page, which carries
            # the version it was made under; a page of an older version is a miss
            vkey, key = _version_key(namespace), _key(f"{namespace}:page:{digest}")
            raw_version, raw_page = _redis().mget([vkey, key])
            current = int(raw_version) if raw_version is not None else version(namespace)
            if raw_page is not None:
                page_version, content, content_type = pickle.loads(raw_page)  # noqa: S301
                if page_version == current:
                    return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()  # DRF and template responses
            if response.status_code == 200 and not response.cookies and not response.streaming:
                # our own bytes, written by this code only: pickle is safe here
                value = (current, response.content, response["Content-Type"])
                _redis().set(key, pickle.dumps(value), ex=seconds)
            return response

        return wrapped

    return decorator
