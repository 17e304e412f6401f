"""Reads of claims, each scoped to who asks: the merchant, the carrier, the operator, the settlement run."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, QuerySet, Sum

from carriers.models import Carrier
from orders.models import Merchant, Order
from orders.selectors.orders import local_day_start
from waybills.models import DeliveryConsent, TrackingEvent
from yinzunda.money import money
from yinzunda.pagination import KeysetPage, keyset_paginate

from ..models import Claim, ClaimTransition, Complaint, ComplaintPhoto

ZERO = Decimal("0.00")


def claims_to_settle(*, period_end: datetime) -> QuerySet[Claim]:
    """Payable claims resolved before period_end that no statement holds yet."""
    return Claim.objects.filter(status__in=Claim.PAYABLE, settlement__isnull=True, resolved_at__lt=period_end)


def claim_live_on_waybill(*, waybill_id: int) -> Claim | None:
    """The claim that stands for this parcel, whatever its state: a parcel is compensated once,
    and a ruling is final (DESIGN §4), so a second complaint or scan joins it, a dismissed one
    included, instead of reopening the breach."""
    return Claim.objects.filter(waybill_id=waybill_id).order_by("pk").first()


def claim_queryset(
    *, merchant: Merchant, filters: dict[str, Any] | None = None, with_order: bool = True
) -> QuerySet[Claim]:
    filters = filters or {}
    # No waybill join: the pages do not show it, and joining it makes PostgreSQL scan every waybill.
    related = ["carrier", "settlement"] + (["order"] if with_order else [])
    qs = Claim.objects.filter(merchant=merchant).select_related(*related)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("carrier"):
        qs = qs.filter(carrier=filters["carrier"])
    if filters.get("date_from"):
        qs = qs.filter(opened_at__gte=local_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(opened_at__lt=local_day_start(filters["date_to"] + timedelta(days=1)))
    return qs


def claim_list(
    *, merchant: Merchant, filters: dict[str, Any] | None = None, cursor: str | None = None
) -> KeysetPage:
    # Orders are fetched for the page's rows only: joining them in the sorted query made
    # PostgreSQL scan every order of the platform (≈ 200 ms at a million orders).
    queryset = claim_queryset(
        merchant=merchant, filters=filters, with_order=False
    ).prefetch_related(Prefetch("order", queryset=Order.objects.only("id", "order_number")))
    return keyset_paginate(queryset, cursor=cursor, time_field="opened_at")


def claim_status_counts(*, merchant: Merchant, filters: dict[str, Any] | None = None) -> list[dict]:
    filters = {k: v for k, v in (filters or {}).items() if k != "status"}
    rows = (
        claim_queryset(merchant=merchant, filters=filters)
        .order_by()
        .values("status")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    by_status = {r["status"]: r for r in rows}
    return [
        {
            "status": value,
            "label": label,
            "count": by_status.get(value, {}).get("n", 0),
            "amount": money(by_status.get(value, {}).get("total") or 0),
        }
        for value, label in Claim.Status.choices
    ]


def _claims_scoped(*, carrier: Carrier):
    return Claim.objects.filter(carrier=carrier)


def carrier_claims_list(
    *, carrier: Carrier, statuses: list[str] | None = None, updated_since: datetime | None = None
) -> QuerySet:
    """The carrier's claims for a list page: the waybill number comes with the same query."""
    queryset = _claims_scoped(carrier=carrier).select_related("waybill").only(
        "id", "status", "complaint_type", "amount", "deadline_at", "opened_at", "updated_at",
        "resolved_at", "settlement_id", "trigger", "waybill__number",
    )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    return queryset


def carrier_claim_detail(*, carrier: Carrier, claim_id: int):
    """One claim of this carrier with its complaint, tracking evidence and history; None if not its own."""
    return (
        _claims_scoped(carrier=carrier)
        .select_related("waybill", "complaint", "settlement", "tariff")
        .annotate(photo_count=Count("complaint__photos"))
        .prefetch_related(
            Prefetch("transitions", queryset=ClaimTransition.objects.order_by("created_at", "id")),
            Prefetch("waybill__events", queryset=TrackingEvent.objects.order_by("occurred_at", "id")),
            Prefetch("complaint__photos", queryset=ComplaintPhoto.objects.order_by("id")),
            Prefetch("waybill__consents", queryset=DeliveryConsent.objects.select_related("tracking_event").order_by("recorded_at", "id")),
            "tariff__payouts",
        )
        .filter(pk=claim_id)
        .first()
    )


def staff_claims(*, status: str | None = Claim.Status.DISPUTED) -> QuerySet[Claim]:
    qs = Claim.objects.select_related("carrier", "merchant", "order", "waybill", "complaint")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("updated_at", "id")


def staff_claim_get(*, claim_id: int) -> Claim | None:
    return (
        Claim.objects.select_related("carrier", "merchant", "order", "waybill", "complaint", "source_event", "tariff")
        .prefetch_related(
            Prefetch("transitions", queryset=ClaimTransition.objects.select_related("actor_user", "actor_carrier")),
            Prefetch("waybill__events", queryset=TrackingEvent.objects.order_by("occurred_at", "id")),
            "complaint__photos",
            # Complaints filed after the claim opened (often on a tracking-triggered claim).
            Prefetch("joined_complaints", queryset=Complaint.objects.order_by("created_at", "id")),
            "joined_complaints__photos",
            "merchant_answers__photos",
        )
        .filter(pk=claim_id)
        .first()
    )
