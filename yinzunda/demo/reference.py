"""The demo's reference data: carriers with their tariffs, merchants, logins and carrier API tokens.

Reference rows have no service of their own (operators enter them in the admin); they are
created once and found again on a rerun. Tokens go through carriers.services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from carriers.choices import ComplaintType
from carriers.models import Carrier, CarrierToken, Tariff, TariffPayout
from carriers.services import carrier_token_create, carrier_token_revoke
from orders.models import Merchant, MerchantMember

DEMO_PASSWORD = "yinzunda-demo-2026"  # noqa: S105 - printed demo login, never for production
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 - printed demo login, never for production
DEMO_TOKEN_NAME = "demo"  # noqa: S105 - a label, not a secret
TARIFF_EFFECTIVE_FROM = datetime(2025, 1, 1, tzinfo=timezone.get_fixed_timezone(8 * 60))


@dataclass(frozen=True)
class DemoCarrier:
    code: str
    name: str
    name_en: str
    prefix: str  # waybill prefix
    partner: bool
    share: int  # share of the shipped orders


CARRIERS = [
    DemoCarrier("ZTO", "中通快递", "ZTO Express", "ZT", True, 35),
    DemoCarrier("YTO", "圆通速递", "YTO Express", "YT", True, 30),
    DemoCarrier("YUNDA", "韵达快递", "Yunda Express", "YD", True, 25),
    DemoCarrier("STO", "申通快递", "STO Express", "ST", False, 10),
]
# Yinzunda's promises pay ¥5.00 (DESIGN §1); the other types are priced for carriers that cover them.
PAYOUTS = {
    ComplaintType.NOT_TO_DOOR: Decimal("5.00"),
    ComplaintType.LOCKER_WITHOUT_CONSENT: Decimal("5.00"),
    ComplaintType.RETURN_PICKUP_MISSED: Decimal("5.00"),
    ComplaintType.NO_CALL: Decimal("5.00"),
    ComplaintType.STUCK_IN_TRANSIT: Decimal("3.00"),
    ComplaintType.COURIER_CONDUCT: Decimal("2.00"),
    ComplaintType.DAMAGED: Decimal("10.00"),
    ComplaintType.LOST: Decimal("20.00"),
}


@dataclass(frozen=True)
class DemoMerchant:
    code: str
    name: str
    username: str
    city: str
    share: int
    price_range: tuple[int, int]
    quota_mode: str
    quota_percent: Decimal = Decimal("3")


MERCHANTS = [
    DemoMerchant("demo-beauty", "花间集美妆旗舰店", "demo-beauty", "杭州市", 45, (59, 699), "warn"),
    DemoMerchant("demo-digital", "极客数码专营店", "demo-digital", "深圳市", 30, (99, 4999), "enforce", Decimal("10")),
    DemoMerchant("demo-snacks", "山野零食小铺", "demo-snacks", "长沙市", 25, (19, 199), "warn"),
]
MERCHANT_CODES = [m.code for m in MERCHANTS]


def merchant_spec(code: str) -> DemoMerchant:
    return next(m for m in MERCHANTS if m.code == code)


def carriers_ensure() -> dict[str, Carrier]:
    """The four carriers; partners get tariff version 1 with a payout per complaint type."""
    carriers = {}
    for spec in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(
            code=spec.code,
            defaults={"name": spec.name, "name_en": spec.name_en, "waybill_prefix": spec.prefix,
                      "is_partner": spec.partner, "response_deadline_hours": 48, "webhook_url": ""},
        )
        if spec.partner:
            tariff, made = Tariff.objects.get_or_create(
                carrier=carrier, version=1,
                defaults={"effective_from": TARIFF_EFFECTIVE_FROM, "fee_per_order": Decimal("0.80")},
            )
            if made:
                TariffPayout.objects.bulk_create(
                    TariffPayout(tariff=tariff, complaint_type=t, amount=a) for t, a in PAYOUTS.items()
                )
        carriers[spec.code] = carrier
    return carriers


def merchants_ensure() -> dict[str, Merchant]:
    merchants = {}
    for spec in MERCHANTS:
        merchant, _ = Merchant.objects.get_or_create(
            code=spec.code,
            defaults={"name": spec.name, "email": f"{spec.code}@shop.yinzunda.example", "quota_mode": spec.quota_mode,
                      "quota_percent": spec.quota_percent},
        )
        merchants[spec.code] = merchant
    return merchants


def logins_ensure(merchants: dict[str, Merchant]) -> list[tuple[str, str, str]]:
    """The operator and one login per merchant: (role, username, password)."""
    User = get_user_model()
    logins = []
    admin, made = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={"is_staff": True, "is_superuser": True})
    if made:
        admin.set_password(ADMIN_PASSWORD)
        admin.save(update_fields=["password"])
    logins.append(("平台运营（后台 /admin/，仲裁）", ADMIN_USERNAME, ADMIN_PASSWORD))
    for spec in MERCHANTS:
        user, made = User.objects.get_or_create(username=spec.username)
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        MerchantMember.objects.get_or_create(user=user, defaults={"merchant": merchants[spec.code]})
        logins.append((f"商家 {spec.name}", spec.username, DEMO_PASSWORD))
    return logins


def tokens_issue(carriers: dict[str, Carrier]) -> list[tuple[str, str]]:
    """A fresh demo token per carrier on every run (raw tokens are never stored); old ones are revoked."""
    tokens = []
    for code, carrier in carriers.items():
        for old in CarrierToken.objects.filter(carrier=carrier, name=DEMO_TOKEN_NAME, revoked_at__isnull=True):
            carrier_token_revoke(token=old)
        _token, raw = carrier_token_create(carrier=carrier, name=DEMO_TOKEN_NAME)
        tokens.append((code, raw))
    return tokens
