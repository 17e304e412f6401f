"""Settlements endpoints: list, detail, confirm-payment — contract, bad input, money."""
from __future__ import annotations

import pytest

from claims.models import Claim, Settlement
from claims.services.claims import claim_accept
from claims.services.settlements import settlement_issue
from orders.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_settlement_list_shows_own_statements(client_a, settlement_a, settlement_b):
    body = client_a.get("/api/v1/carrier/settlements").json()
    assert [s["id"] for s in body["results"]] == [settlement_a.pk]
    item = body["results"][0]
    assert item["total_amount"] == "5.00"
    assert item["currency"] == "CNY"
    assert item["status"] == "issued"
    assert item["claim_ids"] == list(settlement_a.claims.values_list("pk", flat=True))


def test_settlement_list_filters_by_status(client_a, settlement_a):
    assert client_a.get("/api/v1/carrier/settlements?status=paid").json()["results"] == []
    assert len(client_a.get("/api/v1/carrier/settlements?status=issued").json()["results"]) == 1
    assert client_a.get("/api/v1/carrier/settlements?status=open").status_code == 400


def test_confirm_payment_settles_claims_and_credits_the_merchant(client_a, settlement_a):
    response = client_a.post_json(
        f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment", {"payment_reference": "BANK-20261125-001"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["payment_reference"] == "BANK-20261125-001"
    claim = settlement_a.claims.get()
    assert claim.status == Claim.Status.SETTLED
    assert LedgerEntry.objects.get(claim=claim, kind="compensation").amount == claim.amount


def test_second_confirm_without_a_key_is_a_conflict_and_pays_nothing_more(client_a, settlement_a):
    url = f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment"
    client_a.post_json(url, {"payment_reference": "P1"})
    response = client_a.post_json(url, {"payment_reference": "P1"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "settlement_already_paid"
    assert LedgerEntry.objects.filter(kind="compensation").count() == 1


def test_confirm_with_the_right_amount_is_accepted(client_a, settlement_a):
    response = client_a.post_json(
        f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment", {"payment_reference": "P1", "amount": "5.00"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({}, 400, "payment_reference"),
        ({"payment_reference": ""}, 400, "payment_reference"),
        ({"payment_reference": "x" * 65}, 400, "payment_reference"),
        ({"payment_reference": "P\x00"}, 400, "payment_reference"),
        ({"payment_reference": 12345}, 400, "payment_reference"),
        ({"payment_reference": "P1", "amount": "five"}, 400, "amount"),
        ({"payment_reference": "P1", "amount": "5.001"}, 400, "amount"),
        ({"payment_reference": "P1", "amount": "NaN"}, 400, "amount"),
        ({"payment_reference": "P1", "amount": "-5.00"}, 400, "amount"),
        ({"payment_reference": "P1", "amount": "1e400"}, 400, "amount"),
        ({"payment_reference": "P1", "amount": "4.99"}, 422, "amount"),
    ],
)
def test_bad_confirm_is_refused_naming_the_field_and_pays_nothing(client_a, settlement_a, payload, status, field):
    response = client_a.post_json(f"/api/v1/carrier/settlements/{settlement_a.pk}/confirm-payment", payload)
    assert response.status_code == status
    assert field in response.json()["error"]["fields"]
    settlement_a.refresh_from_db()
    assert settlement_a.status == Settlement.Status.ISSUED
    assert not LedgerEntry.objects.filter(kind="compensation").exists()


def test_settlement_detail(client_a, settlement_a):
    body = client_a.get(f"/api/v1/carrier/settlements/{settlement_a.pk}").json()
    assert body["reference"] == settlement_a.reference


def test_settlement_list_queries_do_not_grow_with_statements_or_claims(client_a, carrier_a, django_assert_max_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import WaybillFactory

    from .conftest import open_claim

    for day in range(4):
        for _ in range(3):
            claim = open_claim(WaybillFactory(carrier=carrier_a))
            claim_accept(claim_id=claim.pk, carrier=carrier_a)
        settlement_issue(carrier=carrier_a, period_end=timezone.now() + timedelta(days=day, seconds=1))
    client_a.get("/api/v1/carrier/settlements")  # token's last_used_at written once
    with django_assert_max_num_queries(3):
        body = client_a.get("/api/v1/carrier/settlements").json()
    assert len(body["results"]) == 4
    assert sum(len(s["claim_ids"]) for s in body["results"]) == 12
