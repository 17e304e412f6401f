"""What the demo builders share: the build's context and the plan of each order's story.

A plan is drawn first (who buys what, which carrier, what happens to the parcel); the
builders then turn it into rows through the services, in the order things happened.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from carriers.models import Carrier
from orders.models import Merchant, Order, YinzundaPurchase
from waybills.models import EventCode, Waybill

from .places import City
from .reference import DemoMerchant


@dataclass(frozen=True)
class ClaimScenario:
    """One claim's story: carrier, breach, how the parcel was delivered and what happened next."""

    carrier: str
    complaint_type: str | None  # None: opened by tracking evidence, no complaint
    method: str  # how the parcel was delivered
    filed_days_ago: float
    steps: tuple[tuple[str, float], ...] = ()  # (action, hours after the claim opened)
    waited_days: float = 0  # days between the last scan and the complaint (a late one is refused)


@dataclass(frozen=True)
class EventRow:
    """One scan as the carrier will push it."""

    code: str
    at: datetime
    location: str
    method: str = ""
    proof_type: str = ""
    proof_url: str = ""
    note: str = ""


@dataclass(frozen=True)
class ComplaintPlan:
    """A buyer's complaint: filed at `filed_at`, routed a few seconds later unless `routed` is False."""

    plan: Plan
    complaint_type: str
    filed_at: datetime
    routed: bool = True


@dataclass
class Plan:
    """One order with its waybill, purchase and tracking history."""

    spec: DemoMerchant
    merchant: Merchant
    created_at: datetime
    city: City
    district: str
    name: str
    phone: str
    address: str
    amount: Decimal
    shipped_at: datetime | None = None  # when the merchant printed the waybill
    carrier: Carrier | None = None  # None: not shipped yet
    platform: bool = True  # shipped on a platform e-waybill
    wants_tier: bool = False  # the merchant tries to buy Yinzunda for it
    cancels_tier: bool = False  # ... and cancels before pickup
    scenario: ClaimScenario | None = None
    filed_at: datetime | None = None  # when the scenario's complaint is filed
    events: list[EventRow] = field(default_factory=list)
    order: Order | None = None
    waybill: Waybill | None = None
    purchase: YinzundaPurchase | None = None

    @property
    def purchase_at(self) -> datetime:
        """The merchant buys the tier just after printing the waybill, well before pickup."""
        return self.shipped_at + timedelta(minutes=20)

    @property
    def covered(self) -> bool:
        """The tier was bought and kept (a cancelled purchase covers nothing)."""
        return self.purchase is not None and self.purchase.status == YinzundaPurchase.Status.ACTIVE

    def delivered(self) -> bool:
        return any(e.code == EventCode.DELIVERED for e in self.events)


@dataclass
class DemoContext:
    """One build: the seeded random source, "now", the reference rows and running counters."""

    rng: random.Random
    now: datetime
    carriers: dict[str, Carrier]
    merchants: dict[str, Merchant]
    admin: object
    buyers: dict[int, object]  # merchant id -> the user who buys the tier
    serial_by_day: dict[str, int] = field(default_factory=dict)
    event_serial: dict[str, int] = field(default_factory=dict)

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.randint(int(low * 60), int(high * 60)))
