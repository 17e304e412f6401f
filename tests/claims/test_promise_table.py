"""DESIGN §3a as tests: one per row of the rule table and each clock's edges (a minute either side).

Every test runs the watcher (the set-based SQL on PostgreSQL) and checks the claims it opened.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.choices import ComplaintType
from claims.models import Claim
from claims.services.watcher import promises_watch
from orders.services import purchase_create
from tests.claims.promise_world import MINUTE, T0, consent, only, parcel, scan

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def watch(waybill, now):
    promises_watch(waybill_ids=[waybill.pk], now=now)
    return list(Claim.objects.filter(waybill=waybill).order_by("pk"))


def rules(claims):
    return sorted((c.promise, c.breach["rule"]) for c in claims)


# --- door delivery: a drop ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["locker", "station"])
def test_drop_without_consent_is_a_breach_at_once(method):
    waybill = parcel()
    event = scan(waybill, "DELIVERED", T0, method)
    (claim,) = watch(waybill, T0 + MINUTE)
    assert (claim.promise, claim.complaint_type, claim.source_event_id) == (
        "door_delivery", ComplaintType.LOCKER_WITHOUT_CONSENT, event.pk)
    assert claim.trigger == Claim.Trigger.TRACKING and claim.breach["method"] == method


@pytest.mark.parametrize("method", ["door", "reception", "self_pickup"])
def test_other_deliveries_are_no_drop_breach(method):
    waybill = parcel()
    scan(waybill, "DELIVERED", T0, method)
    assert watch(waybill, T0 + 100 * H) == []


def test_drop_covered_by_platform_consent_is_no_breach():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="locker")
    scan(waybill, "DELIVERED", T0, "locker")
    assert watch(waybill, T0 + MINUTE) == []


def test_consent_for_another_method_does_not_cover():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="station")
    scan(waybill, "DELIVERED", T0, "locker")
    assert len(watch(waybill, T0 + MINUTE)) == 1


def test_consent_recorded_after_the_drop_does_not_cover():
    waybill = parcel()
    scan(waybill, "DELIVERED", T0, "locker")
    consent(waybill, at=T0 + MINUTE, method="locker")
    assert len(watch(waybill, T0 + H)) == 1


def test_withdrawn_consent_does_not_cover():
    waybill = parcel()
    consent(waybill, at=T0 - 2 * H, method="locker")
    consent(waybill, at=T0 - H, kind="withdraw")
    scan(waybill, "DELIVERED", T0, "locker")
    assert len(watch(waybill, T0 + MINUTE)) == 1


def test_consent_until_a_minute_before_the_drop_has_expired():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="locker", valid_until=T0 - MINUTE)
    scan(waybill, "DELIVERED", T0, "locker")
    assert len(watch(waybill, T0 + MINUTE)) == 1


def test_consent_until_a_minute_after_the_drop_covers_it():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="locker", valid_until=T0 + MINUTE)
    scan(waybill, "DELIVERED", T0, "locker")
    assert watch(waybill, T0 + H) == []


def test_carrier_asserted_consent_makes_the_claim_disputable_not_void():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="locker", source="carrier")
    scan(waybill, "DELIVERED", T0, "locker")
    (claim,) = watch(waybill, T0 + MINUTE)
    assert claim.breach["carrier_consent"] is True and claim.status == Claim.Status.OPEN


# --- door delivery: the station hold -----------------------------------------------------------

def test_station_hold_a_minute_before_its_clock_is_no_breach():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_STATION", T0)
    assert watch(waybill, T0 + 24 * H - MINUTE) == []


def test_station_hold_a_minute_past_its_clock_opens_a_claim():
    waybill = parcel()
    arrival = scan(waybill, "ARRIVED_AT_STATION", T0)
    (claim,) = watch(waybill, T0 + 24 * H + MINUTE)
    assert (claim.promise, claim.complaint_type, claim.source_event_id) == (
        "door_delivery", ComplaintType.NOT_TO_DOOR, arrival.pk)
    assert claim.breach["clock_hours"] == 24


def test_door_delivery_a_minute_inside_the_hold_clock_keeps_the_promise():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_STATION", T0)
    scan(waybill, "DELIVERED", T0 + 24 * H - MINUTE, "door")
    assert watch(waybill, T0 + 100 * H) == []


def test_door_delivery_a_minute_after_the_hold_clock_is_a_breach():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_STATION", T0)
    scan(waybill, "DELIVERED", T0 + 24 * H + MINUTE, "door")
    assert rules(watch(waybill, T0 + 100 * H)) == [("door_delivery", "station_hold")]


def test_the_hold_clock_is_a_tariff_setting():
    waybill = parcel(station_hold_hours=6)
    scan(waybill, "ARRIVED_AT_STATION", T0)
    assert watch(waybill, T0 + 6 * H - MINUTE) == []
    assert len(watch(waybill, T0 + 6 * H + MINUTE)) == 1


def test_station_consent_covers_the_hold():
    waybill = parcel()
    consent(waybill, at=T0 - H, method="station")
    scan(waybill, "ARRIVED_AT_STATION", T0)
    assert watch(waybill, T0 + 30 * H) == []


def test_hold_and_drop_on_one_parcel_make_one_door_delivery_claim():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_STATION", T0)
    scan(waybill, "DELIVERED", T0 + 30 * H, "station")
    claims = watch(waybill, T0 + 31 * H)
    assert rules(claims) == [("door_delivery", "station_hold")]  # the earlier-due breach


# --- priority transit: hub dwell ---------------------------------------------------------------

def test_hub_dwell_a_minute_before_its_limit_is_no_breach():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    assert watch(waybill, T0 + 12 * H - MINUTE) == []


def test_hub_dwell_a_minute_past_its_limit_opens_a_transit_claim():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    (claim,) = watch(waybill, T0 + 12 * H + MINUTE)
    assert (claim.promise, claim.complaint_type, claim.breach["rule"]) == (
        "priority_transit", ComplaintType.STUCK_IN_TRANSIT, "hub_dwell")


def test_departure_a_minute_inside_the_dwell_limit_keeps_it():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    scan(waybill, "DEPARTED_HUB", T0 + 12 * H - MINUTE)
    assert watch(waybill, T0 + 13 * H) == []


def test_departure_a_minute_late_is_a_dwell_breach():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    scan(waybill, "DEPARTED_HUB", T0 + 12 * H + MINUTE)
    assert rules(watch(waybill, T0 + 13 * H)) == [("priority_transit", "hub_dwell")]


def test_each_hub_has_its_own_dwell_clock():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    scan(waybill, "DEPARTED_HUB", T0 + 2 * H)
    second = scan(waybill, "ARRIVED_AT_HUB", T0 + 10 * H)
    (claim,) = watch(waybill, T0 + 22 * H + MINUTE)
    assert claim.source_event_id == second.pk


# --- priority transit: the transit deadline ----------------------------------------------------

def test_out_for_delivery_a_minute_inside_the_transit_clock_keeps_it():
    waybill = parcel()
    scan(waybill, "PICKED_UP", T0)
    scan(waybill, "OUT_FOR_DELIVERY", T0 + 72 * H - MINUTE)
    assert watch(waybill, T0 + 80 * H) == []


def test_out_for_delivery_a_minute_late_is_a_transit_breach():
    waybill = parcel()
    scan(waybill, "PICKED_UP", T0)
    scan(waybill, "OUT_FOR_DELIVERY", T0 + 72 * H + MINUTE)
    assert rules(watch(waybill, T0 + 80 * H)) == [("priority_transit", "transit")]


def test_no_out_for_delivery_by_the_deadline_is_a_breach_a_minute_after_it():
    waybill = parcel()
    scan(waybill, "PICKED_UP", T0)
    assert watch(waybill, T0 + 72 * H - MINUTE) == []
    assert rules(watch(waybill, T0 + 72 * H + MINUTE)) == [("priority_transit", "transit")]


def test_transit_is_claimed_only_when_the_tariff_pays_for_it():
    waybill = parcel(payouts=only(ComplaintType.NOT_TO_DOOR))
    scan(waybill, "PICKED_UP", T0)
    assert watch(waybill, T0 + 100 * H) == []


# --- return pickup -----------------------------------------------------------------------------

def test_return_picked_up_a_minute_inside_its_clock_keeps_it():
    waybill = parcel()
    scan(waybill, "RETURN_PICKUP_SCHEDULED", T0)
    scan(waybill, "RETURN_PICKED_UP", T0 + 48 * H - MINUTE)
    assert watch(waybill, T0 + 60 * H) == []


def test_return_picked_up_a_minute_late_is_a_breach():
    waybill = parcel()
    scan(waybill, "RETURN_PICKUP_SCHEDULED", T0)
    scan(waybill, "RETURN_PICKED_UP", T0 + 48 * H + MINUTE)
    (claim,) = watch(waybill, T0 + 60 * H)
    assert (claim.promise, claim.complaint_type) == ("return_pickup", ComplaintType.RETURN_PICKUP_MISSED)


def test_return_never_picked_up_is_a_breach_a_minute_after_its_clock():
    waybill = parcel()
    scan(waybill, "RETURN_PICKUP_SCHEDULED", T0)
    assert watch(waybill, T0 + 48 * H - MINUTE) == []
    assert rules(watch(waybill, T0 + 48 * H + MINUTE)) == [("return_pickup", "return_pickup")]


# --- across the table --------------------------------------------------------------------------

def test_parcel_without_yinzunda_is_never_claimed():
    waybill = parcel(purchased=False)
    scan(waybill, "DELIVERED", T0, "locker")
    assert watch(waybill, T0 + H) == []


def test_every_broken_promise_gets_its_own_claim_and_rerunning_changes_nothing():
    waybill = parcel()
    scan(waybill, "PICKED_UP", T0)
    scan(waybill, "ARRIVED_AT_HUB", T0 + H)
    scan(waybill, "ARRIVED_AT_STATION", T0 + 80 * H)
    scan(waybill, "DELIVERED", T0 + 81 * H, "locker")
    scan(waybill, "RETURN_PICKUP_SCHEDULED", T0 + 90 * H)
    now = T0 + 200 * H
    first = watch(waybill, now)
    assert rules(first) == [("door_delivery", "drop"), ("priority_transit", "hub_dwell"), ("return_pickup", "return_pickup")]
    assert promises_watch(waybill_ids=[waybill.pk], now=now) == []
    assert promises_watch(waybill_ids=None, now=now + H) == []
    assert watch(waybill, now) == first


def test_a_late_scan_showing_the_promise_kept_never_closes_the_claim():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_HUB", T0)
    (claim,) = watch(waybill, T0 + 13 * H)
    scan(waybill, "DEPARTED_HUB", T0 + 11 * H)  # arrives late, dated before the limit
    assert watch(waybill, T0 + 14 * H) == [claim]
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN


def test_the_sweep_finds_clocks_that_ran_out_with_no_scan():
    waybill = parcel()
    scan(waybill, "ARRIVED_AT_STATION", T0)
    waybill.status, waybill.status_at = "at_station", T0
    waybill.save()
    assert promises_watch(waybill_ids=[waybill.pk], now=T0 + MINUTE) == []  # on ingest: the clock starts
    waybill.refresh_from_db()
    assert waybill.promise_due_at == T0 + 24 * H
    assert promises_watch(waybill_ids=None, now=T0 + 24 * H - MINUTE) == []
    (claim_id,) = promises_watch(waybill_ids=None, now=T0 + 24 * H + MINUTE)
    assert Claim.objects.get(pk=claim_id).breach["rule"] == "station_hold"
    waybill.refresh_from_db()
    assert waybill.promise_due_at is None  # nothing left running: the sweep looks no more
    assert promises_watch(waybill_ids=None, now=T0 + 48 * H) == []


def test_the_sweep_reads_only_parcels_whose_next_clock_ran_out():
    late, early = parcel(), parcel()
    scan(late, "PICKED_UP", T0)  # transit: 72 h
    scan(early, "PICKED_UP", T0)
    scan(early, "ARRIVED_AT_HUB", T0 + H)  # hub dwell: 12 h, then transit at 72 h
    promises_watch(waybill_ids=[late.pk, early.pk], now=T0 + H)
    late.refresh_from_db(), early.refresh_from_db()
    assert (late.promise_due_at, early.promise_due_at) == (T0 + 72 * H, T0 + 13 * H)
    (claim_id,) = promises_watch(waybill_ids=None, now=T0 + 14 * H)
    assert Claim.objects.get(pk=claim_id).waybill_id == early.pk
    early.refresh_from_db()
    assert early.promise_due_at == T0 + 72 * H  # the next clock still running: transit
    assert len(promises_watch(waybill_ids=None, now=T0 + 73 * H)) == 1  # late's transit; early's promise is claimed


def test_buying_the_tier_in_transit_starts_the_clocks(django_capture_on_commit_callbacks):
    waybill = parcel(purchased=False)
    waybill.status = "at_station"
    waybill.save()
    scan(waybill, "ARRIVED_AT_STATION", timezone.now() - 30 * H)
    with django_capture_on_commit_callbacks(execute=True):
        purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    assert Claim.objects.get(waybill=waybill).breach["rule"] == "station_hold"


def test_the_claim_carries_its_evidence_and_the_audit_row():
    waybill = parcel()
    arrival = scan(waybill, "ARRIVED_AT_STATION", T0)
    delivered = scan(waybill, "DELIVERED", T0 + 26 * H, "door")
    (claim,) = watch(waybill, T0 + 27 * H)
    assert claim.breach["source_event_id"] == arrival.pk and claim.breach["end_event_id"] == delivered.pk
    opened = claim.transitions.get()
    assert "驿站滞留 26 小时，超过 24 小时时限" in opened.reason
    assert opened.evidence[0]["rule"] == "station_hold"
    assert claim.notifications.count() == 1


def test_a_sweep_that_opens_many_claims_announces_them_through_outbox_tasks(monkeypatch, django_capture_on_commit_callbacks):
    from carriers.models import WebhookDelivery
    from claims.models import Notification
    from yinzunda.models import OutboxMessage

    monkeypatch.setattr("claims.services.watcher.ANNOUNCE_INLINE", 2)
    parcels = [parcel() for _ in range(5)]
    for waybill in parcels:
        scan(waybill, "DELIVERED", T0, "locker")
    with django_capture_on_commit_callbacks(execute=True):
        opened = promises_watch(waybill_ids=[w.pk for w in parcels], now=T0 + MINUTE)
        assert len(opened) == 5 and Notification.objects.count() == 0  # not yet: after commit
        # every claim has its audit row in the claims' own transaction
        assert {c.transitions.count() for c in Claim.objects.all()} == {1}
        assert OutboxMessage.objects.filter(task_name="claims.tasks.claims_announce").count() == 3  # 2 + 2 + 1
    assert sorted(Notification.objects.values_list("claim_id", flat=True)) == sorted(opened)
    assert sorted(d.payload["data"]["claim_id"] for d in WebhookDelivery.objects.filter(event_type="claim.opened")) == sorted(opened)
