"""What the tier cost and earned a merchant: fees, compensation received and pending, balance."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from orders.models import LedgerEntry, Merchant
from orders.selectors.rollups import ledger_totals
from yinzunda.money import money

from ..models import Claim

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MoneySummary:
    fees_paid: Decimal  # fees charged minus refunds (a positive number: what the tier cost)
    compensation_received: Decimal
    compensation_pending: Decimal  # payable claims not yet settled
    reversals: Decimal
    balance: Decimal

    @property
    def net_benefit(self) -> Decimal:
        """What the tier earned: compensation received (and corrections) minus what it cost."""
        return money(self.compensation_received + self.reversals - self.fees_paid)


def money_summary(*, merchant: Merchant, since: datetime | None = None) -> MoneySummary:
    """The ledger by kind from the daily rollup (orders.selectors.rollups), and payable claims
    not yet settled (index `merchant, status`)."""
    claims = Claim.objects.filter(merchant=merchant, status__in=Claim.PAYABLE)
    if since is not None:
        claims = claims.filter(resolved_at__gte=since)
    sums = ledger_totals(merchant=merchant, since=since)
    pending = claims.aggregate(total=Sum("amount"))["total"] or ZERO
    fees = -(sums.get(LedgerEntry.Kind.FEE, ZERO) + sums.get(LedgerEntry.Kind.FEE_REFUND, ZERO))
    return MoneySummary(
        fees_paid=money(fees),
        compensation_received=money(sums.get(LedgerEntry.Kind.COMPENSATION, ZERO)),
        compensation_pending=money(pending),
        reversals=money(sums.get(LedgerEntry.Kind.REVERSAL, ZERO)),
        balance=money(sum(sums.values(), ZERO)),
    )
