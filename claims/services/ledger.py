"""The ledger's balance check: what merchants were credited and charged against claims, purchases
and settlements. Run by a periodic task; a disagreement is an error for operators."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from orders.models import LedgerEntry, YinzundaPurchase
from yinzunda.money import money

from ..errors import LedgerOutOfBalance
from ..models import Claim, Settlement

# Each pair must be equal: (ledger side, source side).
BALANCED_PAIRS = (
    ("compensation_ledger", "compensation_claims"),
    ("compensation_ledger", "paid_settlements"),
    ("fees_ledger", "fees_purchases"),
    ("refunds_ledger", "refunds_purchases"),
)


def ledger_totals() -> dict[str, Decimal]:
    """Ledger totals beside the claims, purchases and settlements they must equal."""

    def total(qs, field="amount") -> Decimal:
        return money(qs.aggregate(s=Sum(field))["s"] or 0)

    return {
        "compensation_ledger": total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.COMPENSATION)),
        # Sandbox carriers' claims and statements move no money (carriers.sandbox).
        "compensation_claims": total(Claim.objects.filter(status=Claim.Status.SETTLED, carrier__is_sandbox=False)),
        "fees_ledger": -total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.FEE)),
        "fees_purchases": total(YinzundaPurchase.objects.all(), "fee"),
        "refunds_ledger": total(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.FEE_REFUND)),
        "refunds_purchases": total(YinzundaPurchase.objects.filter(status=YinzundaPurchase.Status.CANCELLED), "fee"),
        "paid_settlements": total(
            Settlement.objects.filter(status=Settlement.Status.PAID, carrier__is_sandbox=False), "total_amount"
        ),
    }


def ledger_balance_verify() -> dict[str, Decimal]:
    """The totals, or `LedgerOutOfBalance` naming every pair that disagrees."""
    totals = ledger_totals()
    broken = [f"{a}={totals[a]} != {b}={totals[b]}" for a, b in BALANCED_PAIRS if totals[a] != totals[b]]
    if broken:
        raise LedgerOutOfBalance("; ".join(broken))
    return totals
