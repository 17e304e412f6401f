"""Demo orders: drawn at random, saved, shipped on waybills and (some) covered by Yinzunda.

Orders arrive from the shop platforms, so they are plain rows; waybills are issued through
waybills.services and the tier is bought (and cancelled) through orders.services, which
refuse what they would refuse a merchant (ineligible parcels, an enforced quota).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from orders.errors import PurchaseRefused
from orders.models import Order
from orders.services import purchase_cancel, purchase_create
from waybills.numbers import format_waybill_number
from waybills.services.external import waybill_record_external
from waybills.services.issue import IssueRequest, waybills_issue

from .places import CITIES, mobile_number, person_name, street_address
from .plans import DemoContext, Plan
from .reference import CARRIERS, MERCHANTS, DemoMerchant

# Waybills printed on a merchant's own carrier account get serials far above the platform's.
EXTERNAL_SERIAL_BASE = 7_000_000_000
# The shops print their waybills once a day (local time); orders of the last half hour wait.
SHIPPING_RUNS = (time(16, 0),)
PACKING = timedelta(minutes=30)


def shipping_run_after(moment: datetime) -> datetime:
    """The first shipping run an order placed at `moment` makes."""
    ready = timezone.localtime(moment + PACKING)
    for day in range(2):
        for run in SHIPPING_RUNS:
            at = timezone.make_aware(datetime.combine(ready.date() + timedelta(days=day), run), ready.tzinfo)
            if at >= ready:
                return at
    raise AssertionError("unreachable: a run every day")


def plan_draw(ctx: DemoContext, spec: DemoMerchant, created_at) -> Plan:
    """A buyer somewhere in China ordering from this merchant at `created_at`."""
    rng = ctx.rng
    city = rng.choice(CITIES)
    district = rng.choice(city.districts)
    low, high = spec.price_range
    return Plan(
        spec=spec, merchant=ctx.merchants[spec.code], created_at=created_at, city=city, district=district,
        name=person_name(rng), phone=mobile_number(rng), address=street_address(rng, city, district),
        amount=Decimal(f"{rng.randint(low, high)}.{rng.choice(['00', '90', '80', '50'])}"),
        shipped_at=shipping_run_after(created_at),
    )


def random_plans(ctx: DemoContext, count: int) -> list[Plan]:
    """`count` orders over the last 30 days: most shipped, a few with the tier (some cancelled)."""
    rng = ctx.rng
    weights = [m.share for m in MERCHANTS]
    carrier_codes = [c.code for c in CARRIERS]
    carrier_weights = [c.share for c in CARRIERS]
    plans = []
    for _ in range(count):
        spec = rng.choices(MERCHANTS, weights)[0]
        created_at = ctx.now - timedelta(seconds=rng.randint(0, 30 * 86400))
        plan = plan_draw(ctx, spec, created_at)
        plans.append(plan)
        if plan.shipped_at > ctx.now or (ctx.now - created_at < timedelta(hours=30) and rng.random() < 0.3):
            continue  # not shipped yet: no waybill
        plan.carrier = ctx.carriers[rng.choices(carrier_codes, carrier_weights)[0]]
        plan.platform = rng.random() > 0.05
        # Merchants ask for the tier on some parcels; the service refuses those it cannot cover.
        plan.wants_tier = rng.random() < 0.03 and plan.purchase_at <= ctx.now
        plan.cancels_tier = plan.wants_tier and rng.random() < 0.05
    return plans


def orders_save(ctx: DemoContext, plans: list[Plan]) -> None:
    """One row per plan, numbered DY + local day + a serial of the day."""
    orders = [_order(ctx, plan) for plan in plans]
    Order.objects.bulk_create(orders, batch_size=500)


def _order(ctx: DemoContext, plan: Plan) -> Order:
    day = timezone.localtime(plan.created_at).strftime("%Y%m%d")
    ctx.serial_by_day[day] = ctx.serial_by_day.get(day, 0) + 1
    plan.order = Order(
        merchant=plan.merchant, order_number=f"DY{day}{ctx.serial_by_day[day]:06d}",
        recipient_name=plan.name, recipient_phone=plan.phone, recipient_address=plan.address,
        amount=plan.amount, created_at=plan.created_at,
    )
    return plan.order


def order_save(ctx: DemoContext, plan: Plan) -> None:
    _order(ctx, plan).save()


def ship(ctx: DemoContext, plans: list[Plan]) -> None:
    """A waybill for every shipped plan: platform-issued run by run, or recorded from the merchant's own account."""
    runs: dict[tuple[datetime, str], list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.carrier is not None and plan.platform:
            runs[(plan.shipped_at, plan.carrier.code)].append(plan)
    for (shipped_at, code), batch in sorted(runs.items()):
        waybills = waybills_issue(
            carrier=ctx.carriers[code], requests=[IssueRequest(order_id=p.order.pk, address=p.order.recipient_address) for p in batch], now=shipped_at
        )
        for plan, waybill in zip(batch, waybills, strict=True):
            plan.waybill = waybill
    for plan in plans:
        if plan.carrier is not None and not plan.platform:
            number = format_waybill_number(plan.carrier.waybill_prefix, EXTERNAL_SERIAL_BASE + ctx.rng.randrange(10**9))
            plan.waybill = waybill_record_external(
                carrier=plan.carrier, order_id=plan.order.pk, number=number, now=plan.shipped_at
            )


def tier_buy(ctx: DemoContext, plan: Plan, *, cancel: bool = False) -> bool:
    """Buy (and, if asked, cancel) the tier as the merchant's user would; False when the service refuses."""
    try:
        plan.purchase = purchase_create(
            merchant=plan.merchant, order_id=plan.order.pk, user=ctx.buyers.get(plan.merchant.pk), now=plan.purchase_at
        )
    except PurchaseRefused:
        return False
    if cancel:
        plan.purchase = purchase_cancel(
            merchant=plan.merchant, purchase_id=plan.purchase.pk, now=plan.purchase_at + timedelta(minutes=20)
        )
    return True
