"""A merchant's figures per carrier and per day: shipped, door-delivery and complaint rates, claims, compensation."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import LedgerEntry, Merchant
from orders.selectors.orders import local_day_start
from waybills.models import DeliveryMethod, Waybill
from yinzunda.money import money

from ..models import Claim, Complaint

ZERO = Decimal("0.00")


@dataclass
class CarrierStats:
    carrier_id: int
    name: str
    shipped: int = 0
    delivered: int = 0
    door: int = 0
    complaints: int = 0
    claims: dict[str, int] = field(default_factory=dict)
    paid: Decimal = ZERO

    @property
    def complaint_rate(self) -> Decimal | None:
        return (
            (Decimal(self.complaints) * 100 / self.shipped).quantize(Decimal("0.01"))
            if self.shipped
            else None
        )

    @property
    def door_rate(self) -> Decimal | None:
        return (
            (Decimal(self.door) * 100 / self.delivered).quantize(Decimal("0.1"))
            if self.delivered
            else None
        )

    @property
    def claims_total(self) -> int:
        return sum(self.claims.values())

    @property
    def claims_paid(self) -> int:
        return self.claims.get(Claim.Status.SETTLED, 0)

    @property
    def claims_payable(self) -> int:
        return sum(self.claims.get(s, 0) for s in Claim.PAYABLE)

    @property
    def claims_in_progress(self) -> int:
        return self.claims.get(Claim.Status.OPEN, 0) + self.claims.get(Claim.Status.DISPUTED, 0)

    @property
    def claims_dismissed(self) -> int:
        return self.claims.get(Claim.Status.DISMISSED, 0)


@contextmanager
def _index_lookups_only() -> Iterator[None]:
    """Run the joins inside as index lookups (nested loops), never hash joins.

    Left to itself PostgreSQL hash-joins this merchant's recent orders against a sequential
    scan of *every* waybill of the platform, so the page would slow down as other merchants
    grow. Walking the merchant's orders of the period (index `order_merchant_recent`) and
    looking each waybill up by its unique order_id keeps the work proportional to this
    merchant's period: on a million orders, 7 days went from ~125 ms to ~25 ms.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        yield


def carrier_stats(*, merchant: Merchant, since: datetime) -> list[CarrierStats]:
    """Per carrier: orders placed since `since` (shipped, door-delivery and complaint rates),
    claims opened since then, and compensation credited since then.

    Four grouped queries whatever the number of orders.
    """
    waybills = (
        Waybill.objects.filter(order__merchant=merchant, order__created_at__gte=since)
        .order_by()
        .values("carrier_id", "carrier__name")
        .annotate(
            shipped=Count("id"),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            door=Count(
                "id", filter=Q(delivered_at__isnull=False, delivery_method=DeliveryMethod.DOOR)
            ),
        )
    )
    complaints = (
        Complaint.objects.filter(
            order__merchant=merchant, order__created_at__gte=since, waybill__isnull=False
        )
        .order_by()
        .values("waybill__carrier_id", "waybill__carrier__name")
        .annotate(n=Count("id"))
    )
    with _index_lookups_only():
        waybill_rows, complaint_rows = list(waybills), list(complaints)
    stats: dict[int, CarrierStats] = {}
    for row in waybill_rows:
        stats[row["carrier_id"]] = CarrierStats(
            carrier_id=row["carrier_id"],
            name=row["carrier__name"],
            shipped=row["shipped"],
            delivered=row["delivered"],
            door=row["door"],
        )
    for row in complaint_rows:
        s = stats.setdefault(
            row["waybill__carrier_id"],
            CarrierStats(row["waybill__carrier_id"], row["waybill__carrier__name"]),
        )
        s.complaints = row["n"]
    claims = (
        Claim.objects.filter(merchant=merchant, opened_at__gte=since)
        .order_by()
        .values("carrier_id", "carrier__name", "status")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    for row in claims:
        s = stats.setdefault(
            row["carrier_id"], CarrierStats(row["carrier_id"], row["carrier__name"])
        )
        s.claims[row["status"]] = row["n"]
    # Money received in the period by credit date, like the period summary above the table
    # (a claim opened earlier and paid now counts here, as it does in the ledger).
    credits = (
        LedgerEntry.objects.filter(
            merchant=merchant, kind=LedgerEntry.Kind.COMPENSATION, created_at__gte=since
        )
        .order_by()
        .values("claim__carrier_id", "claim__carrier__name")
        .annotate(total=Sum("amount"))
    )
    for row in credits:
        s = stats.setdefault(
            row["claim__carrier_id"], CarrierStats(row["claim__carrier_id"], row["claim__carrier__name"])
        )
        s.paid = money(row["total"] or ZERO)
    return sorted(stats.values(), key=lambda s: (-s.shipped, s.name))


STATS_CACHE_SECONDS = 120


def carrier_stats_cached(
    *, merchant: Merchant, days: int, now: datetime | None = None
) -> list[CarrierStats]:
    """carrier_stats of the last `days`, kept two minutes: the morning numbers need not be live
    to the second, and a reload of the overview then costs no join over the period's orders."""
    now = now or timezone.now()
    # created_at in the key: a merchant id reused by a rebuilt database never reads old numbers.
    key = f"dashboard:carrier-stats:v2:{merchant.pk}:{merchant.created_at.timestamp():.0f}:{days}"
    stats = cache.get(key)
    if stats is None:
        stats = carrier_stats(merchant=merchant, since=now - timedelta(days=days))
        cache.set(key, stats, STATS_CACHE_SECONDS)
    return stats


def compensation_by_day(
    *, merchant: Merchant, days: int = 30, now: datetime | None = None
) -> list[tuple[date, Decimal, Decimal]]:
    """(day, compensation credited, fees net of refunds) for each of the last `days` local days."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    rows = (
        LedgerEntry.objects.filter(merchant=merchant, created_at__gte=local_day_start(first))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day", "kind")
        .annotate(total=Sum("amount"))
    )
    comp: dict[date, Decimal] = {}
    fees: dict[date, Decimal] = {}
    for r in rows:
        if r["kind"] == LedgerEntry.Kind.COMPENSATION:
            comp[r["day"]] = comp.get(r["day"], ZERO) + r["total"]
        elif r["kind"] in (LedgerEntry.Kind.FEE, LedgerEntry.Kind.FEE_REFUND):
            fees[r["day"]] = fees.get(r["day"], ZERO) - r["total"]
    return [
        (
            first + timedelta(days=i),
            money(comp.get(first + timedelta(days=i), ZERO)),
            money(fees.get(first + timedelta(days=i), ZERO)),
        )
        for i in range(days)
    ]
