"""Complaint routing rules and their application (services.complaint_route, tracking claims)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from carriers.choices import ComplaintType
from claims import routing
from claims.models import Claim, Complaint, Notification
from claims.services import complaints as services
from claims.services.watcher import promises_watch
from orders.services import purchase_create
from tests.factories import ComplaintFactory, WaybillFactory
from waybills.models import TrackingEvent
from waybills.promises import Clocks, promises_evaluate

SH = ZoneInfo("Asia/Shanghai")


def yinzunda_waybill(**kwargs):
    waybill = WaybillFactory(**kwargs)
    purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    return waybill


def deliver(waybill, method="station", at=None, proof_url="", event_id=None):
    at = at or timezone.now() - timedelta(hours=1)
    event = TrackingEvent.objects.create(
        carrier=waybill.carrier, waybill=waybill, event_id=event_id or f"ev-{waybill.pk}-{method}-{at.timestamp()}",
        code="DELIVERED", occurred_at=at, delivery_method=method, proof_url=proof_url,
        proof_type="photo" if proof_url else "",
    )
    waybill.status = "delivered"
    waybill.delivery_method = method
    waybill.delivered_at = at
    waybill.save()
    return event


# --- the pure rules: complaints judged by the promise table -------------------------------------

class Ev:
    _next = iter(range(1, 10**6))

    def __init__(self, code, occurred_at, delivery_method="", proof_type="", proof_url="", late=False):
        self.id = next(Ev._next)
        self.code, self.occurred_at, self.delivery_method = code, occurred_at, delivery_method
        self.proof_type, self.proof_url, self.late = proof_type, proof_url, late


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SH)


def decide(events=None, consents=(), now=None, **overrides):
    now = now or overrides.get("filed_at", NOW)
    events = [Ev("DELIVERED", NOW - timedelta(days=1), "station")] if events is None else events
    kwargs = {
        "complaint_type": ComplaintType.NOT_TO_DOOR, "filed_at": NOW, "now": now, "has_waybill": True,
        "covered": True, "payout": Decimal("5.00"), "window_days": 7,
        "states": promises_evaluate(events=events, consents=list(consents), clocks=Clocks(), now=now),
    }
    kwargs.update(overrides)
    return routing.route_complaint(**kwargs)


def test_station_delivery_of_a_covered_parcel_opens_a_claim_for_the_payout():
    decision = decide()
    assert decision.action == routing.OPEN_CLAIM
    assert decision.amount == Decimal("5.00") and decision.breach.rule == "drop"


def test_damaged_parcel_is_forwarded_to_the_merchant():
    assert decide(complaint_type=ComplaintType.DAMAGED).action == routing.FORWARD


def test_parcel_without_yinzunda_is_forwarded():
    assert decide(covered=False).action == routing.FORWARD


def test_complaint_after_the_window_is_rejected_with_a_reason():
    decision = decide(filed_at=NOW + timedelta(days=7))
    assert decision.action == routing.REJECT
    assert "7" in decision.reason and "签收" in decision.reason


def test_window_is_configurable():
    assert decide(filed_at=NOW + timedelta(days=7), window_days=10).action == routing.OPEN_CLAIM


def test_not_to_door_before_any_delivery_is_held_not_refused():
    decision = decide(events=[Ev("PICKED_UP", NOW - timedelta(hours=3))])
    assert decision.action == routing.HOLD
    assert decision.recheck_at == NOW + routing.RECHECK_EVERY
    assert "无需再次投诉" in decision.reason


def test_station_arrival_with_the_hold_clock_running_is_held_until_it_runs_out():
    arrival = NOW - timedelta(hours=3)
    decision = decide(complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT, events=[Ev("ARRIVED_AT_STATION", arrival)])
    assert decision.action == routing.HOLD
    assert decision.recheck_at == arrival + timedelta(hours=24, minutes=1)
    assert decision.reason == "包裹已在驿站 3 小时；如 24 小时时限到仍未送货上门，平台将自动索赔，无需再次投诉"


def test_a_parcel_not_yet_at_a_station_keeps_the_generic_hold_message():
    decision = decide(complaint_type=ComplaintType.NOT_TO_DOOR, events=[Ev("PICKED_UP", NOW - timedelta(hours=3))])
    assert decision.action == routing.HOLD and decision.reason.startswith("包裹尚未签收")


def test_station_arrival_never_delivered_is_claimed_once_the_hold_clock_ran_out():
    """Issue 12 #1: a parcel held at a station, never delivered, was refused as 尚未签收."""
    decision = decide(complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT,
                      events=[Ev("ARRIVED_AT_STATION", NOW - timedelta(hours=26))])
    assert decision.action == routing.OPEN_CLAIM
    assert "驿站滞留 26 小时，超过 24 小时时限" in decision.reason


