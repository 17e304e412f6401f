"""The merchant's ledger: filtered entries, the balance before a moment, pages with a running balance."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from yinzunda.money import money
from yinzunda.pagination import KeysetPage, keyset_paginate

from ..models import LedgerEntry, Merchant
from .orders import local_day_start

ZERO = Decimal("0.00")


def ledger_queryset(
    *, merchant: Merchant, filters: dict[str, Any] | None = None
) -> QuerySet[LedgerEntry]:
    filters = filters or {}
    qs = LedgerEntry.objects.filter(merchant=merchant).select_related("purchase__order", "claim")
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=local_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=local_day_start(filters["date_to"] + timedelta(days=1)))
    return qs


def ledger_balance_before(*, merchant: Merchant, at: datetime) -> Decimal:
    total = LedgerEntry.objects.filter(merchant=merchant, created_at__lt=at).aggregate(
        t=Sum("amount")
    )["t"]
    return money(total or ZERO)


def ledger_page(*, merchant: Merchant, cursor: str | None = None) -> KeysetPage:
    """Newest first with the running balance after each entry.

    The balance after the newest row of the page is the sum of every entry up to it; each
    older row's balance is the newer row's balance minus the newer row's amount. Two queries.
    """
    page = keyset_paginate(
        ledger_queryset(merchant=merchant), cursor=cursor, time_field="created_at"
    )
    if page.items:
        top = page.items[0]
        upto = (
            LedgerEntry.objects.filter(merchant=merchant)
            .filter(Q(created_at__lt=top.created_at) | Q(created_at=top.created_at, id__lte=top.pk))
            .aggregate(total=Sum("amount"))["total"]
            or ZERO
        )
        balance = money(upto)
        for entry in page.items:
            entry.balance = balance
            balance = money(balance - entry.amount)
    return page
