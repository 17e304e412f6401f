"""Waybills printed outside the platform (a merchant's own carrier account): recorded, so their
scans and complaints find the order, but never eligible for the Yinzunda tier."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from carriers.models import Carrier

from ..models import Waybill
from ..numbers import validate_waybill_number


def waybill_record_external(*, carrier: Carrier, order_id: int, number: str, now: datetime | None = None) -> Waybill:
    """Record the order's waybill under the number the carrier printed; raises ValidationError if malformed."""
    return Waybill.objects.create(
        number=validate_waybill_number(number), carrier=carrier, order_id=order_id, is_platform_issued=False,
        created_at=now or timezone.now(),
    )
