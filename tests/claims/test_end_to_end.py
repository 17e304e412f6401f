"""The issue's "done when": a phone buyer's complaint becomes a claim the carrier sees, is
auto-accepted at its deadline when the carrier stays silent, and the next settlement pays."""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from carriers.services import carrier_token_create
from claims import tasks
from claims.models import Claim, Settlement
from orders.models import LedgerEntry
from tests.claims.test_routing import deliver, yinzunda_waybill

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def test_station_drop_complaint_is_claimed_auto_accepted_settled_and_paid_once(client, django_capture_on_commit_callbacks):
    cache.clear()
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    _, token = carrier_token_create(carrier=waybill.carrier)
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    # a buyer on a phone proves the order and files, double-clicking
    client.post(reverse("buyer:complaint_start"), {"number": waybill.number, "phone_last4": waybill.order.recipient_phone[-4:]}, HTTP_USER_AGENT=PHONE)
    form = {"complaint_type": "locker_without_consent", "description": "放驿站了", "submission_token": str(uuid.uuid4())}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("buyer:complaint_new"), form, HTTP_USER_AGENT=PHONE)
        second = client.post(reverse("buyer:complaint_new"), form, HTTP_USER_AGENT=PHONE)
    assert first.status_code == second.status_code == 302 and first.url == second.url

    # the carrier sees the claim through its API
    listing = client.get("/api/v1/carrier/claims", **api).json()
    (item,) = listing["results"]
    assert item["status"] == "open" and item["amount"] == "5.00"

    # the carrier stays silent past its deadline: beat auto-accepts
    Claim.objects.filter(pk=item["id"]).update(deadline_at=timezone.now() - timedelta(seconds=1))
    tasks.claims_auto_accept_overdue()
    assert Claim.objects.get(pk=item["id"]).status == Claim.Status.AUTO_ACCEPTED

    # the next daily settlement gathers it; the carrier confirms payment through the API
    Claim.objects.filter(pk=item["id"]).update(resolved_at=timezone.now() - timedelta(days=1))
    (settlement_id,) = tasks.settlements_issue_daily()
    url = f"/api/v1/carrier/settlements/{settlement_id}/confirm-payment"
    paid = client.post(url, {"payment_reference": "BANK-1"}, content_type="application/json", **api)
    again = client.post(url, {"payment_reference": "BANK-2"}, content_type="application/json", **api)
    assert paid.status_code == 200 and again.status_code == 409
    assert Settlement.objects.get(pk=settlement_id).status == Settlement.Status.PAID
    entries = LedgerEntry.objects.filter(kind="compensation", merchant=waybill.order.merchant)
    assert [e.amount for e in entries] == [Decimal("5.00")]
    assert Claim.objects.count() == 1


def test_station_scan_pushed_through_the_events_api_opens_a_claim_without_complaint(
    client, django_capture_on_commit_callbacks, settings
):
    settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING = True
    waybill = yinzunda_waybill()
    _, token = carrier_token_create(carrier=waybill.carrier)
    event = {
        "event_id": "E-1", "waybill_number": waybill.number, "code": "DELIVERED",
        "occurred_at": timezone.localtime().isoformat(), "location": "文三路驿站", "delivery_method": "station",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/carrier/events", {"events": [event]}, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        replay = client.post("/api/v1/carrier/events", {"events": [event]}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and replay.status_code == 200
    claim = Claim.objects.get()
    assert claim.trigger == Claim.Trigger.TRACKING and claim.complaint_type == "locker_without_consent"
    assert claim.source_event.event_id == "E-1"
