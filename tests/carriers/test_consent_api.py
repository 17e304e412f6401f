"""Carriers and consent: evidence with a drop scan or a dispute is a carrier-asserted record,
announced to the carrier, shown on the claim; it makes a claim disputable, never void."""
from __future__ import annotations

import pytest

from carriers.models import WebhookDelivery
from claims.models import Claim
from claims.services.watcher import promises_watch
from orders.services import purchase_create
from waybills.models import DeliveryConsent

from .conftest import event

pytestmark = pytest.mark.django_db


def _hooked(waybill):
    waybill.carrier.webhook_url = "https://carrier.example/hook"
    waybill.carrier.save()
    return waybill


def test_a_carrier_attaches_consent_evidence_to_a_drop_scan(client_a, waybill_a):
    _hooked(waybill_a)
    body = client_a.push([
        event(waybill_a, "DELIVERED", delivery_method="locker", consent_evidence="买家短信回复：放柜子", event_id="d-1"),
        event(waybill_a, "DELIVERED", delivery_method="door", consent_evidence="x", event_id="d-2"),
    ]).json()
    assert body["accepted"] == 1 and body["rejected"][0]["field"] == "consent_evidence"
    consent = DeliveryConsent.objects.get()
    assert (consent.source, consent.channel, consent.method, consent.carrier_id) == (
        "carrier", "scan", "locker", waybill_a.carrier_id)
    assert consent.tracking_event.event_id == "d-1"
    assert client_a.push([event(waybill_a, "DELIVERED", delivery_method="locker", consent_evidence="again",
                                event_id="d-1")]).json()["duplicates"] == 1
    assert DeliveryConsent.objects.count() == 1
    assert WebhookDelivery.objects.filter(event_type="consent.recorded").count() == 1


def test_carrier_asserted_consent_leaves_the_claim_open_and_shows_on_it(client_a, waybill_a):
    purchase_create(merchant=waybill_a.order.merchant, order_id=waybill_a.order_id)
    client_a.push([event(waybill_a, "DELIVERED", delivery_method="station", consent_evidence="通话记录 123")])
    (claim_id,) = promises_watch(waybill_ids=[waybill_a.pk])
    detail = client_a.get(f"/api/v1/carrier/claims/{claim_id}").json()
    assert detail["status"] == "open" and detail["breach"]["carrier_consent"] is True
    assert "快递公司称已获同意" in detail["breach"]["text"]
    assert detail["consents"][0]["evidence"] == "通话记录 123"
    assert {p["rule"] for p in detail["promises"]} >= {"drop"}
    # the audit row's evidence reads like the claim's breach: the carrier's event id, +08:00
    (opened,) = detail["history"]
    assert opened["evidence"] == [{"kind": "breach", **detail["breach"]}]
    assert opened["evidence"][0]["started_at"].endswith("+08:00") and isinstance(opened["evidence"][0]["source_event_id"], str)


def test_a_dispute_with_buyer_consent_evidence_is_recorded_as_carrier_consent(client_a, waybill_a):
    purchase_create(merchant=waybill_a.order.merchant, order_id=waybill_a.order_id)
    client_a.push([event(waybill_a, "DELIVERED", delivery_method="locker")])
    (claim_id,) = promises_watch(waybill_ids=[waybill_a.pk])
    response = client_a.post_json(f"/api/v1/carrier/claims/{claim_id}/dispute", {
        "reason": "买家电话同意", "evidence": [{"type": "buyer_consent", "note": "通话 10:02"}]})
    assert response.status_code == 200
    consent = DeliveryConsent.objects.get()
    assert (consent.source, consent.channel, consent.method, consent.evidence) == ("carrier", "dispute", "locker", "通话 10:02")
    assert Claim.objects.get().status == "disputed"
