import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def _hit(key: str, *, timeout: int) -> int:
    """One more request in the window `key`; returns the window's count so far."""
    if hasattr(cache, "incr_window"):  # Redis (fusionprime.cache): one round trip
        return cache.incr_window(key, timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


class ApiKeyRateThrottle(BaseThrottle):
    """Per-API-key limit as a fixed-window counter in the shared cache (Redis in production).

    One atomic increment per request (one Redis round trip), whatever the rate: DRF's
    SimpleRateThrottle keeps and re-pickles a list of every request time in the window, which grows
    with the limit.
    """

    scope = "api_key"
    rate: str | None = None

    def __init__(self):
        from rest_framework.settings import api_settings

        rate = self.rate or api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        self.num_requests, self.duration = SimpleRateThrottle.parse_rate(None, rate)
        self.retry_after = 0

    def allow_request(self, request, view):
        ident = request.auth.pk if request.auth is not None else self.get_ident(request)
        now = time.time()
        window = int(now // self.duration)
        key = f"throttle:{self.scope}:{ident}:{window}"
        count = _hit(key, timeout=self.duration + 1)
        if count <= self.num_requests:
            return True
        self.retry_after = (window + 1) * self.duration - now
        return False

    def wait(self):
        return self.retry_after
