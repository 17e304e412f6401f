"""Per-token request rate (scope "carrier"); the rate is read from settings at request time."""
from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class CarrierTokenThrottle(SimpleRateThrottle):
    scope = "carrier"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if token is None:
            return None  # unauthenticated requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": f"token:{token.pk}"}
