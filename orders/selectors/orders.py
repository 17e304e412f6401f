"""The merchant's orders: filtered, searched, one order; scoped to one merchant."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.utils import timezone

from carriers.models import TariffPayout
from waybills.models import Waybill
from waybills.numbers import normalize_waybill_number
from yinzunda.db import index_lookups_only
from yinzunda.pagination import PAGE_SIZE, KeysetPage, keyset_paginate

from ..models import Merchant, Order, YinzundaPurchase
from ..services import buyable_waybill_q

SEARCH_LIMIT = 200


def local_day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _first_id(queryset: QuerySet) -> Subquery:
    """SQL: the first matching row's id, or NULL. A scalar subquery with LIMIT is never turned
    into a join, so PostgreSQL runs it once per order of the page, as one index probe; an
    EXISTS filter may become a (hash) semi- or anti-join over every merchant's rows instead."""
    return Subquery(queryset.order_by().values("pk")[:1])


def _active_purchase_id() -> Subquery:
    """The order's active purchase: a probe of the unique partial index `purchase_one_active_per_order`."""
    return _first_id(YinzundaPurchase.objects.filter(order=OuterRef("pk"), status=YinzundaPurchase.Status.ACTIVE))


def _buyable_waybill_id() -> Subquery:
    """The order's waybill if the tier can still be bought for it: a probe of the partial index
    `waybill_buyable` (undelivered platform waybills) and of the carrier's row."""
    return _first_id(Waybill.objects.filter(buyable_waybill_q(), order=OuterRef("pk")))


def order_queryset(*, merchant: Merchant, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """The merchant's orders with carrier, waybill and the Yinzunda flag; filters from OrderFilterForm."""
    filters = filters or {}
    qs = (
        Order.objects.filter(merchant=merchant)
        .select_related("waybill__carrier")
        .alias(purchase_id=_active_purchase_id())
        # Not an EXISTS: in the select list PostgreSQL may run that as one hashed pass over every
        # merchant's active purchases; this is one index probe per order shown.
        .annotate(has_yinzunda=ExpressionWrapper(Q(purchase_id__isnull=False), output_field=BooleanField()))
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
    # Each filter is a per-order probe (see _first_id), so the page walks this merchant's orders
    # and never reads other merchants' purchases or the index of all waybills.
    if filters.get("yinzunda") == "yes":
        qs = qs.filter(purchase_id__isnull=False)
    elif filters.get("yinzunda") == "no":
        qs = qs.filter(purchase_id__isnull=True)
    elif filters.get("yinzunda") == "eligible":
        # The same rule as purchase_refusal_reason, as a filter: what can be bought right now.
        qs = qs.alias(buyable_id=_buyable_waybill_id()).filter(purchase_id__isnull=True, buyable_id__isnull=False)
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
    """A page of the merchant's orders, newest first.

    Driven by this merchant's rows: the page walks index `order_merchant_recent` and looks each
    order's waybill, carrier and active purchase up by key (index look-ups only), so no filter
    (with/without/eligible for Yinzunda) ever reads other merchants' purchases or waybills.
    """
    with index_lookups_only():
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
