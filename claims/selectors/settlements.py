"""Reads of settlement statements for the carrier API."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from carriers.models import Carrier

from ..models import Claim, Settlement

ZERO = Decimal("0.00")


def carrier_settlements_list(
    *, carrier: Carrier, statuses: list[str] | None = None, updated_since: datetime | None = None
) -> QuerySet:
    queryset = Settlement.objects.filter(carrier=carrier).prefetch_related(
        Prefetch("claims", queryset=Claim.objects.only("id", "settlement_id").order_by("id"))
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def carrier_settlement_detail(*, carrier: Carrier, settlement_id: int):
    return carrier_settlements_list(carrier=carrier).filter(pk=settlement_id).first()
