"""Writes on waybills: issuing platform e-waybill numbers."""
from __future__ import annotations

from django.db import transaction

from carriers.models import Carrier
from orders.models import Order

from .models import Waybill, WaybillSequence
from .numbers import format_waybill_number


@transaction.atomic
def waybill_numbers_allocate(*, carrier: Carrier, count: int = 1) -> list[str]:
    """Reserve `count` consecutive serials; the sequence row lock makes concurrent issue safe."""
    WaybillSequence.objects.get_or_create(carrier=carrier)
    sequence = WaybillSequence.objects.select_for_update().get(carrier=carrier)
    first = sequence.next_serial
    sequence.next_serial = first + count
    sequence.save(update_fields=["next_serial"])
    return [format_waybill_number(carrier.waybill_prefix, serial) for serial in range(first, first + count)]


@transaction.atomic
def waybill_issue(*, carrier: Carrier, order: Order, service_codes: list[str] | None = None) -> Waybill:
    (number,) = waybill_numbers_allocate(carrier=carrier, count=1)
    return Waybill.objects.create(
        number=number, carrier=carrier, order=order, is_platform_issued=True, service_codes=service_codes or []
    )
