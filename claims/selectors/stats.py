"""A merchant's figures per carrier and per day: shipped, door-delivery and complaint rates, claims, compensation."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import LedgerEntry, Merchant
from orders.selectors.orders import local_day_start
from orders.selectors.rollups import rollup_split
from waybills.models import DeliveryMethod, Waybill
from yinzunda.db import index_lookups_only
from yinzunda.money import money
from yinzunda.rollups import rollups_kept

from ..models import Claim, Complaint, MerchantCarrierDay

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


def carrier_stats(*, merchant: Merchant, since: datetime, until: datetime | None = None) -> list[CarrierStats]:
    """Per carrier: orders placed since `since` (shipped, door-delivery and complaint rates),
    claims opened since then, and compensation credited since then (and before `until`).

    The full computation: four grouped queries over the period's rows. The overview reads
    `carrier_stats_rollup`, which uses this for at most one partial day; tests compare the two.
    """
    bounds = {} if until is None else {"order__created_at__lt": until}
    waybills = (
        Waybill.objects.filter(order__merchant=merchant, order__created_at__gte=since, **bounds)
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
            order__merchant=merchant, order__created_at__gte=since, waybill__isnull=False, **bounds
        )
        .order_by()
        .values("waybill__carrier_id", "waybill__carrier__name")
        .annotate(n=Count("id"))
    )
    with index_lookups_only():
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
        Claim.objects.filter(merchant=merchant, opened_at__gte=since, **({} if until is None else {"opened_at__lt": until}))
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
            merchant=merchant, kind=LedgerEntry.Kind.COMPENSATION, created_at__gte=since,
            **({} if until is None else {"created_at__lt": until}),
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


ROLLUP_COUNTS = ("shipped", "delivered", "door", "complaints")


def carrier_stats_rollup(*, merchant: Merchant, since: datetime) -> list[CarrierStats]:
    """carrier_stats from the per-carrier daily rollup (MerchantCarrierDay): one grouped query
    over the window's whole UTC days, plus the full computation over the partial day before
    them (at most one day of this merchant's rows). Equal to carrier_stats(since=since)."""
    if not rollups_kept():
        return carrier_stats(merchant=merchant, since=since)
    day, midnight = rollup_split(since)
    claim_columns = {status: f"claims_{status}" for status in Claim.Status.values}
    rows = (
        MerchantCarrierDay.objects.filter(merchant=merchant, day__gte=day)
        .order_by()
        .values("carrier_id", "carrier__name")
        .annotate(**{f"sum_{c}": Sum(c) for c in (*ROLLUP_COUNTS, *claim_columns.values(), "paid")})
    )
    stats = {s.carrier_id: s for s in carrier_stats(merchant=merchant, since=since, until=midnight)}
    for row in rows:
        s = stats.setdefault(row["carrier_id"], CarrierStats(row["carrier_id"], row["carrier__name"]))
        for name in ROLLUP_COUNTS:
            setattr(s, name, getattr(s, name) + row[f"sum_{name}"])
        for status, column in claim_columns.items():
            if n := row[f"sum_{column}"] + s.claims.get(status, 0):
                s.claims[status] = n
        s.paid = money(s.paid + row["sum_paid"])
    # A carrier whose figures all cancelled out (a claim moved on, a delivery undone) is not shown,
    # as the full computation would not list it.
    live = [s for s in stats.values() if s.shipped or s.complaints or s.claims or s.paid]
    return sorted(live, key=lambda s: (-s.shipped, s.name))


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
        stats = carrier_stats_rollup(merchant=merchant, since=now - timedelta(days=days))
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
