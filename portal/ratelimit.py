"""Per-address hourly limits of the public forms (举报投诉, 申请机构账号, 注册组织账号).

An address's count lives in the Redis cache under a hash of the address (never the address
itself): ``add`` then ``incr`` are atomic in Redis, so two requests at once cannot both take
the last slot; an attempt refused for its input gives its slot back (``release``). The limit
is a setting read at each call, so a test or an operator changes it without a restart.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

WINDOW = 3600  # seconds: every limit is per hour


@dataclass(frozen=True)
class HourlyLimit:
    prefix: str  # the cache key's prefix, e.g. "complaints:rate"
    setting: str  # the name of the setting holding the limit per hour

    def _key(self, address: str) -> str:
        return f"{self.prefix}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"

    def take(self, address: str) -> bool:
        """Take one of the address's slots for this hour: False when none is left."""
        key = self._key(address)
        cache.add(key, 0, timeout=WINDOW)
        try:
            taken = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            cache.add(key, 1, timeout=WINDOW)
            taken = 1
        return taken <= getattr(settings, self.setting)

    def release(self, address: str) -> None:
        """Give back a slot taken by an attempt that wrote nothing (refused input)."""
        try:
            cache.decr(self._key(address))
        except ValueError:
            pass  # the window ended meanwhile: nothing to give back

    def clear(self, address: str) -> None:
        """Forget the address's count (tests start each address afresh)."""
        cache.delete(self._key(address))
