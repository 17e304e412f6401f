"""A merchant's counts and sums over a window read from the daily rollup (orders.MerchantDay).

The rollup holds whole UTC days; a window [since, now] is the rollup's days from the first UTC
midnight at or after `since`, plus the rows of the partial day before it read directly (at most
one day of this merchant's rows, by index). Either way the figure equals the full count.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Sum

from yinzunda.rollups import rollups_kept

from ..models import LedgerEntry, Merchant, MerchantDay, Order

ZERO = Decimal("0.00")
LEDGER_KINDS = ("fee", "fee_refund", "compensation", "reversal")


def rollup_split(since: datetime) -> tuple[date, datetime]:
    """(first whole UTC day of the window, its midnight): rows before that midnight are read live."""
    utc = since.astimezone(UTC)
    day = utc.date() if utc.time() == time.min else utc.date() + timedelta(days=1)
    return day, datetime.combine(day, time.min, tzinfo=UTC)


def orders_since(*, merchant: Merchant, since: datetime) -> int:
    """How many orders the merchant placed at or after `since`."""
    if not rollups_kept():
        return Order.objects.filter(merchant=merchant, created_at__gte=since).count()
    day, midnight = rollup_split(since)
    rolled = MerchantDay.objects.filter(merchant=merchant, day__gte=day).aggregate(n=Sum("orders"))["n"] or 0
    live = Order.objects.filter(merchant=merchant, created_at__gte=since, created_at__lt=midnight).count()
    return rolled + live


def ledger_totals(*, merchant: Merchant, since: datetime | None = None) -> dict[str, Decimal]:
    """The merchant's ledger summed by kind (all time, or credited at or after `since`)."""
    totals = dict.fromkeys(LEDGER_KINDS, ZERO)
    if not rollups_kept():
        rows = LedgerEntry.objects.filter(merchant=merchant)
        if since is not None:
            rows = rows.filter(created_at__gte=since)
        for row in rows.order_by().values("kind").annotate(total=Sum("amount")):
            totals[row["kind"]] += row["total"]
        return totals
    rollup = MerchantDay.objects.filter(merchant=merchant)
    if since is not None:
        day, midnight = rollup_split(since)
        rollup = rollup.filter(day__gte=day)
        live = (
            LedgerEntry.objects.filter(merchant=merchant, created_at__gte=since, created_at__lt=midnight)
            .order_by().values("kind").annotate(total=Sum("amount"))
        )
        for row in live:
            totals[row["kind"]] += row["total"]
    rolled = rollup.aggregate(**{kind: Sum(kind) for kind in LEDGER_KINDS})
    for kind in LEDGER_KINDS:
        totals[kind] += rolled[kind] or ZERO
    return totals
