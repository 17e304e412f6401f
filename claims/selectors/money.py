"""What the tier cost and earned a merchant: fees, compensation received and pending, balance."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from orders.models import LedgerEntry, Merchant
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
    """Two aggregate queries: the ledger by kind, and payable claims not yet settled."""
    ledger = LedgerEntry.objects.filter(merchant=merchant)
    claims = Claim.objects.filter(merchant=merchant, status__in=Claim.PAYABLE)
    if since is not None:
        ledger = ledger.filter(created_at__gte=since)
        claims = claims.filter(resolved_at__gte=since)
    sums = {
        r["kind"]: r["total"] or ZERO
        for r in ledger.order_by().values("kind").annotate(total=Sum("amount"))
    }
    pending = claims.aggregate(total=Sum("amount"))["total"] or ZERO
    fees = -(sums.get(LedgerEntry.Kind.FEE, ZERO) + sums.get(LedgerEntry.Kind.FEE_REFUND, ZERO))
    return MoneySummary(
        fees_paid=money(fees),
        compensation_received=money(sums.get(LedgerEntry.Kind.COMPENSATION, ZERO)),
        compensation_pending=money(pending),
        reversals=money(sums.get(LedgerEntry.Kind.REVERSAL, ZERO)),
        balance=money(sum(sums.values(), ZERO)),
    )
