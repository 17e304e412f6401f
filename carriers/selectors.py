"""Reads about carriers: current tariff, payouts, and the webhook events raised for a carrier."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from .models import Carrier, Tariff, TariffPayout, WebhookDelivery


def tariff_current(*, carrier: Carrier, at=None) -> Tariff | None:
    at = at or timezone.now()
    return Tariff.objects.filter(carrier=carrier, effective_from__lte=at).order_by("-effective_from").first()


def tariff_payout(*, tariff: Tariff, complaint_type: str) -> Decimal | None:
    payout = TariffPayout.objects.filter(tariff=tariff, complaint_type=complaint_type).first()
    return payout.amount if payout else None



def webhook_events_list(
    *, carrier: Carrier, since: datetime | None = None, after_sequence: int | None = None
) -> QuerySet[WebhookDelivery]:
    """Every webhook event raised for the carrier (delivered or not, with or without a URL)."""
    queryset = WebhookDelivery.objects.filter(carrier=carrier)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if after_sequence is not None:
        queryset = queryset.filter(sequence__gt=after_sequence)
    return queryset.order_by("sequence")


def carriers_for_shipping():
    """Carriers a merchant may ship with: active live ones (never a sandbox twin), partners first."""
    return Carrier.objects.filter(is_active=True, is_sandbox=False).order_by("-is_partner", "code")
