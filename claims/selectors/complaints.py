"""Reads of complaints: the buyer's proven order and its complaints, the regulatory answer clock."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Order, YinzundaPurchase

from .. import routing
from ..models import Complaint

ZERO = Decimal("0.00")


def buyer_order_find(*, number: str) -> Order | None:
    """The order whose order number or waybill number is `number` (both forms name one order)."""
    # Exact lookups only (unique indexes); waybill numbers are upper case, typed any way.
    return (
        Order.objects.filter(order_number=number).first()
        or Order.objects.filter(waybill__number=number.upper()).first()
    )


def buyer_order_prove(*, number: str, phone_last4: str, order: Order | None = None) -> Order | None:
    """The order whose order number or waybill number is `number` and recipient phone ends so."""
    order = order or buyer_order_find(number=number)
    if order is None or not hmac.compare_digest(order.recipient_phone[-4:], phone_last4):
        return None
    return order


def buyer_order_get(*, order_id: int) -> Order | None:
    return Order.objects.select_related("merchant", "waybill__carrier").filter(pk=order_id).first()


def buyer_complaints(*, order_id: int) -> QuerySet[Complaint]:
    return Complaint.objects.filter(order_id=order_id).select_related("claim").order_by("-created_at", "-id")


def buyer_complaint_get(*, order_ids: list[int], reference: str) -> Complaint | None:
    """Only a complaint of an order the buyer proved; anything else is None (a 404)."""
    return (
        Complaint.objects.select_related("order__merchant", "waybill__carrier", "claim__carrier", "joined_claim")
        .prefetch_related("photos")
        .filter(order_id__in=order_ids, reference=reference)
        .first()
    )


def buyer_orders_get(*, order_ids: list[int]) -> list[Order]:
    """The orders this browser proved, in the order given (most recent proof first)."""
    found = {o.pk: o for o in Order.objects.select_related("merchant").filter(pk__in=order_ids)}
    return [found[i] for i in order_ids if i in found]


def buyer_order_has_yinzunda(*, order_id: int) -> bool:
    """Whether the merchant bought the 音尊达 promise for this order (the buyer is told what it means)."""
    return YinzundaPurchase.objects.filter(order_id=order_id, status=YinzundaPurchase.Status.ACTIVE).exists()


@dataclass(frozen=True)
class RegulationClock:
    due_at: datetime
    overdue: bool


def complaint_regulation_clock(*, complaint: Complaint, now: datetime | None = None) -> RegulationClock:
    """The 7-working-day answer period of the regulation, counted in Beijing time."""
    now = now or timezone.now()
    due = routing.working_days_after(timezone.localtime(complaint.created_at))
    return RegulationClock(due_at=due, overdue=now > due)
