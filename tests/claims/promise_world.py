"""Helpers for the promise tests: a Yinzunda parcel, its scans and consent records, at fixed times."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carriers.choices import ComplaintType
from orders.services import purchase_create
from tests.factories import CarrierFactory, TariffFactory, WaybillFactory
from waybills.models import DeliveryConsent, TrackingEvent

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=SH)
MINUTE = timedelta(minutes=1)
_ids = itertools.count(1)


def parcel(*, payouts: dict | None = None, purchased: bool = True, **tariff_clocks):
    """A waybill of a fresh carrier whose tariff has the given clocks and payouts, bought into Yinzunda."""
    carrier = CarrierFactory(tariff=None)
    TariffFactory(carrier=carrier, payouts=payouts, **tariff_clocks)
    waybill = WaybillFactory(carrier=carrier)
    if purchased:
        purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    return waybill


def only(*types: str) -> dict:
    from decimal import Decimal

    return {t: Decimal("5.00") for t in types} if types else {ComplaintType.DAMAGED: Decimal("5.00")}


def scan(waybill, code: str, at: datetime, method: str = "") -> TrackingEvent:
    return TrackingEvent.objects.create(
        carrier=waybill.carrier, waybill=waybill, event_id=f"E{next(_ids)}", code=code, occurred_at=at,
        delivery_method=method,
    )


def consent(waybill, *, at: datetime, method: str = "station", kind: str = "grant", source: str = "buyer",
            valid_until: datetime | None = None) -> DeliveryConsent:
    carrier = waybill.carrier if source == "carrier" else None
    return DeliveryConsent.objects.create(
        waybill=waybill, kind=kind, source=source, method=method if kind == "grant" else "",
        channel="buyer_page" if source == "buyer" else "scan", carrier=carrier, valid_until=valid_until,
        recorded_at=at,
    )
