"""The merchant's orders: filtered, searched, one order; scoped to one merchant."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from carriers.models import TariffPayout
from waybills.models import Waybill
from waybills.numbers import normalize_waybill_number
from yinzunda.pagination import PAGE_SIZE, KeysetPage, keyset_paginate

from ..models import Merchant, Order, YinzundaPurchase
from ..services import buyable_waybill_q

SEARCH_LIMIT = 200


def local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def active_purchase_exists(order_ref: str = "pk") -> Exists:
    """SQL: the order (by `order_ref`) has an active Yinzunda purchase."""
    return Exists(
        YinzundaPurchase.objects.filter(
            order=OuterRef(order_ref), status=YinzundaPurchase.Status.ACTIVE
        )
    )


def order_queryset(*, merchant: Merchant, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """The merchant's orders with carrier, waybill and the Yinzunda flag; filters from OrderFilterForm."""
    filters = filters or {}
    qs = (
        Order.objects.filter(merchant=merchant)
        .select_related("waybill__carrier")
        .annotate(has_yinzunda=active_purchase_exists())
    )
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=local_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=local_day_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("carrier"):
        qs = qs.filter(waybill__carrier=filters["carrier"])
    if filters.get("status"):
        if filters["status"] == "none":
            qs = qs.filter(waybill__isnull=True)
        else:
            qs = qs.filter(waybill__status=filters["status"])
    if filters.get("yinzunda") == "yes":
        qs = qs.filter(has_yinzunda=True)
    elif filters.get("yinzunda") == "no":
        qs = qs.filter(has_yinzunda=False)
    elif filters.get("yinzunda") == "eligible":
        # The same rule as purchase_refusal_reason, as a filter: what can be bought right now.
        qs = qs.filter(buyable_waybill_q(prefix="waybill__"), has_yinzunda=False)
    q = (filters.get("q") or "").strip()
    if q:
        # Two bounded index lookups (order number prefix, waybill number prefix) instead of an
        # OR across a join, which PostgreSQL can only answer by scanning every order.
        ids = list(
            Order.objects.filter(merchant=merchant, order_number__startswith=q).values_list(
                "id", flat=True
            )[:SEARCH_LIMIT]
        )
        ids += list(
            Waybill.objects.filter(
                order__merchant=merchant, number__startswith=normalize_waybill_number(q)
            ).values_list("order_id", flat=True)[:SEARCH_LIMIT]
        )
        qs = qs.filter(pk__in=ids)
    return qs


def order_list(
    *,
    merchant: Merchant,
    filters: dict[str, Any] | None = None,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
) -> KeysetPage:
    return keyset_paginate(
        order_queryset(merchant=merchant, filters=filters),
        cursor=cursor,
        time_field="created_at",
        page_size=page_size,
    )


def order_get(*, merchant: Merchant, order_id: int) -> Order:
    """One order of this merchant, or 404: another merchant's order does not exist for you."""
    try:
        return (
            Order.objects.select_related("waybill__carrier", "merchant")
            .prefetch_related(Prefetch("purchases", queryset=YinzundaPurchase.objects.select_related("tariff")))
            .get(pk=order_id, merchant=merchant)
        )
    except Order.DoesNotExist:
        raise Http404 from None


def purchase_active_get(*, order_id: int) -> YinzundaPurchase | None:
    """The order's active Yinzunda purchase, with its tariff, or None."""
    return (
        YinzundaPurchase.objects.select_related("tariff")
        .filter(order_id=order_id, status=YinzundaPurchase.Status.ACTIVE)
        .first()
    )


def purchase_active_with_payout(*, order_id: int, complaint_type: str) -> tuple[YinzundaPurchase | None, Decimal | None]:
    """The order's active purchase with its tariff, and what that tariff pays for this complaint
    type (None: not covered), in one query."""
    payout = TariffPayout.objects.filter(tariff=OuterRef("tariff_id"), complaint_type=complaint_type).values("amount")[:1]
    purchase = (
        YinzundaPurchase.objects.select_related("tariff").annotate(payout=Subquery(payout))
        .filter(order_id=order_id, status=YinzundaPurchase.Status.ACTIVE)
        .first()
    )
    return purchase, (purchase.payout if purchase else None)


def waybills_for_labels(*, merchant: Merchant, order_ids: list[int]) -> list[Waybill]:
    """The merchant's waybills of these orders, in the selection's order, ready for a label."""
    rows = {
        w.order_id: w
        for w in Waybill.objects.filter(order__merchant=merchant, order_id__in=order_ids).select_related(
            "carrier", "order__merchant"
        )
    }
    return [rows[i] for i in dict.fromkeys(order_ids) if i in rows]


def order_waybill(*, order_id: int) -> Waybill | None:
    return Waybill.objects.filter(order_id=order_id).first()
