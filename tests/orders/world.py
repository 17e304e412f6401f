"""Builders of dashboard test data through the real services: shipped orders, deliveries, claims."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from claims.models import Claim
from claims.services.claims import claim_accept, claim_open
from claims.services.settlements import settlement_confirm_payment, settlement_issue
from orders.services import purchase_create
from tests.factories import ComplaintFactory, OrderFactory, WaybillFactory
from waybills.models import TrackingEvent, Waybill

PASSWORD = "pass-word-123"


def shipped_order(*, merchant, carrier, created_at=None, **waybill_kwargs):
    order = OrderFactory(merchant=merchant, **({"created_at": created_at} if created_at else {}))
    WaybillFactory(order=order, carrier=carrier, **waybill_kwargs)
    return order


def deliver(order, *, method="door", proof_url="https://proof.example/p.jpg", at=None):
    at = at or timezone.now()
    waybill = order.waybill
    TrackingEvent.objects.create(
        carrier=waybill.carrier,
        waybill=waybill,
        event_id=f"ev-{waybill.pk}-d",
        code="DELIVERED",
        occurred_at=at,
        location="杭州西湖驿站",
        delivery_method=method,
        proof_type="photo",
        proof_url=proof_url,
    )
    Waybill.objects.filter(pk=waybill.pk).update(
        status=Waybill.Status.DELIVERED, delivery_method=method, delivered_at=at, status_at=at
    )


def paid_claim(*, order, amount=Decimal("5.00")) -> Claim:
    """A complaint → claim → accepted → settled and paid: the merchant is credited `amount`."""
    waybill = order.waybill
    complaint = ComplaintFactory(
        order=order, waybill=waybill, status="claim_opened", routed_at=timezone.now()
    )
    tariff = waybill.carrier.tariffs.first()
    claim = claim_open(
        waybill=waybill,
        complaint_type="not_to_door",
        tariff=tariff,
        amount=amount,
        complaint=complaint,
    )
    claim_accept(claim_id=claim.pk, carrier=waybill.carrier)
    settlement = settlement_issue(
        carrier=waybill.carrier, period_end=timezone.now() + timedelta(seconds=1)
    )
    settlement_confirm_payment(
        settlement_id=settlement.pk, carrier=waybill.carrier, payment_reference="PAY-1"
    )
    claim.refresh_from_db()
    return claim


def open_claim(*, order, amount=Decimal("5.00")) -> Claim:
    waybill = order.waybill
    complaint = ComplaintFactory(
        order=order, waybill=waybill, status="claim_opened", routed_at=timezone.now()
    )
    return claim_open(
        waybill=waybill,
        complaint_type="not_to_door",
        tariff=waybill.carrier.tariffs.first(),
        amount=amount,
        complaint=complaint,
    )


def buy(order):
    return purchase_create(merchant=order.merchant, order_id=order.pk)
