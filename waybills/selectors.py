"""Reads of waybills for the carrier API: the carrier's own platform waybills, for sync and one by number."""
from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, QuerySet

from carriers.models import Carrier

from .models import DeliveryConsent, TrackingEvent, Waybill, WaybillServiceChange

_SERVICE_CHANGES = Prefetch("service_changes", queryset=WaybillServiceChange.objects.order_by("at", "id"))


def _waybills_scoped(*, carrier: Carrier) -> QuerySet[Waybill]:
    # Another carrier's waybill is simply not there (DESIGN §5.4).
    return Waybill.objects.filter(carrier=carrier, is_platform_issued=True)


def carrier_waybills_list(
    *, carrier: Carrier, updated_since: datetime | None = None, service: str | None = None,
    statuses: list[str] | None = None,
) -> QuerySet[Waybill]:
    """The carrier's waybills for a sync page, walked on the (carrier, updated_at, id) index."""
    queryset = _waybills_scoped(carrier=carrier).prefetch_related(_SERVICE_CHANGES).only(
        "id", "number", "status", "status_at", "service_codes", "dest_province", "dest_city", "dest_district",
        "delivery_method", "delivered_at", "created_at", "updated_at",
    )
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    if service:
        if connection.vendor == "postgresql":
            queryset = queryset.filter(service_codes__contains=[service])  # jsonb @>
        else:  # SQLite (`make run`) has no JSON containment: the code, quoted, in the stored list
            queryset = queryset.filter(service_codes__icontains=f'"{service}"')
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    return queryset


def carrier_waybill_detail(*, carrier: Carrier, number: str) -> Waybill | None:
    """One waybill of this carrier with its scans as stored and its service history; None if not its own."""
    return (
        _waybills_scoped(carrier=carrier)
        .prefetch_related(
            _SERVICE_CHANGES, Prefetch("events", queryset=TrackingEvent.objects.order_by("occurred_at", "id")),
            Prefetch("consents", queryset=DeliveryConsent.objects.select_related("tracking_event").order_by("recorded_at", "id")),
        )
        .filter(number=number)
        .first()
    )


def waybill_services(waybill: Waybill) -> list[dict]:
    """Each service ever on the waybill: whether it is on now, when it was last added and removed."""
    services: dict[str, dict] = {}
    for change in waybill.service_changes.all():
        entry = services.setdefault(change.code, {"code": change.code, "added_at": None, "removed_at": None})
        if change.action == WaybillServiceChange.Action.ADDED:
            entry["added_at"], entry["removed_at"] = change.at, None
        else:
            entry["removed_at"] = change.at
    for code in waybill.service_codes:  # flags set before changes were recorded
        services.setdefault(code, {"code": code, "added_at": None, "removed_at": None})
    for entry in services.values():
        entry["active"] = entry["code"] in waybill.service_codes
    return list(services.values())


def waybill_consents(*, waybill: Waybill) -> QuerySet[DeliveryConsent]:
    """The parcel's consent history, oldest first: who, when, how, scope (for every audience)."""
    return DeliveryConsent.objects.filter(waybill=waybill).select_related("carrier").order_by("recorded_at", "id")


def consent_buyer_active(consents: list[DeliveryConsent], *, now: datetime) -> list[DeliveryConsent]:
    """The buyer's grants in force now (after the last withdrawal, not expired)."""
    active: list[DeliveryConsent] = []
    for record in consents:
        if record.source != DeliveryConsent.Source.BUYER or record.recorded_at > now:
            continue
        if record.kind == DeliveryConsent.Kind.WITHDRAW:
            active = []
        elif record.valid_until is None or record.valid_until >= now:
            active.append(record)
    return active
