"""Issuing platform e-waybills: numbers with a check digit, allocated per carrier without gaps or races."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carriers.models import Carrier, WebhookDelivery
from carriers.services import webhook_enqueue

from ..models import Waybill, WaybillSequence, WaybillServiceChange
from ..numbers import format_waybill_number
from ..regions import address_region


@transaction.atomic
def waybill_numbers_allocate(*, carrier: Carrier, count: int = 1) -> list[str]:
    """Reserve `count` consecutive serials; the sequence row lock makes concurrent issue safe."""
    WaybillSequence.objects.get_or_create(carrier=carrier)
    sequence = WaybillSequence.objects.select_for_update().get(carrier=carrier)
    first = sequence.next_serial
    sequence.next_serial = first + count
    sequence.save(update_fields=["next_serial"])
    return [format_waybill_number(carrier.waybill_prefix, serial) for serial in range(first, first + count)]


@dataclass(frozen=True)
class IssueRequest:
    """One order to ship: its id, its street address (only the district is kept) and its services."""

    order_id: int
    address: str = ""
    service_codes: tuple[str, ...] = ()


def waybill_issued_payload(waybill: Waybill) -> dict:
    """What a carrier is told of a new waybill (webhook `waybill.issued`)."""
    return {
        "waybill_number": waybill.number,
        "services": list(waybill.service_codes),
        "destination": {
            "province": waybill.dest_province, "city": waybill.dest_city, "district": waybill.dest_district,
        },
        "issued_at": timezone.localtime(waybill.created_at).isoformat(),
    }


@transaction.atomic
def waybills_issue(*, carrier: Carrier, requests: list[IssueRequest], now: datetime | None = None) -> list[Waybill]:
    """Platform waybills for many orders in a fixed number of statements, each carrier told.

    The caller has checked the orders (and holds their row locks); the one-waybill-per-order
    unique constraint is the last guard against a second number for the same order.
    """
    now = now or timezone.now()
    if not requests:
        return []
    numbers = waybill_numbers_allocate(carrier=carrier, count=len(requests))
    waybills = []
    for request, number in zip(requests, numbers, strict=True):
        region = address_region(request.address)
        waybills.append(Waybill(
            number=number, carrier=carrier, order_id=request.order_id, is_platform_issued=True,
            service_codes=list(request.service_codes), dest_province=region.province, dest_city=region.city,
            dest_district=region.district, created_at=now, updated_at=now,
        ))
    Waybill.objects.bulk_create(waybills)
    WaybillServiceChange.objects.bulk_create([
        WaybillServiceChange(waybill=w, code=code, action=WaybillServiceChange.Action.ADDED, at=now)
        for w in waybills for code in w.service_codes
    ])
    for waybill in waybills:
        webhook_enqueue(
            carrier=carrier, event_type=WebhookDelivery.EventType.WAYBILL_ISSUED, payload=waybill_issued_payload(waybill)
        )
    return waybills


@transaction.atomic
def waybill_issue(
    *, carrier: Carrier, order_id: int, service_codes: list[str] | None = None, address: str = "",
    now: datetime | None = None,
) -> Waybill:
    """A platform waybill for one order; orders know waybills, a waybill knows its order by id."""
    (waybill,) = waybills_issue(
        carrier=carrier, requests=[IssueRequest(order_id, address, tuple(service_codes or ()))], now=now
    )
    return waybill
