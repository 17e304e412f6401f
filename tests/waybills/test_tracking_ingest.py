"""tracking_events_ingest as a service: the status map, and the portable (non-PostgreSQL) path."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CarrierFactory, WaybillFactory
from waybills.models import EVENT_STATUS, EventCode, Waybill
from waybills.services.tracking import tracking_events_ingest

pytestmark = pytest.mark.django_db


def _event(waybill, code, minutes_ago, event_id, **extra):
    return {
        "event_id": event_id, "waybill_number": waybill.number, "code": code,
        "occurred_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(), **extra,
    }


def test_every_event_code_maps_to_a_waybill_status():
    assert set(EVENT_STATUS) == set(EventCode.values)
    assert set(EVENT_STATUS.values()) <= set(Waybill.Status.values)


@pytest.mark.parametrize("code", EventCode.values)
def test_each_code_sets_its_status(code):
    waybill = WaybillFactory()
    extra = {"delivery_method": "door"} if code == "DELIVERED" else {}
    result = tracking_events_ingest(carrier=waybill.carrier, events=[_event(waybill, code, 1, "e1", **extra)])
    assert result.accepted == 1
    waybill.refresh_from_db()
    assert waybill.status == EVENT_STATUS[code]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_both_storage_paths_give_the_same_result(monkeypatch, vendor):
    carrier = CarrierFactory()
    monkeypatch.setattr(connection, "vendor", vendor)
    w1, w2 = WaybillFactory(carrier=carrier), WaybillFactory(carrier=carrier)
    first = tracking_events_ingest(carrier=carrier, events=[
        _event(w1, "DELIVERED", 5, "a", delivery_method="locker"),
        _event(w1, "OUT_FOR_DELIVERY", 50, "b"),
        _event(w2, "PICKED_UP", 500, "c"),
    ])
    again = tracking_events_ingest(carrier=carrier, events=[
        _event(w1, "DELIVERED", 5, "a", delivery_method="locker"),
        _event(w2, "ARRIVED_AT_HUB", 400, "d"),
    ])
    assert (first.accepted, first.duplicates) == (3, 0)
    assert (again.accepted, again.duplicates) == (1, 1)
    assert first.watch_waybill_ids == sorted([w1.pk, w2.pk])
    assert again.watch_waybill_ids == [w2.pk]
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert (w1.status, w1.delivery_method) == ("delivered", "locker")
    assert w2.status == "in_transit"
