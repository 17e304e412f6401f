"""Reads about carriers: current tariff, payouts, and the carrier API's scoped claims/settlements."""
from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from .models import Carrier, Tariff, TariffPayout


def tariff_current(*, carrier: Carrier, at=None) -> Tariff | None:
    at = at or timezone.now()
    return Tariff.objects.filter(carrier=carrier, effective_from__lte=at).order_by("-effective_from").first()


def tariff_payout(*, tariff: Tariff, complaint_type: str) -> Decimal | None:
    payout = TariffPayout.objects.filter(tariff=tariff, complaint_type=complaint_type).first()
    return payout.amount if payout else None

