"""Celery tasks (run eagerly here): sweep, deadlines, daily settlements, notifications."""
from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from carriers.models import WebhookDelivery
from claims import tasks
from claims.models import Claim, Complaint, Notification, Settlement
from claims.services.claims import claim_accept, claim_dispute, claim_ruling
from claims.services.complaints import complaint_file, complaint_route
from claims.services.settlements import settlement_confirm_payment
from orders.models import LedgerEntry
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import ComplaintFactory, UserFactory
from yinzunda import outbox
from yinzunda.celery import app as celery_app
from yinzunda.models import OutboxMessage

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def not_eager():
    """Publish through the (mocked) broker instead of running tasks in process."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    outbox._broker_down_until = 0
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved
        outbox._broker_down_until = 0


def routed_claim(**waybill_kwargs) -> Claim:
    waybill = yinzunda_waybill(**waybill_kwargs)
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill)
    complaint_route(complaint_id=complaint.pk)
    return Claim.objects.get(complaint=complaint)


def test_sweep_routes_complaints_left_unrouted_but_not_fresh_ones():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    stale = ComplaintFactory(waybill=waybill, created_at=timezone.now() - timedelta(minutes=2))
    fresh = ComplaintFactory(created_at=timezone.now())
    assert tasks.complaints_sweep_unrouted() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == Complaint.Status.CLAIM_OPENED
    assert fresh.status == Complaint.Status.RECEIVED
    assert tasks.complaints_sweep_unrouted() == 0


def test_filing_survives_a_broker_outage(django_capture_on_commit_callbacks, caplog):
    waybill = yinzunda_waybill()
    outage = mock.patch.object(celery_app, "send_task", side_effect=OSError("broker down"))
    with not_eager(), outage, django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_file(order=waybill.order, complaint_type="not_to_door")
    assert Complaint.objects.get(pk=complaint.pk).status == Complaint.Status.RECEIVED
    assert "sweep will route it" in caplog.text
    # the routing is in the outbox, committed with the complaint: the sweep delivers it
    assert OutboxMessage.objects.get(task_name="claims.tasks.complaint_route").done_at is None
    assert outbox.outbox_sweep(republish_after=0) == 1
    assert Complaint.objects.get(pk=complaint.pk).routed_at is not None
    assert OutboxMessage.objects.get(task_name="claims.tasks.complaint_route").done_at is not None
    assert outbox.outbox_sweep(republish_after=0) == 0  # done: never run again


def test_overdue_claims_are_auto_accepted_by_beat():
    claim = routed_claim()
    Claim.objects.filter(pk=claim.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    other = routed_claim()
    assert tasks.claims_auto_accept_overdue() == 1
    claim.refresh_from_db()
    other.refresh_from_db()
    assert claim.status == Claim.Status.AUTO_ACCEPTED
    assert other.status == Claim.Status.OPEN


def test_carrier_deadline_is_per_carrier():
    claim = routed_claim()
    claim.carrier.response_deadline_hours = 24
    claim.carrier.save()
    second = routed_claim(carrier=claim.carrier)
    assert second.deadline_at - second.opened_at == timedelta(hours=24)


def test_daily_settlement_gathers_payable_claims_of_each_carrier_then_payment_credits_ledger():
    accepted = routed_claim()
    claim_accept(claim_id=accepted.pk, carrier=accepted.carrier)
    still_open = routed_claim(carrier=accepted.carrier)
    Claim.objects.filter(pk=accepted.pk).update(resolved_at=timezone.now() - timedelta(days=1))
    (settlement_id,) = tasks.settlements_issue_daily()
    settlement = Settlement.objects.get(pk=settlement_id)
    assert settlement.claim_count == 1 and settlement.total_amount == Decimal("5.00")
    assert tasks.settlements_issue_daily() == []
    settlement_confirm_payment(settlement_id=settlement.pk, carrier=accepted.carrier, payment_reference="P1")
    assert LedgerEntry.objects.get(kind="compensation").amount == Decimal("5.00")
    assert Claim.objects.get(pk=still_open.pk).settlement is None


def test_every_claim_event_reaches_the_merchant_inbox_email_and_carrier_webhook(
    django_capture_on_commit_callbacks, mailoutbox
):
    sent = mock.Mock(return_value=mock.Mock(ok=True, status_code=200, error="", duration_ms=1))
    with mock.patch("carriers.webhooks.post_signed", sent), django_capture_on_commit_callbacks(execute=True):
        waybill = yinzunda_waybill()
        waybill.carrier.webhook_url = "https://carrier.example/hook"
        waybill.carrier.save()
        deliver(waybill, "door")
        complaint = ComplaintFactory(waybill=waybill)
        complaint_route(complaint_id=complaint.pk)
        claim = Claim.objects.get()
        claim_dispute(claim_id=claim.pk, carrier=claim.carrier, reason="已上门", evidence=[])
        claim_ruling(claim_id=claim.pk, user=UserFactory(is_staff=True), uphold=True, reason="无凭证")
    titles = list(Notification.objects.filter(claim=claim).values_list("title", flat=True))
    assert len(titles) == 3
    assert len(mailoutbox) == 3
    assert {m.to[0] for m in mailoutbox} == {waybill.order.merchant.email}
    events = set(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert {e for e in events if e.startswith("claim.")} == {"claim.opened", "claim.resolved"}
    # the tier bought before the carrier registered its URL is recorded for catch-up, never sent
    assert events - {"claim.opened", "claim.resolved"} == {"waybill.service_added"}
    assert sent.call_count == 2


def test_daily_settlement_rerun_for_a_period_already_issued_skips_that_carrier():
    first = routed_claim()
    claim_accept(claim_id=first.pk, carrier=first.carrier)
    Claim.objects.filter(pk=first.pk).update(resolved_at=timezone.now() - timedelta(days=1))
    assert len(tasks.settlements_issue_daily()) == 1
    late = routed_claim(carrier=first.carrier)  # resolved "yesterday" but committed after the run
    claim_accept(claim_id=late.pk, carrier=late.carrier)
    Claim.objects.filter(pk=late.pk).update(resolved_at=timezone.now() - timedelta(days=1))
    assert tasks.settlements_issue_daily() == []
    assert Claim.objects.get(pk=late.pk).settlement is None


def test_accept_auto_accept_and_payment_each_notify_the_merchant_by_inbox_and_email(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = routed_claim()
        silent = routed_claim(carrier=accepted.carrier)
        claim_accept(claim_id=accepted.pk, carrier=accepted.carrier)
        Claim.objects.filter(pk=silent.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
        tasks.claims_auto_accept_overdue()
        Claim.objects.filter(pk__in=[accepted.pk, silent.pk]).update(resolved_at=timezone.now() - timedelta(days=1))
        (settlement_id,) = tasks.settlements_issue_daily()
        settlement_confirm_payment(settlement_id=settlement_id, carrier=accepted.carrier, payment_reference="P9")
    titles = list(Notification.objects.order_by("pk").values_list("title", flat=True))
    # opened ×2, accepted, auto-accepted, then one payment notice per merchant (two merchants)
    assert len(titles) == 6
    assert any("已接受" in t for t in titles) and any("超时自动接受" in t for t in titles)
    assert sum("已入账" in t for t in titles) == 2
    assert len(mailoutbox) == 6
    assert all(m.subject.startswith("[音尊达]") for m in mailoutbox)
