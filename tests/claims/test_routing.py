"""Complaint routing rules and their application (services.complaint_route, tracking claims)."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from carriers.choices import ComplaintType
from claims import routing
from claims.models import Claim, Complaint, Notification
from claims.services import complaints as services
from orders.services import purchase_create
from tests.factories import ComplaintFactory, WaybillFactory
from waybills.models import TrackingEvent

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


# --- the pure rules ---------------------------------------------------------------------

class Ev:
    def __init__(self, code, occurred_at, delivery_method="", proof_type="", proof_url="", late=False):
        self.code, self.occurred_at, self.delivery_method = code, occurred_at, delivery_method
        self.proof_type, self.proof_url, self.late = proof_type, proof_url, late


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SH)


def decide(**overrides):
    kwargs = {
        "complaint_type": ComplaintType.NOT_TO_DOOR, "filed_at": NOW, "has_waybill": True,
        "events": [Ev("DELIVERED", NOW - timedelta(days=1), "station")], "covered": True,
        "payout": Decimal("5.00"), "window_days": 7,
    }
    kwargs.update(overrides)
    return routing.route_complaint(**kwargs)


def test_station_delivery_of_a_covered_parcel_opens_a_claim_for_the_payout():
    decision = decide()
    assert decision.action == routing.OPEN_CLAIM
    assert decision.amount == Decimal("5.00")


def test_damaged_parcel_is_forwarded_to_the_merchant():
    assert decide(complaint_type=ComplaintType.DAMAGED).action == routing.FORWARD


def test_parcel_without_yinzunda_is_forwarded():
    assert decide(covered=False).action == routing.FORWARD


def test_complaint_after_the_window_is_rejected_with_a_reason():
    decision = decide(filed_at=NOW + timedelta(days=7))
    assert decision.action == routing.REJECT
    assert "7" in decision.reason


def test_window_is_configurable():
    assert decide(filed_at=NOW + timedelta(days=7), window_days=10).action == routing.OPEN_CLAIM


def test_not_to_door_before_any_delivery_is_rejected():
    assert decide(events=[]).action == routing.REJECT


def test_return_pickup_missed_needs_no_delivery_but_a_done_pickup_rejects():
    assert decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=[]).action == routing.OPEN_CLAIM
    done = [Ev("RETURN_PICKED_UP", NOW - timedelta(hours=2))]
    assert decide(complaint_type=ComplaintType.RETURN_PICKUP_MISSED, events=done).action == routing.REJECT


def test_door_delivery_with_proof_still_opens_a_claim_the_carrier_may_dispute():
    decision = decide(events=[Ev("DELIVERED", NOW - timedelta(hours=3), "door", "photo", "https://p.example/1.jpg")])
    assert decision.action == routing.OPEN_CLAIM
    assert "申诉" in decision.reason


def test_latest_delivery_scan_counts():
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
def test_tracking_station_scan_opens_a_claim_without_complaint(settings):
    settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING = True
    waybill = yinzunda_waybill()
    event = deliver(waybill, "station")
    claim = services.claim_open_from_tracking(event_id=event.pk)
    assert claim.trigger == Claim.Trigger.TRACKING and claim.source_event == event
    assert services.claim_open_from_tracking(event_id=event.pk) is None
    assert Claim.objects.count() == 1


@pytestmark_db
def test_tracking_claims_can_be_switched_off(settings):
    settings.YINZUNDA_AUTO_CLAIM_ON_TRACKING = False
    waybill = yinzunda_waybill()
    event = deliver(waybill, "locker")
    assert services.claim_open_from_tracking(event_id=event.pk) is None
    assert not Claim.objects.exists()


@pytestmark_db
def test_door_scan_or_no_yinzunda_opens_no_tracking_claim():
    door = deliver(yinzunda_waybill(), "door")
    plain = deliver(WaybillFactory(), "station")
    assert services.claim_open_from_tracking(event_id=door.pk) is None
    assert services.claim_open_from_tracking(event_id=plain.pk) is None


@pytestmark_db
def test_complaint_after_a_tracking_claim_joins_it_and_pays_nothing_twice():
    waybill = yinzunda_waybill()
    event = deliver(waybill, "station")
    tracking_claim = services.claim_open_from_tracking(event_id=event.pk)
    complaint = ComplaintFactory(waybill=waybill)
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    assert str(tracking_claim.pk) in complaint.decision_reason
    assert Claim.objects.count() == 1


@pytestmark_db
def test_tracking_evaluate_task_opens_claims_for_the_given_events():
    from claims.tasks import tracking_evaluate

    event = deliver(yinzunda_waybill(), "locker")
    opened = tracking_evaluate([event.pk, 999999])
    assert opened == [Claim.objects.get().pk]


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
    # 3 for the claim.opened webhook: its sequence, its row (also with no URL: kept for catch-up), the scans it carries
    assert len(ctx.captured_queries) <= 16
