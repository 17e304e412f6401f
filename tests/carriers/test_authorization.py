"""Authorization matrix: carrier A against each of carrier B's objects on every endpoint; tokens."""
from __future__ import annotations

import pytest

from carriers.services import carrier_token_create, carrier_token_revoke, carrier_token_rotate
from claims.models import Claim, ClaimTransition, Settlement

from .conftest import CarrierClient, event

pytestmark = pytest.mark.django_db


def _b_objects(claim_b, settlement_b):
    # a second, still-open claim of B so that accept/dispute would be allowed if reachable
    from tests.factories import WaybillFactory

    from .conftest import open_claim

    open_b = open_claim(WaybillFactory(carrier=claim_b.carrier))
    return open_b, settlement_b


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/carrier/claims/{claim}", None),
        ("post", "/api/v1/carrier/claims/{claim}/accept", {}),
        ("post", "/api/v1/carrier/claims/{claim}/dispute", {"reason": "不是我们的错", "evidence": [{"type": "photo"}]}),
        ("get", "/api/v1/carrier/settlements/{settlement}", None),
        ("post", "/api/v1/carrier/settlements/{settlement}/confirm-payment", {"payment_reference": "P-STEAL"}),
    ],
)
def test_carrier_a_gets_404_on_each_of_carrier_bs_objects_and_changes_nothing(
    client_a, claim_b, settlement_b, method, path, body
):
    open_b, settlement = _b_objects(claim_b, settlement_b)
    url = path.format(claim=open_b.pk, settlement=settlement.pk)
    before_transitions = ClaimTransition.objects.count()

    response = client_a.post_json(url, body) if method == "post" else client_a.get(url)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert ClaimTransition.objects.count() == before_transitions
    open_b.refresh_from_db()
    settlement.refresh_from_db()
    assert open_b.status == Claim.Status.OPEN
    assert settlement.status == Settlement.Status.ISSUED


def test_carrier_a_gets_404_with_an_idempotency_key_too(client_a, claim_b):
    response = client_a.post(f"/api/v1/carrier/claims/{claim_b.pk}/accept", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 404
    claim_b.refresh_from_db()
    assert claim_b.status == Claim.Status.OPEN


def test_lists_never_show_the_other_carriers_objects(client_a, client_b, claim_a, settlement_b):
    assert {c["id"] for c in client_a.get("/api/v1/carrier/claims").json()["results"]} == {claim_a.pk}
    assert client_a.get("/api/v1/carrier/settlements").json()["results"] == []
    b_claims = {c["id"] for c in client_b.get("/api/v1/carrier/claims").json()["results"]}
    assert claim_a.pk not in b_claims
    # filters cannot widen the scope either
    assert {c["id"] for c in client_a.get("/api/v1/carrier/claims?status=accepted").json()["results"]} == set()


def test_carrier_a_cannot_push_events_onto_bs_waybill(client_a, waybill_b):
    body = client_a.push([event(waybill_b, "DELIVERED", delivery_method="locker")]).json()
    assert body["accepted"] == 0 and body["rejected"][0]["field"] == "waybill_number"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/carrier/claims"),
        ("get", "/api/v1/carrier/claims/1"),
        ("post", "/api/v1/carrier/claims/1/accept"),
        ("post", "/api/v1/carrier/claims/1/dispute"),
        ("get", "/api/v1/carrier/settlements"),
        ("get", "/api/v1/carrier/settlements/1"),
        ("post", "/api/v1/carrier/settlements/1/confirm-payment"),
        ("post", "/api/v1/carrier/events"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Token abc", "Bearer", "Bearer a b"])
def test_every_endpoint_refuses_missing_or_bad_tokens_with_401(db, method, path, authorization):
    from rest_framework.test import APIClient

    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused_and_rotation_gives_a_working_one(carrier_a, claim_a):
    token, raw = carrier_token_create(carrier=carrier_a)
    client = CarrierClient(carrier_a, raw)
    assert client.get("/api/v1/carrier/claims").status_code == 200

    new_token, new_raw = carrier_token_rotate(token=token)

    assert client.get("/api/v1/carrier/claims").status_code == 401
    assert CarrierClient(carrier_a, new_raw).get("/api/v1/carrier/claims").status_code == 200
    carrier_token_revoke(token=new_token)
    assert CarrierClient(carrier_a, new_raw).get("/api/v1/carrier/claims").status_code == 401


def test_token_is_stored_hashed_and_last_use_is_recorded(carrier_a):
    token, raw = carrier_token_create(carrier=carrier_a)
    assert raw not in token.key_hash and token.prefix == raw[:12]
    CarrierClient(carrier_a, raw).get("/api/v1/carrier/claims")
    token.refresh_from_db()
    assert token.last_used_at is not None
