"""Issuing platform e-waybills: numbers with a check digit, allocated per carrier without gaps or races."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carriers.models import Carrier

from ..models import Waybill, WaybillSequence
from ..numbers import format_waybill_number


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
    """One order to ship on a platform waybill, with its services."""

    order_id: int
    service_codes: tuple[str, ...] = ()


@transaction.atomic
def waybills_issue(*, carrier: Carrier, requests: list[IssueRequest], now: datetime | None = None) -> list[Waybill]:
    """Platform waybills for many orders in a fixed number of statements (numbers allocated at once)."""
    now = now or timezone.now()
    if not requests:
        return []
    numbers = waybill_numbers_allocate(carrier=carrier, count=len(requests))
    return Waybill.objects.bulk_create([
        Waybill(number=number, carrier=carrier, order_id=request.order_id, is_platform_issued=True,
                service_codes=list(request.service_codes), created_at=now)
        for request, number in zip(requests, numbers, strict=True)
    ])


@transaction.atomic
def waybill_issue(
    *, carrier: Carrier, order_id: int, service_codes: list[str] | None = None, now: datetime | None = None
) -> Waybill:
    """A platform waybill for the order; orders know waybills, a waybill knows its order by id."""
    (number,) = waybill_numbers_allocate(carrier=carrier, count=1)
    return Waybill.objects.create(
        number=number, carrier=carrier, order_id=order_id, is_platform_issued=True, service_codes=service_codes or [],
        created_at=now or timezone.now(),
    )
