"""The evidence dossier of one order: tracking, purchase, complaints, claims and money on one timeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q

from orders.models import LedgerEntry, Merchant, Order, YinzundaPurchase
from orders.selectors.orders import order_get
from orders.selectors.promises import promise_states
from waybills.models import DeliveryConsent, TrackingEvent, VoidedWaybill, Waybill
from waybills.promises import RuleState, breach_state
from waybills.selectors import waybill_consents

from ..models import Claim, ClaimTransition, Complaint

ZERO = Decimal("0.00")


@dataclass
class TimelineItem:
    at: datetime
    # waybill_issued | label_printed | waybill_voided | event | consent | purchase | purchase_cancel
    # | complaint | claim | settlement | ledger
    kind: str
    title: str
    detail: str = ""
    obj: Any = None
    extra: dict = field(default_factory=dict)


@dataclass
class OrderDossier:
    """Everything known about one order, for its page and its evidence package."""

    order: Order
    waybill: Waybill | None
    purchases: list[YinzundaPurchase]
    events: list[TrackingEvent]
    complaints: list[Complaint]
    claims: list[Claim]
    ledger: list[LedgerEntry]
    timeline: list[TimelineItem]
    promises: list[RuleState] = field(default_factory=list)  # each promise's clock and state now
    consents: list[DeliveryConsent] = field(default_factory=list)  # the append-only consent history

    @property
    def active_purchase(self) -> YinzundaPurchase | None:
        return next((p for p in self.purchases if p.status == YinzundaPurchase.Status.ACTIVE), None)


def order_dossier(*, merchant: Merchant, order_id: int) -> OrderDossier:
    """The order's one timeline: tracking with proof, purchases, complaints, claims with history, money."""
    order = order_get(merchant=merchant, order_id=order_id)
    waybill = getattr(order, "waybill", None)
    purchases = sorted(order.purchases.all(), key=lambda p: p.purchased_at)
    events = (
        list(TrackingEvent.objects.of_waybill(waybill).order_by("occurred_at", "id"))
        if waybill
        else []
    )
    complaints = list(
        Complaint.objects.filter(order=order)
        .prefetch_related("photos")
        .order_by("created_at", "id")
    )
    claims = list(
        Claim.objects.filter(order=order, merchant=merchant)
        .select_related("carrier", "settlement__carrier", "complaint")
        .prefetch_related(
            Prefetch("transitions", queryset=ClaimTransition.objects.order_by("created_at", "id"))
        )
        .order_by("opened_at", "id")
    )
    # By the ids already in hand: an OR across joins would scan the merchant's whole ledger.
    ledger = (
        list(
            LedgerEntry.objects.filter(merchant=merchant)
            .filter(
                Q(purchase_id__in=[p.pk for p in purchases])
                | Q(claim_id__in=[c.pk for c in claims])
            )
            .order_by("created_at", "id")
        )
        if purchases or claims
        else []
    )

    consents = list(waybill_consents(waybill=waybill)) if waybill else []
    active = next((p for p in purchases if p.status == YinzundaPurchase.Status.ACTIVE), None)
    promises = (
        promise_states(tariff=active.tariff, events=events, consents=consents) if waybill and active else []
    )
    for claim in claims:
        state = breach_state(claim.breach)
        claim.breach_text = state.observed_text() if state else ""
    carriers = {claim.pk: claim.carrier.name for claim in claims}
    for entry in ledger:  # in the reader's language (stored memos are in the platform's)
        entry.memo_display = entry.memo_text(order_number=order.order_number, carrier_name=carriers.get(entry.claim_id, ""))

    items: list[TimelineItem] = []
    # Shipping: every number the order had (voided ones before pickup too), and the last label print.
    for voided in VoidedWaybill.objects.filter(order=order).select_related("carrier").order_by("issued_at", "id"):
        items.append(TimelineItem(at=voided.issued_at, kind="waybill_issued", title=voided.number, obj=voided))
        items.append(TimelineItem(at=voided.voided_at, kind="waybill_voided", title=voided.number, obj=voided))
    if waybill is not None:
        items.append(TimelineItem(at=waybill.created_at, kind="waybill_issued", title=waybill.number, obj=waybill))
        if waybill.label_printed_at:
            items.append(TimelineItem(at=waybill.label_printed_at, kind="label_printed", title=waybill.number, obj=waybill))
    for consent in consents:
        items.append(TimelineItem(at=consent.recorded_at, kind="consent", title=consent.get_kind_display(), obj=consent))
    for ev in events:
        items.append(
            TimelineItem(
                at=ev.occurred_at,
                kind="event",
                title=ev.get_code_display(),
                detail=ev.location,
                obj=ev,
            )
        )
    for p in purchases:
        items.append(TimelineItem(at=p.purchased_at, kind="purchase", title="purchase", obj=p))
        if p.cancelled_at:
            items.append(
                TimelineItem(at=p.cancelled_at, kind="purchase_cancel", title="cancel", obj=p)
            )
    for c in complaints:
        items.append(
            TimelineItem(
                at=c.created_at, kind="complaint", title=c.get_complaint_type_display(), obj=c
            )
        )
    for claim in claims:
        for t in claim.transitions.all():
            items.append(
                TimelineItem(
                    at=t.created_at,
                    kind="claim",
                    title=t.get_to_status_display(),
                    obj=t,
                    extra={"claim": claim},
                )
            )
    for settlement in {c.settlement for c in claims if c.settlement is not None}:
        items.append(
            TimelineItem(at=settlement.issued_at, kind="settlement", title="issued", obj=settlement)
        )
        if settlement.paid_at:
            items.append(
                TimelineItem(at=settlement.paid_at, kind="settlement", title="paid", obj=settlement)
            )
    for entry in ledger:
        items.append(
            TimelineItem(
                at=entry.created_at, kind="ledger", title=entry.get_kind_display(), obj=entry
            )
        )
    items.sort(key=lambda i: i.at)
    return OrderDossier(
        order=order,
        waybill=waybill,
        purchases=purchases,
        events=events,
        complaints=complaints,
        claims=claims,
        ledger=ledger,
        timeline=items,
        promises=promises,
        consents=consents,
    )
