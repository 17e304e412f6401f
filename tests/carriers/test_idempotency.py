"""Idempotency-Key on claim and settlement state changes: replay, 422 on another body, 409 in flight."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.models import IdempotencyRecord
from carriers.services import idempotency_records_purge
from claims.models import ClaimTransition
from orders.models import LedgerEntry

pytestmark = pytest.mark.django_db

DISPUTE = {"reason": "已送货上门", "evidence": [{"type": "photo", "url": "https://p.example/1.jpg"}]}


def test_same_key_and_body_replays_the_first_answer_and_acts_once(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/dispute"
    first = client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="dispute-1")
    again = client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="dispute-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ClaimTransition.objects.filter(claim=claim_a, to_status="disputed").count() == 1


def test_same_key_with_another_body_is_422(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/dispute"
    client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="k")
    response = client_a.post_json(url, {**DISPUTE, "reason": "另一个理由"}, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_same_key_on_another_endpoint_is_422(client_a, claim_a, carrier_a):
    from tests.factories import WaybillFactory

    from .conftest import open_claim

    other = open_claim(WaybillFactory(carrier=carrier_a))
    client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept", HTTP_IDEMPOTENCY_KEY="k")
    response = client_a.post(f"/api/v1/carrier/claims/{other.pk}/accept", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    other.refresh_from_db()
    assert other.status == "open"


def test_in_flight_with_the_same_body_is_409(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/accept"
    client_a.post(url, HTTP_IDEMPOTENCY_KEY="busy")
    IdempotencyRecord.objects.filter(key="busy").update(response_status=None, response_body=None)
    response = client_a.post(url, HTTP_IDEMPOTENCY_KEY="busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_request_in_flight"


def test_a_refusal_is_replayed_as_given(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/accept"
    client_a.post(url)  # accepted without a key
    first = client_a.post(url, HTTP_IDEMPOTENCY_KEY="late")
    again = client_a.post(url, HTTP_IDEMPOTENCY_KEY="late")
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()


def test_a_validation_error_does_not_burn_the_key(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/dispute"
    bad = client_a.post_json(url, {"reason": "缺证据", "evidence": []}, HTTP_IDEMPOTENCY_KEY="fixme")
    assert bad.status_code == 400
    good = client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="fixme")
    assert good.status_code == 200


def test_confirm_payment_replay_with_the_key_pays_once(client_a, settlement_a):
    url = f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment"
    first = client_a.post_json(url, {"payment_reference": "P1"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = client_a.post_json(url, {"payment_reference": "P1"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert LedgerEntry.objects.filter(kind="compensation").count() == 1


@pytest.mark.parametrize("key", ["x" * 256, "键", "a\tb"])
def test_malformed_key_is_400_naming_the_header(client_a, claim_a, key):
    response = client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    claim_a.refresh_from_db()
    assert claim_a.status == "open"


def test_answers_are_kept_24_hours_then_purged(client_a, claim_a):
    client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept", HTTP_IDEMPOTENCY_KEY="old")
    assert idempotency_records_purge() == 0
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_records_purge() == 1


def test_keys_are_per_carrier(client_a, client_b, claim_a, claim_b):
    assert client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept", HTTP_IDEMPOTENCY_KEY="same").status_code == 200
    assert client_b.post(f"/api/v1/carrier/claims/{claim_b.pk}/accept", HTTP_IDEMPOTENCY_KEY="same").status_code == 200


@pytest.mark.parametrize("body", [{"reason": "缺证据", "evidence": []}, {"reason": 5, "evidence": "x"}])
def test_reused_key_with_another_invalid_body_is_422_not_400(client_a, claim_a, body):
    # given a key already answered for a valid dispute
    url = f"/api/v1/carrier/claims/{claim_a.pk}/dispute"
    assert client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="k2").status_code == 200
    # when the same key comes with another body that is also invalid
    response = client_a.post_json(url, body, HTTP_IDEMPOTENCY_KEY="k2")
    # then the key mismatch wins (DESIGN §6)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_reused_key_with_an_unreadable_body_is_422(client_a, claim_a):
    url = f"/api/v1/carrier/claims/{claim_a.pk}/dispute"
    client_a.post_json(url, DISPUTE, HTTP_IDEMPOTENCY_KEY="k3")
    response = client_a.post(url, data="{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k3")
    assert response.status_code == 422


def test_an_unreadable_body_with_a_fresh_key_is_400_and_does_not_burn_it(client_a, claim_a):
    url = "/api/v1/carrier/settlements/999999/confirm-payment"
    bad = client_a.post(url, data="{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k4")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k4").exists()


def test_confirm_payment_reused_key_with_invalid_body_is_422(client_a, settlement_a):
    url = f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment"
    assert client_a.post_json(url, {"payment_reference": "P1"}, HTTP_IDEMPOTENCY_KEY="pay-2").status_code == 200
    response = client_a.post_json(url, {"payment_reference": ""}, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert response.status_code == 422
