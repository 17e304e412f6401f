"""POST /api/v1/carrier/events: per-event validation, dedup, ordering, scoping, round trips."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import WaybillFactory
from waybills.models import TrackingEvent, Waybill

from .conftest import event

pytestmark = pytest.mark.django_db


def test_valid_batch_is_stored_and_counted(client_a, waybill_a):
    # when
    response = client_a.push([event(waybill_a, "PICKED_UP", minutes_ago=90), event(waybill_a, "ARRIVED_AT_HUB", minutes_ago=30)])
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert TrackingEvent.objects.filter(waybill=waybill_a).count() == 2
    waybill_a.refresh_from_db()
    assert waybill_a.status == Waybill.Status.IN_TRANSIT


def test_replayed_batch_changes_nothing(client_a, waybill_a):
    batch = [event(waybill_a, "PICKED_UP", minutes_ago=90), event(waybill_a, "OUT_FOR_DELIVERY", minutes_ago=10)]
    client_a.push(batch)
    waybill_a.refresh_from_db()
    before = (waybill_a.status, waybill_a.status_at)

    response = client_a.push(batch)

    assert response.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert TrackingEvent.objects.count() == 2
    waybill_a.refresh_from_db()
    assert (waybill_a.status, waybill_a.status_at) == before


def test_same_event_id_twice_in_one_batch_is_one_event(client_a, waybill_a):
    first = event(waybill_a, "PICKED_UP", event_id="dup-1")
    response = client_a.push([first, {**first, "code": "DEPARTED_HUB"}])
    assert response.json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert TrackingEvent.objects.get().code == "PICKED_UP"


def test_valid_events_are_kept_when_others_are_rejected(client_a, waybill_a):
    response = client_a.push(
        [
            event(waybill_a, "PICKED_UP"),
            event(waybill_a, "TELEPORTED"),
            event(waybill_a, "ARRIVED_AT_HUB", occurred_at="2026-11-25T10:00:00"),
            event(waybill_a, "DEPARTED_HUB", minutes_ago=5),
        ]
    )
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 2
    assert [(r["index"], r["field"], r["code"]) for r in body["rejected"]] == [
        (1, "code", "unknown_code"),
        (2, "occurred_at", "naive_datetime"),
    ]
    assert set(TrackingEvent.objects.values_list("code", flat=True)) == {"PICKED_UP", "DEPARTED_HUB"}


def test_status_follows_latest_occurred_at_not_latest_arrival(client_a, waybill_a):
    client_a.push([event(waybill_a, "DELIVERED", minutes_ago=5)])
    # a hub scan from yesterday arrives late
    client_a.push([event(waybill_a, "ARRIVED_AT_HUB", minutes_ago=24 * 60)])
    waybill_a.refresh_from_db()
    assert waybill_a.status == Waybill.Status.DELIVERED
    assert waybill_a.delivery_method == "door"
    assert waybill_a.delivered_at is not None

    # and within one batch, order of arrival does not matter either
    other = WaybillFactory(carrier=waybill_a.carrier)
    client_a.push([event(other, "OUT_FOR_DELIVERY", minutes_ago=10), event(other, "PICKED_UP", minutes_ago=300)])
    other.refresh_from_db()
    assert other.status == Waybill.Status.OUT_FOR_DELIVERY


def test_late_delivered_scan_sets_delivery_even_if_not_latest(client_a, waybill_a):
    client_a.push([event(waybill_a, "RETURN_PICKUP_SCHEDULED", minutes_ago=5)])
    client_a.push([event(waybill_a, "DELIVERED", minutes_ago=60, delivery_method="station")])
    waybill_a.refresh_from_db()
    assert waybill_a.status == Waybill.Status.RETURN_SCHEDULED
    assert waybill_a.delivery_method == "station"
    assert waybill_a.delivered_at is not None


def test_event_for_another_carriers_waybill_is_rejected_like_an_unknown_one(client_a, waybill_a, waybill_b):
    response = client_a.push([event(waybill_b, "PICKED_UP"), event(waybill_a, "PICKED_UP")])
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {"index": 0, "field": "waybill_number", "code": "unknown_waybill", "error": body["rejected"][0]["error"]}
    ]
    assert not TrackingEvent.objects.filter(waybill=waybill_b).exists()
    waybill_b.refresh_from_db()
    assert waybill_b.status == Waybill.Status.CREATED


def test_event_ids_are_scoped_per_carrier(client_a, client_b, waybill_a, waybill_b):
    assert client_a.push([event(waybill_a, event_id="same")]).json()["accepted"] == 1
    assert client_b.push([event(waybill_b, event_id="same")]).json()["accepted"] == 1


def test_every_parcel_with_new_scans_is_sent_to_the_promise_watcher_after_commit(
    client_a, waybill_a, _no_tracking_claims, django_capture_on_commit_callbacks
):
    other = WaybillFactory(carrier=waybill_a.carrier)
    third = WaybillFactory(carrier=waybill_a.carrier)
    batch = [
        event(waybill_a, "DELIVERED", delivery_method="locker", event_id="locker-1"),
        event(other, "DELIVERED", delivery_method="door", event_id="door-1"),
        event(third, "DELIVERED", delivery_method="station", event_id="station-1"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert client_a.push(batch).json()["accepted"] == 3
    with django_capture_on_commit_callbacks(execute=True) as replay_callbacks:
        assert client_a.push(batch).json()["duplicates"] == 3  # replay: nothing new, nothing enqueued

    expected = {waybill_a.pk, other.pk, third.pk}
    assert len(_no_tracking_claims) == 1
    assert set(_no_tracking_claims[0]) == expected
    assert replay_callbacks == []


def test_batch_costs_a_fixed_number_of_queries(client_a, carrier_a):
    waybills = WaybillFactory.create_batch(20, carrier=carrier_a)

    def batch(n: int, tag: str) -> list[dict]:
        return [event(waybills[i % 20], "ARRIVED_AT_HUB", event_id=f"{tag}-{i}", minutes_ago=i + 1) for i in range(n)]

    client_a.push(batch(1, "warm"))  # first use of the token records last_used_at once
    with CaptureQueriesContext(connection) as small:
        assert client_a.push(batch(2, "s")).json()["accepted"] == 2
    with CaptureQueriesContext(connection) as large:
        assert client_a.push(batch(1000, "l")).json()["accepted"] == 1000
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 7  # + the promise watcher's outbox row for the parcels scanned


@pytest.mark.parametrize(
    ("patch", "field", "code"),
    [
        ({"event_id": "a\x00b"}, "event_id", "null_character"),
        ({"location": "杭州\x00"}, "location", "null_character"),
        ({"location": "长" * 201}, "location", "max_length"),
        ({"note": "x" * 501}, "note", "max_length"),
        ({"event_id": "e" * 65}, "event_id", "max_length"),
        ({"event_id": 12345}, "event_id", "invalid_type"),
        ({"event_id": None}, "event_id", "required"),
        ({"code": "PICKED_UP", "occurred_at": 1732500000}, "occurred_at", "invalid_type"),
        ({"occurred_at": "yesterday"}, "occurred_at", "invalid_datetime"),
        ({"occurred_at": "2026-11-25T10:00:00"}, "occurred_at", "naive_datetime"),
        ({"occurred_at": "2099-01-01T00:00:00+08:00"}, "occurred_at", "future_datetime"),
        ({"occurred_at": "2026-11-01T10:00:00-18:26"}, "occurred_at", "invalid_offset"),
        ({"occurred_at": "0873-04-03T18:59:27+08:00"}, "occurred_at", "too_old"),
        ({"code": "LOST_IN_SPACE"}, "code", "unknown_code"),
        ({"code": "DELIVERED"}, "delivery_method", "required"),
        ({"code": "DELIVERED", "delivery_method": "roof"}, "delivery_method", "unknown_code"),
        ({"delivery_method": "door"}, "delivery_method", "not_allowed"),
        ({"proof_url": "http://evil.example/x.jpg"}, "proof_url", "invalid_url"),
        ({"proof_type": "selfie"}, "proof_type", "unknown_code"),
        ({"waybill_number": "ZT12"}, "waybill_number", "waybill_format"),
        ({"location": "\ud800"}, "location", "invalid_unicode"),
        ({"waybill_number": ["ZT"]}, "waybill_number", "invalid_type"),
        ({"location": 0}, "location", "invalid_type"),
        ({"note": False}, "note", "invalid_type"),
    ],
)
def test_bad_event_is_rejected_naming_the_field_and_nothing_is_written(client_a, waybill_a, patch, field, code):
    bad = {**event(waybill_a), **patch}
    if "occurred_at" not in patch and patch.get("code") == "DELIVERED" and "delivery_method" not in patch:
        bad.pop("delivery_method", None)
    response = client_a.push([bad])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 0
    assert [(r["index"], r["field"], r["code"]) for r in body["rejected"]] == [(0, field, code)]
    assert not TrackingEvent.objects.exists()


def test_wrong_check_digit_is_rejected(client_a, waybill_a):
    number = waybill_a.number
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    body = client_a.push([event(typo)]).json()
    assert [(r["field"], r["code"]) for r in body["rejected"]] == [("waybill_number", "waybill_check_digit")]
    assert not TrackingEvent.objects.exists()


def test_waybill_number_is_normalised(client_a, waybill_a):
    body = client_a.push([event(" " + waybill_a.number.lower() + " ")]).json()
    assert body["accepted"] == 1


def test_event_that_is_not_an_object_is_rejected_alone(client_a, waybill_a):
    body = client_a.push(["nope", event(waybill_a)]).json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": []}, "events"),
        ({"events": "many"}, "events"),
        ({}, "events"),
        ([{"event_id": "x"}], "events"),
    ],
)
def test_bad_envelope_is_400_naming_events(client_a, payload, field):
    response = client_a.post("/api/v1/carrier/events", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_1001_events_are_refused_and_nothing_is_written(client_a, waybill_a):
    batch = [event(waybill_a, event_id=f"e{i}") for i in range(1001)]
    response = client_a.push(batch)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "events" in response.json()["error"]["fields"]
    assert not TrackingEvent.objects.exists()


def test_malformed_json_is_400_in_the_error_shape(client_a):
    response = client_a.generic(
        "POST", "/api/v1/carrier/events", '{"events": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_events_in_the_near_future_within_clock_skew_are_accepted(client_a, waybill_a):
    soon = (timezone.now() + timedelta(minutes=2)).isoformat()
    assert client_a.push([event(waybill_a, occurred_at=soon)]).json()["accepted"] == 1
