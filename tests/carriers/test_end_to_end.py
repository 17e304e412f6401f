"""A carrier's whole day through the API: tracking opens a claim, which it sees, accepts, and is paid."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from claims.services.settlements import settlement_issue
from claims.tasks import promises_watch
from orders.models import LedgerEntry
from orders.services import purchase_create
from tests.factories import OrderFactory, WaybillFactory
from waybills.models import TrackingEvent

from .conftest import event

pytestmark = pytest.mark.django_db


def test_locker_drop_of_a_yinzunda_parcel_becomes_a_claim_the_carrier_accepts_and_pays(client_a, carrier_a):
    # given a Yinzunda parcel on a platform waybill of carrier A
    order = OrderFactory()
    waybill = WaybillFactory(carrier=carrier_a, order=order)
    purchase_create(merchant=order.merchant, order_id=order.pk)

    # when the carrier pushes its scans, the last one a locker drop
    body = client_a.push([
        event(waybill, "PICKED_UP", minutes_ago=600),
        event(waybill, "OUT_FOR_DELIVERY", minutes_ago=60),
        event(waybill, "DELIVERED", minutes_ago=5, delivery_method="locker"),
    ]).json()
    assert body == {"accepted": 3, "duplicates": 0, "rejected": []}
    # (what the after-commit enqueue runs)
    promises_watch([waybill.pk])

    # then the carrier sees the claim, with the scan as evidence and no complaint
    claims = client_a.get("/api/v1/carrier/claims?status=open").json()["results"]
    assert len(claims) == 1 and claims[0]["trigger"] == "tracking"
    detail = client_a.get(f"/api/v1/carrier/claims/{claims[0]['id']}").json()
    assert detail["complaint"] is None
    assert detail["evidence"][-1]["delivery_method"] == "locker"
    assert detail["promise"] == "door_delivery" and detail["breach"]["rule"] == "drop"
    assert detail["breach"]["source_event_id"] == TrackingEvent.objects.get(waybill=waybill, code="DELIVERED").event_id

    # it accepts; the statement is issued; it confirms the payment
    accepted = client_a.post(f"/api/v1/carrier/claims/{detail['id']}/accept", HTTP_IDEMPOTENCY_KEY="acc-1")
    assert accepted.json()["status"] == "accepted"
    settlement_issue(carrier=carrier_a, period_end=timezone.now() + timedelta(seconds=1))
    (statement,) = client_a.get("/api/v1/carrier/settlements?status=issued").json()["results"]
    assert statement["claim_ids"] == [detail["id"]]
    paid = client_a.post_json(
        f"/api/v1/carrier/settlements/{statement['id']}/confirm-payment",
        {"payment_reference": "ICBC-20261125-7781", "amount": statement["total_amount"]},
        HTTP_IDEMPOTENCY_KEY="pay-1",
    )
    assert paid.json()["status"] == "paid"
    assert client_a.get(f"/api/v1/carrier/claims/{detail['id']}").json()["status"] == "settled"
    credit = LedgerEntry.objects.get(kind="compensation", merchant=order.merchant)
    assert str(credit.amount) == statement["total_amount"]
