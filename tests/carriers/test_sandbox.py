"""The sandbox: test tokens act on a twin of the carrier with its own waybills, claims and
settlements; real data is never reached and money never moves."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from carriers.models import Carrier, WebhookDelivery
from carriers.sandbox import carrier_sandbox_ensure, carrier_test_token_create
from claims.services.ledger import ledger_balance_verify
from claims.services.settlements import settlement_issue
from orders.models import LedgerEntry

from .conftest import CarrierClient, event, open_claim

pytestmark = pytest.mark.django_db
SVC = "SVC-WBHOMEDELIVERY"


@pytest.fixture
def sandbox(carrier_a) -> CarrierClient:
    token, raw = carrier_test_token_create(carrier=carrier_a)
    assert raw.startswith("yzd_test_")
    return CarrierClient(token.carrier, raw)


def test_a_test_token_acts_on_a_twin_that_never_sees_real_data(sandbox, carrier_a, waybill_a, claim_a):
    twin = sandbox.carrier
    assert twin.is_sandbox and twin.live_carrier == carrier_a and twin.waybill_prefix != carrier_a.waybill_prefix
    assert carrier_sandbox_ensure(carrier=carrier_a) == twin  # one twin per carrier
    assert sandbox.get("/api/v1/carrier/waybills").json()["results"] == []
    assert sandbox.get("/api/v1/carrier/claims").json()["results"] == []
    assert sandbox.get(f"/api/v1/carrier/claims/{claim_a.pk}").status_code == 404
    assert sandbox.get(f"/api/v1/carrier/waybills/{waybill_a.number}").status_code == 404
    pushed = sandbox.push([event(waybill_a)]).json()
    assert pushed["accepted"] == 0 and pushed["rejected"][0]["code"] == "unknown_waybill"


def test_the_sandbox_creates_test_waybills_with_or_without_the_tier(sandbox):
    response = sandbox.post_json("/api/v1/carrier/sandbox/waybills", {"count": 3, "with_tier": True})
    assert response.status_code == 201, response.content
    numbers = [w["number"] for w in response.json()["results"]]
    assert len(numbers) == 3 and all(n.startswith(sandbox.carrier.waybill_prefix) for n in numbers)
    plain = sandbox.post_json("/api/v1/carrier/sandbox/waybills", {}).json()["results"]
    assert plain[0]["service_codes"] == []
    synced = sandbox.get("/api/v1/carrier/waybills", {"service": SVC}).json()["results"]
    assert sorted(w["number"] for w in synced) == sorted(numbers)
    assert not LedgerEntry.objects.exists()  # the tier cost nothing


@pytest.mark.parametrize("body", [{"count": 0}, {"count": 51}, {"with_tier": "yes"}, {"count": "2"}])
def test_bad_sandbox_requests_name_the_field(sandbox, body):
    response = sandbox.post_json("/api/v1/carrier/sandbox/waybills", body)
    assert response.status_code == 400 and set(response.json()["error"]["fields"]) == set(body)


def test_a_live_token_cannot_create_test_waybills(client_a):
    response = client_a.post_json("/api/v1/carrier/sandbox/waybills", {"count": 1})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_claims_and_settlements_run_in_the_sandbox_and_no_money_moves(sandbox):
    (waybill,) = sandbox.post_json("/api/v1/carrier/sandbox/waybills", {"with_tier": True}).json()["results"]
    twin = sandbox.carrier
    claim = open_claim(twin.waybills.get(number=waybill["number"]))
    assert sandbox.post_json(f"/api/v1/carrier/claims/{claim.pk}/accept", {}).status_code == 200
    statement = settlement_issue(carrier=twin, period_end=timezone.now() + timedelta(seconds=1))
    paid = sandbox.post_json(f"/api/v1/carrier/settlements/{statement.pk}/confirm-payment", {"payment_reference": "TEST-1"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    claim.refresh_from_db()
    assert claim.status == "settled"
    assert not LedgerEntry.objects.exists()
    ledger_balance_verify()  # the sandbox's settled claim needs no ledger entry


def test_sandbox_webhooks_are_marked_as_test(carrier_a):
    Carrier.objects.filter(pk=carrier_a.pk).update(webhook_url="https://hooks.example.com/zto")
    carrier_a.refresh_from_db()
    token, raw = carrier_test_token_create(carrier=carrier_a)
    client = CarrierClient(token.carrier, raw)
    client.post_json("/api/v1/carrier/sandbox/waybills", {})
    sandbox_hook = WebhookDelivery.objects.get(carrier=token.carrier)
    assert sandbox_hook.event_type == "waybill.issued" and sandbox_hook.payload["livemode"] is False
    (listed,) = client.get("/api/v1/carrier/webhook-events").json()["results"]  # the catch-up says so too
    assert listed["livemode"] is False


def test_the_command_prints_a_test_token(carrier_a):
    out, err = StringIO(), StringIO()
    call_command("carrier_token", "ZTO", "--test", stdout=out, stderr=err)
    assert out.getvalue().strip().startswith("yzd_test_")
    assert "沙箱" in err.getvalue()
