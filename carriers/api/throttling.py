"""Per-token request rate (scope "carrier"); the rate is read from settings at request time.

The count is an atomic counter (`yinzunda.ratelimit`: Redis INCR, the database while Redis is
away), never DRF's read-modify-write history in the cache: parallel requests cannot slip past.
The quota and what is left of it are reported in the IETF RateLimit-Policy / RateLimit headers.
"""
from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from yinzunda.ratelimit import rate_hit

POLICY_NAME = "carrier"


class CarrierTokenThrottle(SimpleRateThrottle):
    scope = "carrier"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if token is None:
            return None  # unauthenticated requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": f"token:{token.pk}"}

    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        hit = rate_hit(key, limit=self.num_requests, window=self.duration)
        self.retry_after = hit.retry_after
        request.ratelimit_headers = {
            "RateLimit-Policy": f'"{POLICY_NAME}";q={self.num_requests};w={self.duration}',
            "RateLimit": f'"{POLICY_NAME}";r={max(0, self.num_requests - hit.count)};t={hit.retry_after}',
        }
        return hit.allowed

    def wait(self) -> float | None:
        return self.retry_after
