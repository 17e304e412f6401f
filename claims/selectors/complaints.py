"""Reads of complaints: the buyer's proven order and its complaints, the regulatory answer clock."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from orders.models import Order, YinzundaPurchase
from yinzunda import workdays

from .. import routing
from ..models import Claim, Complaint

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
    days: int
    working_days: bool
    approximate: bool  # working days counted Monday–Friday: the holiday calendar lacks a year
    channel: str  # where the buyer escalates past the clock (the postal administration)
    channel_url: str


def answer_clock_working_days() -> bool:
    return settings.YINZUNDA_ANSWER_CLOCK == "working"


def complaint_regulation_clock(*, complaint: Complaint, now: datetime | None = None) -> RegulationClock | None:
    """The carrier's answer clock, counted in Beijing time from filing; None for a complaint no
    carrier has to answer (not routed yet, forwarded to the merchant, refused, or joining a ruling)."""
    if complaint.status != Complaint.Status.CLAIM_OPENED:
        return None
    now = now or timezone.now()
    days, working = settings.YINZUNDA_ANSWER_DAYS, answer_clock_working_days()
    filed = timezone.localtime(complaint.created_at)
    due = routing.answer_due_at(filed, days=days, working_days=working)
    claim = getattr(complaint, "claim", None) or complaint.joined_claim
    answered = claim is not None and claim.status != Claim.Status.OPEN
    return RegulationClock(
        due_at=due,
        overdue=now > due and not answered,
        days=days,
        working_days=working,
        approximate=working and bool(workdays.unknown_years(range(filed.year, due.year + 1))),
        channel=gettext(settings.YINZUNDA_ESCALATION_CHANNEL),
        channel_url=settings.YINZUNDA_ESCALATION_URL,
    )


def answer_clock_calendar_gaps(*, today: date | None = None) -> list[int]:
    """Years the configured answer clock may reach from today that the holiday calendar lacks."""
    return routing.answer_clock_calendar_gaps(
        today=today or timezone.localdate(), days=settings.YINZUNDA_ANSWER_DAYS, working_days=answer_clock_working_days()
    )


def complaints_held_due(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Held complaints whose re-check time has come (the watcher's sweep judges them again)."""
    return list(
        Complaint.objects.filter(status=Complaint.Status.HELD, recheck_at__lte=now or timezone.now())
        .order_by("recheck_at").values_list("pk", flat=True)[:limit]
    )
