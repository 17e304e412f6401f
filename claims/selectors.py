"""Reads of complaints and claims for buyer pages and staff arbitration pages."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orders.models import Order
from waybills.models import TrackingEvent

from . import routing
from .models import Claim, ClaimTransition, Complaint


def buyer_order_prove(*, number: str, phone_last4: str) -> Order | None:
    """The order whose order number or waybill number is `number` and recipient phone ends so."""
    # Exact lookups only (unique indexes); waybill numbers are upper case, typed any way.
    order = (
        Order.objects.filter(order_number=number).first()
        or Order.objects.filter(waybill__number=number.upper()).first()
    )
    if order is None or not hmac.compare_digest(order.recipient_phone[-4:], phone_last4):
        return None
    return order


def buyer_order_get(*, order_id: int) -> Order | None:
    return Order.objects.select_related("merchant", "waybill__carrier").filter(pk=order_id).first()


def buyer_complaints(*, order_id: int) -> QuerySet[Complaint]:
    return Complaint.objects.filter(order_id=order_id).select_related("claim").order_by("-created_at", "-id")


def buyer_complaint_get(*, order_id: int, reference: str) -> Complaint | None:
    """Only a complaint of the order the buyer proved; anything else is None (a 404)."""
    return (
        Complaint.objects.select_related("order", "waybill__carrier", "claim")
        .prefetch_related("photos")
        .filter(order_id=order_id, reference=reference)
        .first()
    )


@dataclass(frozen=True)
class RegulationClock:
    due_at: datetime
    overdue: bool


def complaint_regulation_clock(*, complaint: Complaint, now: datetime | None = None) -> RegulationClock:
    """The 7-working-day answer period of the regulation, counted in Beijing time."""
    now = now or timezone.now()
    due = routing.working_days_after(timezone.localtime(complaint.created_at))
    return RegulationClock(due_at=due, overdue=now > due)


def claims_to_settle(*, period_end: datetime) -> QuerySet[Claim]:
    """Payable claims resolved before period_end that no statement holds yet."""
    return Claim.objects.filter(status__in=Claim.PAYABLE, settlement__isnull=True, resolved_at__lt=period_end)


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
        )
        .filter(pk=claim_id)
        .first()
    )
