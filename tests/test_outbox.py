"""The transactional outbox: every side effect is a row committed with its cause, published after
commit and again by the sweep, run once."""
from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from carriers.models import WebhookDelivery
from claims.models import Claim, Complaint, Notification
from claims.services.claims import claim_dispute
from claims.services.complaints import complaint_file
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import WaybillFactory
from waybills.services.tracking import tracking_events_ingest
from yinzunda import outbox
from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.models import OperatorAlert, OutboxMessage

pytestmark = pytest.mark.django_db


BUG = mock.patch("claims.services.complaints.routing.route_complaint", side_effect=RuntimeError("bug"))


def pending() -> set[str]:
    return set(OutboxMessage.objects.filter(done_at__isnull=True).values_list("task_name", flat=True))


def test_without_the_after_commit_publish_the_sweep_alone_delivers_every_side_effect_once(
    settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT = False
    sent = mock.Mock(return_value=mock.Mock(ok=True, status_code=200, error="", duration_ms=1))
    with mock.patch("carriers.webhooks.post_signed", sent), django_capture_on_commit_callbacks(execute=True) as hooks:
        # a buyer's complaint (routing -> claim -> webhook + merchant e-mail)
        waybill = yinzunda_waybill()
        waybill.carrier.webhook_url = "https://carrier.example/hook"
        waybill.carrier.save()
        deliver(waybill, "station")
        complaint = complaint_file(order=waybill.order, complaint_type="not_to_door")
        # a carrier's locker scan of another parcel (claim evaluation from tracking)
        scanned = yinzunda_waybill(carrier=waybill.carrier)
        tracking_events_ingest(carrier=scanned.carrier, events=[_locker_scan(scanned)])
    assert hooks == []  # nothing is published after commit
    # (buying the tier on the second parcel tells the carrier at once: waybill.service_added)
    assert pending() == {"claims.tasks.complaint_route", "claims.tasks.promises_watch", "carriers.tasks.webhook_deliver"}
    assert Complaint.objects.get(pk=complaint.pk).status == Complaint.Status.RECEIVED

    # the sweep delivers them, and what they cause (e-mails, webhooks) on its next passes
    with mock.patch("carriers.webhooks.post_signed", sent):
        while outbox.outbox_sweep(republish_after=0):
            pass
    assert pending() == set()
    assert Complaint.objects.get(pk=complaint.pk).status == Complaint.Status.CLAIM_OPENED
    assert Claim.objects.count() == 2
    assert len(mailoutbox) == Notification.objects.count() == 2
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).count() == 3  # 2 claims, 1 service
    assert sent.call_count == 3
    # nothing runs twice
    assert outbox.outbox_sweep(republish_after=0) == 0
    with mock.patch("carriers.webhooks.post_signed", sent):
        for message in OutboxMessage.objects.all():
            assert outbox.outbox_message_run(message.pk) == "skipped"
    assert len(mailoutbox) == 2 and sent.call_count == 3 and Claim.objects.count() == 2


def _locker_scan(waybill) -> dict:
    return {
        "event_id": f"locker-{waybill.pk}", "waybill_number": waybill.number, "code": "DELIVERED",
        "occurred_at": timezone.now().isoformat(), "delivery_method": "locker", "location": "丰巢柜",
    }


def test_a_side_effect_of_a_rolled_back_change_is_never_recorded(django_capture_on_commit_callbacks):
    waybill = yinzunda_waybill()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        complaint_file(order=waybill.order, complaint_type="not_to_door")
        raise RuntimeError("the request failed after filing")
    assert not Complaint.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_failing_task_stays_in_the_outbox_with_a_backoff_and_alerts_operators_when_it_keeps_failing(
    django_capture_on_commit_callbacks, mailoutbox
):
    waybill = yinzunda_waybill()
    deliver(waybill, "door")
    complaint = complaint_file(order=waybill.order, complaint_type="not_to_door")
    message = OutboxMessage.objects.get(task_name="claims.tasks.complaint_route")
    with BUG, pytest.raises(RuntimeError):
        outbox.outbox_message_run(message.pk)
    message.refresh_from_db()
    assert message.done_at is None and message.attempts == 1 and "bug" in message.last_error
    assert message.available_at > message.created_at  # backs off
    assert outbox.outbox_message_run(message.pk) == "skipped"  # not due yet
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=message.created_at, attempts=9)
    with BUG, pytest.raises(RuntimeError):
        outbox.outbox_message_run(message.pk)
    assert OperatorAlert.objects.get(kind="outbox_failing").key == "claims.tasks.complaint_route"
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=message.created_at)
    assert outbox.outbox_message_run(message.pk) == "done"
    assert Complaint.objects.get(pk=complaint.pk).routed_at is not None


def test_carrier_answers_record_their_webhooks_in_the_outbox(django_capture_on_commit_callbacks):
    waybill = yinzunda_waybill()
    waybill.carrier.webhook_url = "https://carrier.example/hook"
    waybill.carrier.save()
    deliver(waybill, "station")
    sent = mock.Mock(return_value=mock.Mock(ok=True, status_code=200, error="", duration_ms=1))
    with mock.patch("carriers.webhooks.post_signed", sent), django_capture_on_commit_callbacks(execute=True):
        complaint_file(order=waybill.order, complaint_type="not_to_door")
    claim = Claim.objects.get()
    with mock.patch("carriers.webhooks.post_signed", sent), django_capture_on_commit_callbacks(execute=True):
        claim_dispute(claim_id=claim.pk, carrier=claim.carrier, reason="已上门", evidence=[])
    assert pending() == set()
    # claim.opened and its e-mail; the dispute itself only notifies the merchant
    assert OutboxMessage.objects.filter(task_name="carriers.tasks.webhook_deliver").count() == 1
    # one e-mail run per inbox entry: singly, or in the watcher's batches (notifications_email)
    single = OutboxMessage.objects.filter(task_name="claims.tasks.notification_email").count()
    batched = sum(len(m.args[0]) for m in OutboxMessage.objects.filter(task_name="claims.tasks.notifications_email"))
    assert single + batched == Notification.objects.count()


def test_enqueue_outside_a_transaction_still_writes_the_row_first(django_capture_on_commit_callbacks):
    other = WaybillFactory()
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        message = task_enqueue_on_commit("claims.tasks.promises_watch", [other.pk * 1000])
    assert OutboxMessage.objects.get(pk=message.pk).args == [[other.pk * 1000]]
    assert len(hooks) == 1
