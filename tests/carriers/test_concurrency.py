"""Races on the real PostgreSQL: one winner per claim, one execution per key, no deadlocked batches."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from carriers.services import carrier_token_create
from claims.models import ClaimTransition
from claims.services.claims import claim_accept
from claims.services.settlements import settlement_issue
from tests.factories import CarrierFactory, WaybillFactory
from waybills.models import TrackingEvent, Waybill

from .conftest import CarrierClient, event, open_claim

pytestmark = pytest.mark.django_db(transaction=True)


def _race(calls) -> list:
    """Run the callables at once (each thread on its own connection) and return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def zto():
    carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    return carrier, CarrierClient(carrier, carrier_token_create(carrier=carrier)[1])


def test_accept_and_dispute_at_once_leave_one_winner(zto):
    carrier, client = zto
    claim = open_claim(WaybillFactory(carrier=carrier))
    dispute = {"reason": "有签收照片", "evidence": [{"type": "signature"}]}

    responses = _race([
        lambda: client.post(f"/api/v1/carrier/claims/{claim.pk}/accept"),
        lambda: client.post_json(f"/api/v1/carrier/claims/{claim.pk}/dispute", dispute),
        lambda: client.post(f"/api/v1/carrier/claims/{claim.pk}/accept"),
    ])

    codes = Counter(r.status_code for r in responses)
    assert codes == Counter({200: 1, 409: 2}), responses
    claim.refresh_from_db()
    assert ClaimTransition.objects.filter(claim=claim).exclude(to_status="open").count() == 1
    assert claim.status in {"accepted", "disputed"}


def test_same_idempotency_key_at_once_acts_once(zto):
    carrier, client = zto
    claim = open_claim(WaybillFactory(carrier=carrier))

    responses = _race([
        lambda: client.post(f"/api/v1/carrier/claims/{claim.pk}/accept", HTTP_IDEMPOTENCY_KEY="same")
        for _ in range(4)
    ])

    assert all(r.status_code in (200, 409) for r in responses), responses
    assert any(r.status_code == 200 for r in responses)
    assert ClaimTransition.objects.filter(claim=claim, to_status="accepted").count() == 1


def test_concurrent_batches_on_the_same_waybills_store_everything_without_deadlock(zto):
    carrier, client = zto
    waybills = WaybillFactory.create_batch(30, carrier=carrier)
    batches = []
    for b in range(4):
        # every batch touches every waybill, in a different order
        order = waybills if b % 2 == 0 else list(reversed(waybills))
        batches.append([
            event(w, "ARRIVED_AT_HUB" if b < 3 else "OUT_FOR_DELIVERY", event_id=f"b{b}-{w.pk}", minutes_ago=40 - b * 10)
            for w in order
        ])

    responses = _race([lambda batch=batch: client.push(batch) for batch in batches])

    assert [r.status_code for r in responses] == [200] * 4, responses
    assert sum(r.json()["accepted"] for r in responses) == 120
    assert TrackingEvent.objects.count() == 120
    # the batch with the latest occurred_at wins whatever the commit order
    assert set(Waybill.objects.filter(pk__in=[w.pk for w in waybills]).values_list("status", flat=True)) == {
        "out_for_delivery"
    }


def test_the_same_batch_sent_twice_at_once_is_stored_once(zto):
    carrier, client = zto
    waybill = WaybillFactory(carrier=carrier)
    batch = [event(waybill, "ARRIVED_AT_HUB", event_id=f"e{i}", minutes_ago=i + 1) for i in range(50)]

    responses = _race([lambda: client.push(batch), lambda: client.push(batch)])

    bodies = [r.json() for r in responses]
    assert sorted(b["accepted"] for b in bodies) == [0, 50]
    assert sorted(b["duplicates"] for b in bodies) == [0, 50]
    assert TrackingEvent.objects.count() == 50


def test_two_confirm_payments_at_once_pay_once(zto):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import LedgerEntry

    carrier, client = zto
    claim = open_claim(WaybillFactory(carrier=carrier))
    claim_accept(claim_id=claim.pk, carrier=carrier)
    settlement = settlement_issue(carrier=carrier, period_end=timezone.now() + timedelta(seconds=1))
    url = f"/api/v1/carrier/settlements/{settlement.pk}/confirm-payment"

    responses = _race([lambda ref=ref: client.post_json(url, {"payment_reference": ref}) for ref in ("P-1", "P-2", "P-3")])

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: 2}), responses
    assert LedgerEntry.objects.filter(kind="compensation").count() == 1
