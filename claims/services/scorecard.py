"""The carrier scorecard's rollup: per carrier and week, computed from claims, complaints, scans,
purchases and webhook deliveries, and stored in `CarrierWeekScore`.

Grouped queries over one week at a time; durations (carrier response, acceptance to payment,
webhook lag) are read as pairs and their percentiles taken here, so the same code runs on
SQLite (`make run`) and PostgreSQL.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from carriers.models import WebhookDelivery
from orders.models import YinzundaPurchase
from waybills.models import DeliveryMethod, Waybill
from yinzunda.masking import address_region, mask_location

from ..models import CarrierWeekScore, Claim, ClaimTransition, Complaint

CARRIER_ACTIONS = (Claim.Status.ACCEPTED, Claim.Status.DISPUTED)


def week_start_of(moment: datetime) -> date:
    """Monday of the moment's week, in Beijing time."""
    local = timezone.localtime(moment).date()
    return local - timedelta(days=local.weekday())


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(week_start, datetime.min.time()))
    return start, start + timedelta(days=7)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _hours(pairs, scale: float = 3600) -> list[float]:
    return sorted((end - start).total_seconds() / scale for start, end in pairs if start and end and end >= start)


def _tier_parcels():
    return Exists(YinzundaPurchase.objects.filter(order=OuterRef("order_id"), status=YinzundaPurchase.Status.ACTIVE))


def scorecard_week_compute(*, week_start: date, now: datetime | None = None) -> int:
    """Compute and store every carrier's figures for the week; returns the rows written."""
    now = now or timezone.now()
    start, end = week_bounds(week_start)
    rows: dict[int, dict] = defaultdict(lambda: {"breaches": Counter(), "places": {"city": Counter(), "station": Counter()}})

    for r in (
        Waybill.objects.filter(delivered_at__gte=start, delivered_at__lt=end).filter(_tier_parcels())
        .order_by().values("carrier_id")
        .annotate(n=Count("id"), door=Count("id", filter=Q(delivery_method=DeliveryMethod.DOOR)))
    ):
        rows[r["carrier_id"]].update(parcels=r["n"], door=r["door"])
    for r in (
        Complaint.objects.filter(created_at__gte=start, created_at__lt=end, waybill__isnull=False)
        .order_by().values("waybill__carrier_id").annotate(n=Count("id"))
    ):
        rows[r["waybill__carrier_id"]]["complaints"] = r["n"]
    opened = Claim.objects.filter(opened_at__gte=start, opened_at__lt=end)
    for r in opened.order_by().values("carrier_id", "complaint_type").annotate(n=Count("id")):
        rows[r["carrier_id"]]["breaches"][r["complaint_type"]] += r["n"]
    for carrier_id, address, location in opened.values_list("carrier_id", "order__recipient_address", "source_event__location"):
        _province, city = address_region(address)
        places = rows[carrier_id]["places"]
        places["city"][city or "—"] += 1
        if location:
            places["station"][mask_location(location)] += 1
    for r in (
        ClaimTransition.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by().values("claim__carrier_id", "to_status").annotate(n=Count("id"))
    ):
        rows[r["claim__carrier_id"]][f"claims_{r['to_status']}"] = r["n"]

    first_answers = (
        opened.annotate(answered_at=Min("transitions__created_at", filter=Q(transitions__to_status__in=CARRIER_ACTIONS)))
        .values_list("carrier_id", "opened_at", "answered_at")
    )
    responses: dict[int, list] = defaultdict(list)
    for carrier_id, opened_at, answered_at in first_answers:
        responses[carrier_id].append((opened_at, answered_at))
    payments: dict[int, list] = defaultdict(list)
    for carrier_id, resolved_at, settled_at in (
        ClaimTransition.objects.filter(to_status=Claim.Status.SETTLED, created_at__gte=start, created_at__lt=end)
        .values_list("claim__carrier_id", "claim__resolved_at", "created_at")
    ):
        payments[carrier_id].append((resolved_at, settled_at))
    deliveries = WebhookDelivery.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
        status=WebhookDelivery.Status.NO_ENDPOINT  # recorded for catch-up only: never meant to be sent
    )
    for r in deliveries.order_by().values("carrier_id").annotate(
        n=Count("id"), ok=Count("id", filter=Q(status=WebhookDelivery.Status.DELIVERED))
    ):
        rows[r["carrier_id"]].update(webhooks_total=r["n"], webhooks_delivered=r["ok"])
    lags: dict[int, list] = defaultdict(list)
    for carrier_id, created_at, delivered_at in deliveries.filter(delivered_at__isnull=False).values_list(
        "carrier_id", "created_at", "delivered_at"
    ):
        lags[carrier_id].append((created_at, delivered_at))

    with transaction.atomic():
        for carrier_id, row in rows.items():
            response = _hours(responses.get(carrier_id, []))
            CarrierWeekScore.objects.update_or_create(
                carrier_id=carrier_id, week_start=week_start,
                defaults={
                    "parcels": row.get("parcels", 0), "door": row.get("door", 0),
                    "complaints": row.get("complaints", 0), "breaches": dict(row["breaches"]),
                    "claims_opened": sum(row["breaches"].values()),
                    **{f"claims_{s}": row.get(f"claims_{s}", 0)
                       for s in ("accepted", "auto_accepted", "disputed", "upheld", "dismissed")},
                    "response_p50_hours": _percentile(response, 0.5),
                    "response_p90_hours": _percentile(response, 0.9),
                    "payment_p50_hours": _percentile(_hours(payments.get(carrier_id, [])), 0.5),
                    "webhooks_total": row.get("webhooks_total", 0),
                    "webhooks_delivered": row.get("webhooks_delivered", 0),
                    "webhook_lag_p50_seconds": _percentile(_hours(lags.get(carrier_id, []), scale=1), 0.5),
                    "places": {kind: dict(counter.most_common(50)) for kind, counter in row["places"].items()},
                    "computed_at": now,
                },
            )
    return len(rows)


def scorecard_refresh(*, weeks: int = 2, now: datetime | None = None) -> int:
    """The current week and the ones before it (a late scan or ruling still moves last week)."""
    now = now or timezone.now()
    this_week = week_start_of(now)
    return sum(
        scorecard_week_compute(week_start=this_week - timedelta(weeks=back), now=now) for back in range(weeks)
    )
