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
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone, translation


def _version_key(namespace: str) -> str:
    return f"public:{namespace}:version"


def version(namespace: str) -> int:
    value = cache.get(_version_key(namespace))
    if value is None:
        cache.add(_version_key(namespace), 1, timeout=None)
        value = cache.get(_version_key(namespace)) or 1
    return value


def bump(namespace: str) -> None:
    """Invalidate the namespace's cached pages, once the current transaction commits."""

    def _bump():
        try:
            cache.incr(_version_key(namespace))
        except ValueError:  # not there yet: any new value differs from cached keys' versions
            cache.set(_version_key(namespace), 2, timeout=None)

    transaction.on_commit(_bump)


def cached_public(namespace: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            seconds = settings.PORTAL_PUBLIC_CACHE_SECONDS
            if not seconds or request.method != "GET" or request.user.is_authenticated:
                return view(request, *args, **kwargs)
            query = "&".join(sorted(request.GET.urlencode().split("&")))
            raw = (f"{request.path}?{query}|{translation.get_language()}|"
                   f"{timezone.localdate().isoformat()}")  # fmt: skip
            digest = hashlib.sha256(raw.encode()).hexdigest()[:32]
            key = f"public:{namespace}:{version(namespace)}:{digest}"
            hit = cache.get(key)
            if hit is not None:
                content, content_type = hit
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()  # DRF and template responses
            if response.status_code == 200 and not response.cookies and not response.streaming:
                cache.set(key, (response.content, response["Content-Type"]), seconds)
            return response

        return wrapped

    return decorator
