"""Webhooks a carrier can rely on (issue 11.4): every event type verified with Stripe's and the
Standard Webhooks libraries, a per-carrier increasing sequence (also under concurrency), bodies
a carrier can act on alone, and the catch-up list (also for events raised without a URL)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import yaml
from django.db import connections
from django.utils import timezone

from carriers.models import Carrier, WebhookDelivery
from carriers.services import webhook_enqueue
from carriers.tasks import webhook_events_purge
from claims.services.claims import claim_auto_accept, claim_dispute, claim_ruling
from tests.factories import CarrierFactory, UserFactory, WaybillFactory

from .conftest import event, open_claim, settle
from .receivers import CarrierEndpoint, local_receivers  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("local_receivers")
Types = WebhookDelivery.EventType


@pytest.mark.django_db
def test_every_event_type_arrives_signed_for_both_libraries_in_sequence_and_actionable(
    carrier_a, client_a, django_capture_on_commit_callbacks
):
    with CarrierEndpoint(carrier_a.webhook_secret) as receiver:
        Carrier.objects.filter(pk=carrier_a.pk).update(webhook_url=receiver.url)
        waybill = WaybillFactory(carrier=carrier_a, service_codes=["SVC-WBHOMEDELIVERY"])
        assert client_a.push([event(waybill, "DELIVERED", minutes_ago=30)]).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            opened = open_claim(waybill, description="快递放驿站了，我的电话 13812345678")  # claim.opened
            silent = open_claim(WaybillFactory(carrier=carrier_a))
            type(silent).objects.filter(pk=silent.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
            claim_auto_accept(claim_id=silent.pk)                   # claim.auto_accepted
            disputed = open_claim(WaybillFactory(carrier=carrier_a))
            claim_dispute(claim_id=disputed.pk, carrier=carrier_a, reason="已上门", evidence=[])
            claim_ruling(claim_id=disputed.pk, user=UserFactory(is_staff=True), uphold=False, reason="有签收照片")
            settlement = settle(carrier_a, [opened])                # settlement.issued
            for other in (Types.WAYBILL_ISSUED, Types.WAYBILL_SERVICE_ADDED, Types.WAYBILL_SERVICE_REMOVED,
                          Types.CONSENT_RECORDED):                  # raised by the waybill helpers' services
                webhook_enqueue(carrier=carrier_a, event_type=other,
                                payload={"waybill_number": waybill.number, "at": timezone.now()})

    bodies = [r["body"] for r in receiver.received]
    assert all(r["valid"] for r in receiver.received), [r["headers"] for r in receiver.received]
    assert {b["type"] for b in bodies} == set(Types.values)
    assert [b["sequence"] for b in bodies] == list(range(1, len(bodies) + 1))
    for got in receiver.received:
        assert got["headers"]["webhook-id"] == got["body"]["event_id"]
        assert got["body"]["created_at"].endswith("+08:00")

    by_type: dict = {}
    for body in bodies:
        by_type.setdefault(body["type"], body["data"])  # the first of each type
    claim = by_type["claim.opened"]
    assert claim["claim_id"] == opened.pk and claim["trigger"] == "complaint"
    assert claim["complaint"]["reference"] == opened.complaint.reference
    assert claim["complaint"]["type"] == opened.complaint_type
    assert "13812345678" not in claim["complaint"]["description"]  # masked as in the API
    assert [e["code"] for e in claim["evidence"]] == ["DELIVERED"]
    assert claim["evidence"][0]["occurred_at"].endswith("+08:00")
    assert claim["deadline_at"].endswith("+08:00") and claim["amount"] == "5.00"
    assert by_type["claim.auto_accepted"]["status"] == "auto_accepted"
    assert by_type["claim.resolved"]["status"] == "dismissed" and by_type["claim.resolved"]["reason"] == "有签收照片"
    issued = by_type["settlement.issued"]
    # the auto-accepted claim is payable too: both are on the statement
    assert issued["settlement_id"] == settlement.pk and issued["claim_ids"] == sorted([opened.pk, silent.pk])
    assert issued["period_start"].endswith("+08:00") and issued["period_end"].endswith("+08:00")
    assert issued["total_amount"] == "10.00" and issued["currency"] == "CNY"
    assert by_type["waybill.issued"]["at"].endswith("+08:00")


@pytest.mark.django_db
def test_an_unknown_event_type_is_refused(carrier_a):
    with pytest.raises(ValueError, match="unknown webhook event type"):
        webhook_enqueue(carrier=carrier_a, event_type="claim.exploded", payload={})


@pytest.mark.django_db(transaction=True)
def test_sequences_are_gapless_and_unique_per_carrier_under_concurrency():
    carrier, other = CarrierFactory(code="ZTO", waybill_prefix="ZT"), CarrierFactory(code="YTO", waybill_prefix="YT")
    errors: list[Exception] = []

    def raise_five(target) -> None:
        try:
            for n in range(5):
                webhook_enqueue(carrier=target, event_type="waybill.issued", payload={"n": n})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=raise_five, args=(carrier if i % 4 else other,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    mine = sorted(WebhookDelivery.objects.filter(carrier=carrier).values_list("sequence", flat=True))
    theirs = sorted(WebhookDelivery.objects.filter(carrier=other).values_list("sequence", flat=True))
    assert mine == list(range(1, 31)) and theirs == list(range(1, 11))
    for delivery in WebhookDelivery.objects.all():
        assert delivery.payload["sequence"] == delivery.sequence


@pytest.mark.django_db
def test_catch_up_lists_every_event_also_those_raised_without_a_url(carrier_a, carrier_b, client_a):
    # given events raised while carrier A had no URL, and one of carrier B
    raised = [webhook_enqueue(carrier=carrier_a, event_type="waybill.issued", payload={"n": n}) for n in range(5)]
    webhook_enqueue(carrier=carrier_b, event_type="waybill.issued", payload={"n": 99})
    assert {d.status for d in raised} == {"no_endpoint"}

    first = client_a.get("/api/v1/carrier/webhook-events?page_size=2").json()
    assert [e["sequence"] for e in first["results"]] == [1, 2]
    assert first["results"][0]["event_id"] == raised[0].event_id
    assert first["results"][0]["type"] == "waybill.issued" and first["results"][0]["data"] == {"n": 0}
    assert first["results"][0]["delivery_status"] == "no_endpoint"
    assert first["results"][0]["created_at"].endswith("+08:00")
    second = client_a.get(first["next"]).json()
    assert [e["sequence"] for e in second["results"]] == [3, 4]
    third = client_a.get("/api/v1/carrier/webhook-events", {"cursor": second["next_cursor"], "page_size": 2}).json()
    assert [e["sequence"] for e in third["results"]] == [5] and third["next_cursor"] is None

    after = client_a.get("/api/v1/carrier/webhook-events?after_sequence=3").json()
    assert [e["sequence"] for e in after["results"]] == [4, 5]
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in raised[:3]]).update(created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = client_a.get("/api/v1/carrier/webhook-events", {"since": since}).json()
    assert [e["sequence"] for e in recent["results"]] == [4, 5]  # carrier B's event never shows


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["cursor=garbage", "since=yesterday", "since=2026-01-01T00:00:00", "after_sequence=-1",
                                   "after_sequence=١٢", "page_size=0"])
def test_catch_up_bad_parameters_are_a_400_naming_the_field(client_a, query):
    response = client_a.get(f"/api/v1/carrier/webhook-events?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_catch_up_needs_a_token(client):
    assert client.get("/api/v1/carrier/webhook-events").status_code == 401


@pytest.mark.django_db
def test_events_are_kept_thirty_days_then_purged_except_pending_ones(carrier_a):
    old, kept, pending = (webhook_enqueue(carrier=carrier_a, event_type="waybill.issued", payload={}) for _ in range(3))
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=32))
    WebhookDelivery.objects.filter(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=30))
    WebhookDelivery.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=40), status="pending")
    assert webhook_events_purge() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {kept.pk, pending.pk}


@pytest.mark.django_db
def test_the_catch_up_endpoint_is_in_the_openapi_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operation = schema["paths"]["/api/v1/carrier/webhook-events"]["get"]
    assert operation["operationId"] == "webhook_events_list"
    assert {p["name"] for p in operation["parameters"]} >= {"since", "after_sequence", "cursor", "page_size"}
    page = schema["components"]["schemas"]["WebhookEventPage"]
    assert set(page["properties"]) == {"results", "next_cursor", "next"}
