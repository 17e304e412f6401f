"""The operator's arbitration queue: disputed claims oldest first, searched, filtered, paged by keyset."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from orders.models import Order
from waybills.models import Waybill
from waybills.numbers import normalize_waybill_number
from yinzunda.pagination import PAGE_SIZE, KeysetPage, keyset_paginate

from ..models import Claim, ClaimTransition

AGE_CHOICES = ("over_target", "within_target")


def arbitration_target() -> timedelta:
    return timedelta(hours=settings.YINZUNDA_ARBITRATION_TARGET_HOURS)


def _search_q(q: str) -> Q:
    """A claim number, an order number or a waybill number, each an exact lookup on its own unique
    index (an OR across the joins would make PostgreSQL scan every claim)."""
    q = q.strip().lstrip("#")
    orders = list(Order.objects.filter(order_number=q).values_list("pk", flat=True)[:1])
    waybills = list(Waybill.objects.filter(number=normalize_waybill_number(q)).values_list("pk", flat=True)[:1])
    match = Q(order_id__in=orders) | Q(waybill_id__in=waybills)
    if q.isascii() and q.isdigit() and int(q) < 2**63:
        match |= Q(pk=int(q))
    return match


def arbitration_queryset(*, filters: dict[str, Any] | None = None, now: datetime | None = None) -> QuerySet[Claim]:
    """Disputed claims; `updated_at` is when the dispute arrived (nothing else moves a disputed claim)."""
    filters = filters or {}
    now = now or timezone.now()
    qs = Claim.objects.filter(status=Claim.Status.DISPUTED).select_related("carrier", "merchant", "waybill").prefetch_related(
        Prefetch("order", queryset=Order.objects.only("id", "order_number"))
    )
    if filters.get("q"):
        qs = qs.filter(_search_q(filters["q"]))
    if filters.get("carrier"):
        qs = qs.filter(carrier=filters["carrier"])
    if filters.get("merchant"):
        qs = qs.filter(merchant=filters["merchant"])
    if filters.get("complaint_type"):
        qs = qs.filter(complaint_type=filters["complaint_type"])
    if filters.get("age") == "over_target":
        qs = qs.filter(updated_at__lte=now - arbitration_target())
    elif filters.get("age") == "within_target":
        qs = qs.filter(updated_at__gt=now - arbitration_target())
    return qs


@dataclass(frozen=True)
class QueueAge:
    hours: int
    over_target: bool


def arbitration_queue(
    *, filters: dict[str, Any] | None = None, cursor: str | None = None, page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> KeysetPage:
    """Oldest dispute first; each claim carries `queue_age` (hours waiting, and whether past the target)."""
    now = now or timezone.now()
    page = keyset_paginate(
        arbitration_queryset(filters=filters, now=now), cursor=cursor, time_field="updated_at",
        page_size=page_size, ascending=True,
    )
    target = arbitration_target()
    for claim in page.items:
        waited = now - claim.updated_at
        claim.queue_age = QueueAge(hours=int(waited.total_seconds() // 3600), over_target=waited > target)
    return page


def claim_ruling_last(*, claim: Claim) -> ClaimTransition | None:
    """The operator's ruling on the claim, if one was made (who, when, what, why)."""
    return (
        ClaimTransition.objects.select_related("actor_user")
        .filter(claim=claim, actor=ClaimTransition.Actor.STAFF)
        .order_by("-created_at", "-id")
        .first()
    )
