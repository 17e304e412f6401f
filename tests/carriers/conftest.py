"""Fixtures of the carrier API tests: two carriers with tokens, their waybills and claims."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from carriers.services import carrier_token_create
from claims.services.claims import claim_accept, claim_open
from claims.services.settlements import settlement_issue
from tests.factories import CarrierFactory, ComplaintFactory, WaybillFactory


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Throttle counters live in the cache when it is not Redis: a fresh one per test keeps tests independent."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture(autouse=True)
def _no_tracking_claims(monkeypatch):
    """Claims opened from tracking belong to claims.tasks; here we only record what was enqueued."""
    calls: list[list[int]] = []
    from yinzunda import outbox
    from yinzunda.models import OutboxMessage

    original = outbox.outbox_message_run

    def run(message_id: int) -> str:
        message = OutboxMessage.objects.get(pk=message_id)
        if message.task_name != "claims.tasks.promises_watch":
            return original(message_id)
        calls.append(list(message.args[0]))
        return "recorded"

    monkeypatch.setattr(outbox, "outbox_message_run", run)
    return calls


class CarrierClient(APIClient):
    def __init__(self, carrier, raw_token: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.carrier = carrier
        self.raw_token = raw_token
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")

    def push(self, events: list, **extra):
        return self.post_json("/api/v1/carrier/events", {"events": events}, **extra)

    def post_json(self, path: str, payload, **extra):
        # json.dumps escapes what a real client would (lone surrogates included)
        return self.generic("POST", path, json.dumps(payload), content_type="application/json", **extra)


@pytest.fixture
def carrier_a(db):
    return CarrierFactory(code="ZTO", name="中通快递", waybill_prefix="ZT")


@pytest.fixture
def carrier_b(db):
    return CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")


@pytest.fixture
def client_a(carrier_a) -> CarrierClient:
    _, raw = carrier_token_create(carrier=carrier_a)
    return CarrierClient(carrier_a, raw)


@pytest.fixture
def client_b(carrier_b) -> CarrierClient:
    _, raw = carrier_token_create(carrier=carrier_b)
    return CarrierClient(carrier_b, raw)


@pytest.fixture
def waybill_a(carrier_a):
    return WaybillFactory(carrier=carrier_a, service_codes=["SVC-WBHOMEDELIVERY"])


@pytest.fixture
def waybill_b(carrier_b):
    return WaybillFactory(carrier=carrier_b, service_codes=["SVC-WBHOMEDELIVERY"])


def open_claim(waybill, *, description: str | None = None, **kwargs):
    complaint = ComplaintFactory(waybill=waybill, **({"description": description} if description else {}))
    return claim_open(
        waybill=waybill,
        complaint=complaint,
        complaint_type=complaint.complaint_type,
        tariff=waybill.carrier.tariffs.first(),
        amount=kwargs.pop("amount", "5.00"),
        reason="买家投诉未送货上门",
        **kwargs,
    )


@pytest.fixture
def claim_a(waybill_a):
    return open_claim(waybill_a)


@pytest.fixture
def claim_b(waybill_b):
    return open_claim(waybill_b)


def settle(carrier, claims):
    for claim in claims:
        claim_accept(claim_id=claim.pk, carrier=carrier)
    return settlement_issue(carrier=carrier, period_end=timezone.now() + timedelta(seconds=1))


@pytest.fixture
def settlement_a(carrier_a, claim_a):
    return settle(carrier_a, [claim_a])


@pytest.fixture
def settlement_b(carrier_b, claim_b):
    return settle(carrier_b, [claim_b])


def event(waybill, code="PICKED_UP", *, minutes_ago=60, **extra) -> dict:
    body = {
        "event_id": extra.pop("event_id", f"ev-{uuid.uuid4().hex[:16]}"),
        "waybill_number": waybill.number if hasattr(waybill, "number") else waybill,
        "code": code,
        "occurred_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "location": "杭州转运中心",
    }
    if code == "DELIVERED":
        body["delivery_method"] = "door"
    body.update(extra)
    return body
