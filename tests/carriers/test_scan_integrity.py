"""Scan integrity (DESIGN §3a, issue 9 reproductions 3 and 6): a carrier cannot backdate a scan
before its waybill, nor date one far ahead; an overflowing timestamp loses only its own event;
a delivery scan pushed long after the fact is flagged and never closes a complaint window."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carriers.choices import ComplaintType
from claims.models import Claim, Complaint
from claims.services.complaints import complaint_file, complaint_route
from orders.services import purchase_create
from tests.factories import WaybillFactory
from waybills.models import TrackingEvent, Waybill

from .conftest import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_waybill(carrier_a):
    """Issued an hour ago, with Yinzunda bought."""
    waybill = WaybillFactory(carrier=carrier_a, created_at=timezone.now() - timedelta(hours=1))
    purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    return waybill


def _rejections(response) -> list[tuple]:
    return [(r["index"], r["field"], r["code"]) for r in response.json()["rejected"]]


def test_delivery_scan_backdated_weeks_before_the_waybill_is_rejected_naming_occurred_at(client_a, fresh_waybill):
    # when: the carrier pushes a door delivery dated three weeks before the waybill was issued
    backdated = event(fresh_waybill, "DELIVERED", minutes_ago=21 * 24 * 60, delivery_method="door")
    response = client_a.push([backdated])
    # then
    assert response.status_code == 200
    assert _rejections(response) == [(0, "occurred_at", "before_issue")]
    assert not TrackingEvent.objects.exists()
    fresh_waybill.refresh_from_db()
    assert fresh_waybill.delivered_at is None and fresh_waybill.status == Waybill.Status.CREATED


def test_backdated_delivery_cannot_make_the_buyers_complaint_out_of_window(client_a, fresh_waybill):
    # given: the backdated door delivery is refused, then an honest station drop arrives
    client_a.push([event(fresh_waybill, "DELIVERED", minutes_ago=21 * 24 * 60, delivery_method="door")])
    client_a.push([event(fresh_waybill, "DELIVERED", minutes_ago=10, delivery_method="station")])
    # when: the buyer complains
    complaint = complaint_file(order=fresh_waybill.order, complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT)
    complaint_route(complaint_id=complaint.pk)
    # then: judged on the honest scan, a claim is opened
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    assert Claim.objects.filter(waybill=fresh_waybill).count() == 1


def test_scan_within_the_clock_skew_before_issue_is_accepted(client_a, fresh_waybill, settings):
    settings.YINZUNDA_SCAN_CLOCK_SKEW = timedelta(minutes=15)
    inside = event(fresh_waybill, "PICKED_UP", minutes_ago=60 + 14)
    outside = event(fresh_waybill, "PICKED_UP", minutes_ago=60 + 16)
    response = client_a.push([inside, outside])
    assert response.json()["accepted"] == 1
    assert _rejections(response) == [(1, "occurred_at", "before_issue")]


def test_the_clock_skew_allowance_is_a_setting(client_a, fresh_waybill, settings):
    settings.YINZUNDA_SCAN_CLOCK_SKEW = timedelta(hours=3)
    response = client_a.push([event(fresh_waybill, "PICKED_UP", minutes_ago=150)])
    assert response.json()["accepted"] == 1


def test_scan_more_than_a_few_minutes_ahead_is_rejected_naming_occurred_at(client_a, fresh_waybill):
    ahead = event(fresh_waybill, "DELIVERED", minutes_ago=-30, delivery_method="door")
    response = client_a.push([ahead])
    assert _rejections(response) == [(0, "occurred_at", "future_datetime")]
    assert not TrackingEvent.objects.exists()


def test_overflowing_timestamp_rejects_only_its_event_and_the_valid_ones_are_stored(client_a, fresh_waybill):
    # given: the timestamp past the last representable moment, between two valid scans
    batch = [
        event(fresh_waybill, "PICKED_UP", minutes_ago=50, event_id="ok-1"),
        event(fresh_waybill, "ARRIVED_AT_HUB", occurred_at="9999-12-31T23:00:00-14:00", event_id="overflow"),
        event(fresh_waybill, "ARRIVED_AT_HUB", minutes_ago=20, event_id="ok-2"),
    ]
    # when
    response = client_a.push(batch)
    # then: the batch is answered, the bad event named, the others stored
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert _rejections(response) == [(1, "occurred_at", "out_of_range")]
    assert set(TrackingEvent.objects.values_list("event_id", flat=True)) == {"ok-1", "ok-2"}


def test_delivery_scan_pushed_long_after_it_happened_is_stored_and_flagged_late(client_a, carrier_a, settings):
    settings.YINZUNDA_SCAN_LATE_AFTER = timedelta(hours=24)
    waybill = WaybillFactory(carrier=carrier_a)  # issued 30 days ago
    batch = [
        event(waybill, "DELIVERED", minutes_ago=10 * 24 * 60, delivery_method="door", event_id="late"),
        event(waybill, "OUT_FOR_DELIVERY", minutes_ago=10 * 24 * 60 + 60, event_id="old-but-not-delivery"),
        event(waybill, "DELIVERED", minutes_ago=23 * 60, delivery_method="door", event_id="on-time"),
    ]
    response = client_a.push(batch)
    assert response.json()["accepted"] == 3
    flags = dict(TrackingEvent.objects.values_list("event_id", "late"))
    assert flags == {"late": True, "old-but-not-delivery": False, "on-time": False}


def test_flagging_keeps_the_batch_a_fixed_number_of_statements(client_a, carrier_a):
    waybills = [WaybillFactory(carrier=carrier_a) for _ in range(3)]

    def batch(n):
        return [event(waybills[i % 3], "DELIVERED", minutes_ago=5 * 24 * 60, delivery_method="door") for i in range(n)]

    client_a.push([event(waybills[0], "PICKED_UP")])  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as small:
        client_a.push(batch(3))
    with CaptureQueriesContext(connection) as large:
        client_a.push(batch(30))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert TrackingEvent.objects.filter(late=True).count() == 33


def test_late_delivery_scan_never_makes_a_complaint_out_of_window(client_a, carrier_a, settings):
    # given: a Yinzunda parcel; the carrier pushes today a station drop dated 20 days ago
    settings.YINZUNDA_COMPLAINT_WINDOW_DAYS = 7
    waybill = WaybillFactory(carrier=carrier_a)
    purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    client_a.push([event(waybill, "DELIVERED", minutes_ago=20 * 24 * 60, delivery_method="station")])
    assert TrackingEvent.objects.get(waybill=waybill).late
    # when: the buyer complains today
    complaint = complaint_file(order=waybill.order, complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT)
    complaint_route(complaint_id=complaint.pk)
    # then: not refused as out of window
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED, complaint.decision_reason
    assert "超过" not in complaint.decision_reason


def test_an_on_time_delivery_scan_still_closes_the_window(client_a, carrier_a, settings):
    settings.YINZUNDA_COMPLAINT_WINDOW_DAYS = 7
    waybill = WaybillFactory(carrier=carrier_a)
    purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    TrackingEvent.objects.create(
        carrier=carrier_a, waybill=waybill, event_id="pushed-on-time", code="DELIVERED",
        occurred_at=timezone.now() - timedelta(days=20), received_at=timezone.now() - timedelta(days=20),
        delivery_method="station",
    )
    complaint = complaint_file(order=waybill.order, complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT)
    complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.REJECTED
