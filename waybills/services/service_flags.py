"""Value-added service flags on a waybill (SVC-WBHOMEDELIVERY): each change recorded and told to the carrier."""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carriers.models import WebhookDelivery
from carriers.services import webhook_enqueue

from ..models import Waybill, WaybillServiceChange


def _service_payload(waybill: Waybill, code: str, at: datetime) -> dict:
    return {
        "waybill_number": waybill.number,
        "service": code,
        "services": list(waybill.service_codes),
        "changed_at": timezone.localtime(at).isoformat(),
    }


@transaction.atomic
def waybill_service_add(*, waybill: Waybill, code: str, now: datetime | None = None) -> bool:
    """Add the flag (the caller holds the order's lock); False when it was already there."""
    if code in waybill.service_codes:
        return False
    now = now or timezone.now()
    waybill.service_codes = [*waybill.service_codes, code]
    waybill.updated_at = now
    waybill.save(update_fields=["service_codes", "updated_at"])
    WaybillServiceChange.objects.create(waybill=waybill, code=code, action=WaybillServiceChange.Action.ADDED, at=now)
    webhook_enqueue(
        carrier=waybill.carrier, event_type=WebhookDelivery.EventType.WAYBILL_SERVICE_ADDED,
        payload=_service_payload(waybill, code, now),
    )
    return True


@transaction.atomic
def waybill_service_remove(*, waybill: Waybill, code: str, now: datetime | None = None) -> bool:
    """Remove the flag; False when it was not there."""
    if code not in waybill.service_codes:
        return False
    now = now or timezone.now()
    waybill.service_codes = [c for c in waybill.service_codes if c != code]
    waybill.updated_at = now
    waybill.save(update_fields=["service_codes", "updated_at"])
    WaybillServiceChange.objects.create(waybill=waybill, code=code, action=WaybillServiceChange.Action.REMOVED, at=now)
    webhook_enqueue(
        carrier=waybill.carrier, event_type=WebhookDelivery.EventType.WAYBILL_SERVICE_REMOVED,
        payload=_service_payload(waybill, code, now),
    )
    return True