def test_return_pickup_window_counts_from_the_scheduling_not_the_delivery():
    """Issue 12 #2: the 15-day exchange story was refused as 超过签收后 7 天."""
    events = [Ev("DELIVERED", NOW - timedelta(days=15), "door"), Ev("RETURN_PICKUP_SCHEDULED", NOW - timedelta(days=5))]
    decision = decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=events)
    assert decision.action == routing.OPEN_CLAIM
    late = decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=events, filed_at=NOW + timedelta(days=3))
    assert late.action == routing.REJECT and "预约退货取件" in late.reason


def test_return_pickup_still_in_its_clock_is_held_and_a_done_pickup_rejects():
    scheduled = Ev("RETURN_PICKUP_SCHEDULED", NOW - timedelta(hours=2))
    assert decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=[scheduled]).action == routing.HOLD
    done = [scheduled, Ev("RETURN_PICKED_UP", NOW - timedelta(hours=1))]
    assert decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=done).action == routing.REJECT


def test_stuck_in_transit_is_claimable_when_the_tariff_pays_for_it():
    """Issue 12 #3: stuck_in_transit always went to the merchant."""
    events = [Ev("PICKED_UP", NOW - timedelta(hours=80))]
    decision = decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=events)
    assert decision.action == routing.OPEN_CLAIM and decision.breach.rule == "transit"
    assert decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=events, payout=None).action == routing.FORWARD


def test_stuck_in_transit_window_counts_from_the_transit_deadline():
    pickup = NOW - timedelta(hours=72)
    events = [Ev("PICKED_UP", pickup), Ev("OUT_FOR_DELIVERY", pickup + timedelta(hours=73))]
    in_time = decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=events, filed_at=NOW + timedelta(days=7) - timedelta(minutes=1))
    assert in_time.action == routing.OPEN_CLAIM
    late = decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=events, filed_at=NOW + timedelta(days=7, minutes=1))
    assert late.action == routing.REJECT


def test_stuck_in_transit_while_the_clock_runs_is_held_and_when_kept_is_refused_with_why():
    pickup = Ev("PICKED_UP", NOW - timedelta(hours=10))
    held = decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=[pickup])
    assert held.action == routing.HOLD and held.recheck_at == pickup.occurred_at + timedelta(hours=72, minutes=1)
    kept = decide(complaint_type=ComplaintType.STUCK_IN_TRANSIT, events=[pickup, Ev("OUT_FOR_DELIVERY", NOW - timedelta(hours=1))])
    assert kept.action == routing.REJECT and "时限内" in kept.reason


def test_a_complaint_held_too_long_goes_to_the_merchant():
    decision = decide(events=[], now=NOW + routing.MAX_HOLD)
    assert decision.action == routing.FORWARD


def test_a_breach_already_claimed_is_joined_and_a_dismissed_one_is_final():
    joined = decide(existing_claim=(41, "open"))
    assert (joined.action, joined.claim_id) == (routing.JOIN, 41)
    final = decide(existing_claim=(41, "dismissed"))
    assert final.action == routing.REJECT and "最终结果" in final.reason and final.claim_id == 41


def test_a_consented_drop_is_refused_and_says_how_to_withdraw():
    class Consent:
        id, kind, source, method, valid_until, recorded_at = 1, "grant", "buyer", "station", None, NOW - timedelta(days=2)

    decision = decide(consents=[Consent()])
    assert decision.action == routing.REJECT and "撤回" in decision.reason


def test_door_delivery_with_proof_still_opens_a_claim_the_carrier_may_dispute():
    decision = decide(events=[Ev("DELIVERED", NOW - timedelta(hours=3), "door", "photo", "https://p.example/1.jpg")])
    assert decision.action == routing.OPEN_CLAIM
    assert "申诉" in decision.reason


def test_an_unconsented_drop_among_deliveries_counts():
    events = [Ev("DELIVERED", NOW - timedelta(days=9), "door"), Ev("DELIVERED", NOW - timedelta(days=1), "station")]
    assert decide(events=events).action == routing.OPEN_CLAIM


