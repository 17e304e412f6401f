"""The sandbox: a twin of each live carrier that test tokens (yzd_test_…) act on, apart from real data."""
from __future__ import annotations

import secrets
import string

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Carrier, CarrierToken, Tariff, TariffPayout, hash_token

TEST_TOKEN_PREFIX = "yzd_test_"  # noqa: S105 - a public marker, not a secret


def _free_prefix() -> str:
    """A two-letter waybill prefix no carrier uses, from the end of the alphabet (ZZ, ZY, …)."""
    used = set(Carrier.objects.values_list("waybill_prefix", flat=True))
    letters = string.ascii_uppercase[::-1]
    for first in letters:
        for second in letters:
            if first + second not in used:
                return first + second
    raise RuntimeError("no free waybill prefix")


@transaction.atomic
def carrier_sandbox_ensure(*, carrier: Carrier) -> Carrier:
    """The carrier's sandbox twin, created on first use with a copy of its current tariff."""
    if carrier.is_sandbox:
        return carrier
    live = Carrier.objects.select_for_update().get(pk=carrier.pk)
    twin = Carrier.objects.filter(live_carrier=live).first()
    if twin is not None:
        return twin
    twin = Carrier.objects.create(
        code=f"{live.code[:12]}TEST", name=_("%(name)s（沙箱）") % {"name": live.name}, name_en=f"{live.name_en} (sandbox)"[:64],
        is_partner=live.is_partner, waybill_prefix=_free_prefix(), webhook_url=live.webhook_url,
        webhook_secret=live.webhook_secret, response_deadline_hours=live.response_deadline_hours,
        is_sandbox=True, live_carrier=live,
    )
    for tariff in Tariff.objects.filter(carrier=live).prefetch_related("payouts"):
        copy = Tariff.objects.create(
            carrier=twin, version=tariff.version, effective_from=tariff.effective_from, fee_per_order=tariff.fee_per_order
        )
        TariffPayout.objects.bulk_create(
            [TariffPayout(tariff=copy, complaint_type=p.complaint_type, amount=p.amount) for p in tariff.payouts.all()]
        )
    return twin


def carrier_test_token_create(*, carrier: Carrier, name: str = "") -> tuple[CarrierToken, str]:
    """A test token of the carrier: it authenticates as the sandbox twin, never as the live carrier."""
    twin = carrier_sandbox_ensure(carrier=carrier)
    raw = TEST_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = CarrierToken.objects.create(carrier=twin, name=name, prefix=raw[:12], key_hash=hash_token(raw))
    return token, raw
