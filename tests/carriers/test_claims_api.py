"""Claims endpoints: list (cursor, filters), detail, accept, dispute — contract and bad input."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from claims.models import Claim, ClaimTransition
from tests.factories import WaybillFactory

from .conftest import event, open_claim

pytestmark = pytest.mark.django_db


def test_claim_list_shows_own_claims_with_contract_fields(client_a, claim_a, claim_b):
    response = client_a.get("/api/v1/carrier/claims")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["results"]] == [claim_a.pk]
    item = body["results"][0]
    assert item["status"] == "open"
    assert item["waybill_number"] == claim_a.waybill.number
    assert item["amount"] == "5.00"
    assert item["currency"] == "CNY"
    assert body["next"] is None and body["next_cursor"] is None


def test_claim_list_pages_with_a_cursor_without_gaps_or_repeats(client_a, carrier_a, django_assert_max_num_queries):
    claims = [open_claim(WaybillFactory(carrier=carrier_a)) for _ in range(7)]
    seen: list[int] = []
    url = "/api/v1/carrier/claims?page_size=3"
    pages = 0
    while url:
        with django_assert_max_num_queries(4):
            body = client_a.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert seen == sorted(seen, key=lambda pk: (Claim.objects.get(pk=pk).updated_at, pk))
    assert sorted(seen) == sorted(c.pk for c in claims)


def test_claim_list_filters_by_status_and_updated_since(client_a, carrier_a):
    old = open_claim(WaybillFactory(carrier=carrier_a))
    Claim.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))
    accepted = open_claim(WaybillFactory(carrier=carrier_a))
    client_a.post(f"/api/v1/carrier/claims/{accepted.pk}/accept")

    by_status = client_a.get("/api/v1/carrier/claims?status=accepted").json()["results"]
    assert [c["id"] for c in by_status] == [accepted.pk]
    since = quote((timezone.now() - timedelta(days=1)).isoformat())
    recent = client_a.get(f"/api/v1/carrier/claims?updated_since={since}").json()["results"]
    assert [c["id"] for c in recent] == [accepted.pk]
    both = client_a.get("/api/v1/carrier/claims?status=open,accepted").json()["results"]
    assert {c["id"] for c in both} == {old.pk, accepted.pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-11-25T10:00:00", "updated_since"),
        ("updated_since=0873-04-03T18:59:27.001504-18:26", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B08:00", "updated_since"),
        ("cursor=!!!", "cursor"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=1000", "page_size"),
    ],
)
def test_claim_list_bad_query_is_400_naming_the_parameter(client_a, query, field):
    response = client_a.get(f"/api/v1/carrier/claims?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_claim_detail_has_complaint_summary_evidence_and_history_but_no_buyer_data(client_a, claim_a):
    client_a.push([event(claim_a.waybill, "DELIVERED", delivery_method="station", minutes_ago=30)])
    response = client_a.get(f"/api/v1/carrier/claims/{claim_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["complaint"]["reference"] == claim_a.complaint.reference
    assert body["complaint"]["type"] == "not_to_door"
    assert [e["code"] for e in body["evidence"]] == ["DELIVERED"]
    assert body["evidence"][0]["delivery_method"] == "station"
    assert [(h["from"], h["to"], h["actor"]) for h in body["history"]] == [("", "open", "system")]
    order = claim_a.order
    text = response.content.decode()
    for secret in (order.recipient_phone, order.recipient_name, order.recipient_address):
        assert secret not in text


def test_claim_detail_queries_do_not_grow_with_events(client_a, claim_a, django_assert_max_num_queries):
    client_a.push([event(claim_a.waybill, "ARRIVED_AT_HUB", minutes_ago=i + 1) for i in range(30)])
    # claim, transitions, events, complaint photos (signed URLs), token, consent records, tariff payouts
    with django_assert_max_num_queries(7):
        assert client_a.get(f"/api/v1/carrier/claims/{claim_a.pk}").status_code == 200


def test_accept_moves_an_open_claim_and_records_the_carrier(client_a, claim_a):
    response = client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept")
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    transition = ClaimTransition.objects.get(claim=claim_a, to_status="accepted")
    assert transition.actor == "carrier" and transition.actor_carrier_id == claim_a.carrier_id


def test_accept_twice_is_a_conflict(client_a, claim_a):
    client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept")
    response = client_a.post(f"/api/v1/carrier/claims/{claim_a.pk}/accept")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "claim_transition_not_allowed"


def test_dispute_stores_reason_and_evidence(client_a, claim_a):
    payload = {
        "reason": "已送货上门，有签收照片",
        "evidence": [
            {"type": "photo", "url": "https://proof.zto.example/1.jpg", "note": "门口照片"},
            {"type": "buyer_consent"},
        ],
    }
    response = client_a.post_json(f"/api/v1/carrier/claims/{claim_a.pk}/dispute", payload)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disputed"
    transition = ClaimTransition.objects.get(claim=claim_a, to_status="disputed")
    assert transition.reason == payload["reason"]
    assert transition.evidence == [
        {"type": "photo", "url": "https://proof.zto.example/1.jpg", "note": "门口照片"},
        {"type": "buyer_consent"},
    ]
    history = response.json()["history"]
    assert history[-1]["evidence"] == transition.evidence


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": "", "evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": "x" * 2001, "evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": "a\x00b", "evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": "\ud800", "evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": 42, "evidence": [{"type": "photo"}]}, "reason"),
        ({"reason": "有照片", "evidence": []}, "evidence"),
        ({"reason": "有照片"}, "evidence"),
        ({"reason": "有照片", "evidence": "photo"}, "evidence"),
        ({"reason": "有照片", "evidence": [{"type": "video"}]}, "evidence.0.type"),
        ({"reason": "有照片", "evidence": [{"type": "photo"}, {"type": "photo", "url": "http://x.example/a.jpg"}]}, "evidence.1.url"),
        ({"reason": "有照片", "evidence": [{"type": "photo", "note": "n" * 501}]}, "evidence.0.note"),
        ({"reason": "有照片", "evidence": [{"type": "photo"}] * 21}, "evidence"),
    ],
)
def test_bad_dispute_is_400_naming_the_field_and_changes_nothing(client_a, claim_a, payload, field):
    response = client_a.post_json(f"/api/v1/carrier/claims/{claim_a.pk}/dispute", payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    claim_a.refresh_from_db()
    assert claim_a.status == "open"
    assert not ClaimTransition.objects.filter(claim=claim_a, to_status="disputed").exists()


def test_dispute_body_that_is_not_an_object_is_400(client_a, claim_a):
    response = client_a.post_json(f"/api/v1/carrier/claims/{claim_a.pk}/dispute", ["reason"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_unknown_claim_and_huge_ids_are_404(client_a):
    assert client_a.get("/api/v1/carrier/claims/999999").status_code == 404
    assert client_a.get("/api/v1/carrier/claims/99999999999999999999999").status_code == 404
    assert client_a.post("/api/v1/carrier/claims/999999/accept").status_code == 404
