"""Bearer token authentication: `Authorization: Bearer yzd_…` → the carrier owning that token."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from carriers.models import Carrier, CarrierToken, hash_token

# last_used_at is a hint for operators; writing it on every request would cost a round trip.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class CarrierPrincipal:
    """request.user of the carrier API: the carrier, never a Django user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False

    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self.pk = carrier.pk

    def __str__(self) -> str:
        return f"carrier:{self.carrier.code}"


class CarrierTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise exceptions.AuthenticationFailed(_("Authorization 头应为 “Bearer <令牌>”。"))
        raw = parts[1]
        if len(raw) > 128 or not raw.isascii() or not raw.isprintable():
            raise exceptions.AuthenticationFailed(_("令牌无效或已吊销。"))
        token = (
            CarrierToken.objects.select_related("carrier")
            .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已吊销。"))
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            CarrierToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return CarrierPrincipal(token.carrier), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="yinzunda-carrier-api"'


class IsCarrier(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, CarrierToken)


class CarrierTokenScheme(OpenApiAuthenticationExtension):
    target_class = "carriers.api.authentication.CarrierTokenAuthentication"
    name = "carrierToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "每家快递公司的 API 令牌（`python manage.py carrier_token <CODE>` 生成，仅显示一次）。",
        }
