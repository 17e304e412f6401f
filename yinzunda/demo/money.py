"""Demo settlements: statements issued through claims.services, one of them paid.

The fees and refunds of the tier are booked by the purchase services (see orders.py) and the
compensation by the payment confirmation here, so the ledger balances as in production.
"""
from __future__ import annotations

from datetime import timedelta

from claims.services.settlements import settlement_confirm_payment, settlement_issue

from .plans import DemoContext

# carrier: (state, period end days ago). ZTO has paid today; YTO's statement is unpaid.
SETTLEMENTS = {"ZTO": ("paid", 5), "YTO": ("issued", 2)}


def settlements_issue(ctx: DemoContext) -> None:
    for code, (state, days_ago) in SETTLEMENTS.items():
        carrier = ctx.carriers[code]
        period_end = ctx.now - timedelta(days=days_ago)
        settlement = settlement_issue(carrier=carrier, period_end=period_end, now=period_end + timedelta(hours=2))
        if settlement is not None and state == "paid":
            settlement_confirm_payment(
                settlement_id=settlement.pk, carrier=carrier,
                payment_reference=f"CMB{ctx.rng.randrange(10**12):012d}", now=ctx.now,
            )
