"""The demo world of `manage.py seed_demo`: carriers, merchants, orders, tracking, complaints, claims.

Deterministic: one `random.Random(DEMO_SEED)` drives every choice and times are offsets from
"now", so two builds at the same moment have the same shape. Every row past the reference
data is written by the services, in the order the story happened and at the moment it
happened (their `now`), so the routing, the claim rules and the ledger are production's own:
  reference.py  carriers, tariffs, merchants, logins, tokens
  orders.py     orders, waybills, the Yinzunda tier (bought, some cancelled)
  tracking.py   scans pushed in batches; the tracking rule opens claims
  complaints.py buyers' complaints, routed by claims.routing
  claims.py     claim stories: carriers' answers, rulings
  money.py      settlements, one paid
"""
from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from carriers.models import Carrier
from orders.models import Merchant, MerchantMember, Order, YinzundaPurchase

from .claims import SCENARIOS, scenario_cover, scenario_plan, scenario_play
from .complaints import complaint_picks, complaints_file
from .money import settlements_issue
from .orders import orders_save, random_plans, ship, tier_buy
from .plans import ComplaintPlan, DemoContext, Plan
from .reference import (
    ADMIN_USERNAME,
    MERCHANT_CODES,
    carriers_ensure,
    logins_ensure,
    merchants_ensure,
    tokens_issue,
)
from .tracking import random_timeline, tracking_push

DEMO_SEED = 20261125
REFUNDED_AT_LEAST = 2  # cancelled purchases, whatever the size


@dataclass
class DemoSummary:
    created: bool
    orders: int
    logins: list[tuple[str, str, str]]  # (role, username, password)
    tokens: list[tuple[str, str]]  # (carrier code, raw token)


def demo_world_exists() -> bool:
    return Order.objects.filter(merchant__code=MERCHANT_CODES[0]).exists()


def demo_buyer_samples(*, limit: int = 3) -> list[tuple[str, str, str]]:
    """Demo orders a visitor can complain about as a buyer: (order number, phone last 4, what happened).

    Yinzunda parcels delivered within the complaint window come first (a covered complaint opens
    a claim); orders without the tier follow (their complaints go to the merchant).
    """
    delivered = Order.objects.filter(
        merchant__code__in=MERCHANT_CODES,
        waybill__delivered_at__gte=timezone.now() - timedelta(days=settings.YINZUNDA_COMPLAINT_WINDOW_DAYS),
        complaints__isnull=True,
        claims__isnull=True,
    )
    with_tier = delivered.filter(purchases__status=YinzundaPurchase.Status.ACTIVE)
    without_tier = delivered.exclude(purchases__status=YinzundaPurchase.Status.ACTIVE)
    samples = []
    for queryset, label in ((with_tier, "音尊达"), (without_tier, "未购买音尊达")):
        rows = queryset.order_by("order_number").values_list("order_number", "recipient_phone", "waybill__delivery_method")
        samples += [(number, phone[-4:], f"{label} · {method}") for number, phone, method in rows[:limit]]
    return samples


def demo_world_build(*, orders: int = 3000, now: datetime | None = None) -> DemoSummary:
    """Build the demo world once; a rerun only refreshes the printed logins and carrier tokens."""
    now = now or timezone.now()
    # The demo world e-mails nobody: notifications stay in the dashboard inbox.
    dummy_mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    with dummy_mail, _quiet_eager_tasks(), transaction.atomic():
        carriers = carriers_ensure()
        merchants = merchants_ensure()
        logins = logins_ensure(merchants)
        created = False
        if not demo_world_exists():
            _build(_context(now, carriers, merchants), orders)
            created = True
        tokens = tokens_issue(carriers)
    count = Order.objects.filter(merchant__code__in=MERCHANT_CODES).count()
    return DemoSummary(created=created, orders=count, logins=logins, tokens=tokens)


def _context(now: datetime, carriers: dict[str, Carrier], merchants: dict[str, Merchant]) -> DemoContext:
    members = MerchantMember.objects.select_related("user").filter(merchant__in=merchants.values())
    return DemoContext(
        rng=random.Random(DEMO_SEED), now=now, carriers=carriers, merchants=merchants,
        admin=get_user_model().objects.get(username=ADMIN_USERNAME),
        buyers={m.merchant_id: m.user for m in members},
    )


def _build(ctx: DemoContext, count: int) -> None:
    """Draw the plans, then write them in the order things happen to a parcel."""
    plans = random_plans(ctx, count)
    repeat = max(1, count // 1000)
    stories = [scenario_plan(ctx, s) for _ in range(repeat) for s in SCENARIOS]
    everything = sorted(plans + stories, key=lambda p: p.created_at)
    orders_save(ctx, everything)
    ship(ctx, everything)
    _tiers_buy(ctx, everything)
    covered = [scenario_cover(ctx, plan) for plan in stories]
    stories = [plan for plan in covered if plan is not None]
    for plan in plans:
        if plan.waybill is not None:
            plan.events = random_timeline(ctx, plan)
    known = {id(plan) for plan in everything}
    tracking_push(ctx, everything + [plan for plan in stories if id(plan) not in known])  # with replacements
    complaints = complaint_picks(ctx, plans, repeat) + [
        ComplaintPlan(plan, plan.scenario.complaint_type, plan.filed_at) for plan in stories if plan.filed_at
    ]
    complaints_file(ctx, complaints)
    for plan in stories:
        scenario_play(ctx, plan)
    settlements_issue(ctx)


def _tiers_buy(ctx: DemoContext, plans: list[Plan]) -> None:
    """The merchants buy the tier in time order (an enforced quota counts the day's purchases)."""
    refunded = 0
    for plan in sorted((p for p in plans if p.wants_tier), key=lambda p: p.purchase_at):
        cancel = plan.scenario is None and (plan.cancels_tier or refunded < REFUNDED_AT_LEAST)
        if tier_buy(ctx, plan, cancel=cancel) and cancel:
            refunded += 1


@contextmanager
def _quiet_eager_tasks() -> Iterator[None]:
    """Eager Celery (no broker) logs a line per notification task: not news during a seed."""
    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