def test_seven_working_days_skip_weekends():
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
    assert routing.answer_due_at(friday, days=7, working_days=True) == datetime(2026, 12, 1, 10, 0, tzinfo=SH)


# --- services ------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_complaint_route_opens_one_claim_and_is_idempotent():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    assert complaint.routed_at is not None
    claim = Claim.objects.get()
    assert claim.complaint == complaint and claim.amount == Decimal("5.00")


@pytestmark_db
def test_complaint_on_a_parcel_without_yinzunda_is_forwarded_and_merchant_notified(mailoutbox):
    waybill = WaybillFactory()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.FORWARDED
    assert not Claim.objects.exists()
    assert Notification.objects.filter(merchant=waybill.order.merchant, title__contains=complaint.reference).exists()


@pytestmark_db
def test_tracking_claims_can_be_switched_off(settings):
    settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING = False
    waybill = yinzunda_waybill()
    deliver(waybill, "locker")
    assert promises_watch(waybill_ids=[waybill.pk]) == []
    assert not Claim.objects.exists()


@pytestmark_db
def test_complaint_after_a_watcher_claim_joins_it_and_pays_nothing_twice():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    (claim_id,) = promises_watch(waybill_ids=[waybill.pk])
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    assert complaint.joined_claim_id == claim_id and str(claim_id) in complaint.decision_reason
    assert Claim.objects.count() == 1


@pytestmark_db
def test_the_status_page_of_a_joined_complaint_shows_the_claims_clock(client):
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    promises_watch(waybill_ids=[waybill.pk])
    complaint = ComplaintFactory(waybill=waybill, order=waybill.order)
    services.complaint_route(complaint_id=complaint.pk)
    client.post(reverse("buyer:complaint_start"),
                {"number": waybill.order.order_number, "phone_last4": waybill.order.recipient_phone[-4:]})
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert "放至驿站/代收点，买家未同意：该包裹的索赔已在处理中" in body


@pytestmark_db
def test_a_complaint_claim_is_not_claimed_again_by_the_watcher():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    assert promises_watch(waybill_ids=[waybill.pk]) == []
    assert Claim.objects.get().promise == "door_delivery"


@pytestmark_db
def test_promises_watch_task_opens_claims_for_the_given_waybills():
    from claims.tasks import promises_watch as task

    waybill = yinzunda_waybill()
    deliver(waybill, "locker")
    assert task([waybill.pk, 999999]) == [Claim.objects.get().pk]


@pytestmark_db
def test_a_held_complaint_is_judged_again_by_the_sweep_once_its_clock_ran_out():
    from claims.tasks import promises_sweep

    waybill = yinzunda_waybill()
    arrival = timezone.now() - timedelta(hours=3)
    TrackingEvent.objects.create(carrier=waybill.carrier, waybill=waybill, event_id="st-1",
                                 code="ARRIVED_AT_STATION", occurred_at=arrival)
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.HELD
    assert complaint.recheck_at == arrival + timedelta(hours=24, minutes=1)
    assert services.complaint_route(complaint_id=complaint.pk).status == Complaint.Status.HELD  # not due yet

    later = arrival + timedelta(hours=25)
    services.complaint_route(complaint_id=complaint.pk, now=later)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    assert Claim.objects.get().breach["rule"] == "station_hold"
    assert promises_sweep() == 0


@pytestmark_db
def test_complaint_past_the_configured_window_is_rejected_with_a_readable_reason(settings):
    settings.YINZUNDA_COMPLAINT_WINDOW_DAYS = 3
    waybill = yinzunda_waybill()
    deliver(waybill, "station", at=timezone.now() - timedelta(days=4))
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.REJECTED
    assert "3 天" in complaint.decision_reason
    assert not Claim.objects.exists()


@pytestmark_db
def test_routing_locks_the_complaint_and_waybill_rows_but_not_the_carrier():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill)
    with CaptureQueriesContext(connection) as ctx:
        services.complaint_route(complaint_id=complaint.pk)
    locks = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 2
    assert 'FOR UPDATE OF "waybills_waybill"' in locks[1]
    # 3 for the claim.opened webhook: its sequence, its row (also with no URL: kept for catch-up), the scans it carries;
    # + the parcel's consent records and the claim on its promise
    assert len(ctx.captured_queries) <= 18
