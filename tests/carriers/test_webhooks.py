"""Signed webhooks to a real local HTTP server: both signature schemes, stable event_id, backoff
with jitter over 3 days, attempts, replay, redirects, and what the admin shows of an answer."""
from __future__ import annotations

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from carriers import webhooks
from carriers.deliveries import backoff_base_seconds, backoff_seconds
from carriers.models import WebhookAttempt, WebhookDelivery
from carriers.services import webhook_secret_generate
from carriers.tasks import webhook_deliver, webhooks_sweep_pending
from tests.factories import UserFactory, WaybillFactory

from .conftest import open_claim
from .receivers import CarrierEndpoint, local_receivers, verified_by_libraries  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_receivers")]
SECRET = webhook_secret_generate()


@pytest.fixture
def endpoint():
    with CarrierEndpoint(SECRET) as running:
        yield running


@pytest.fixture
def hooked_carrier(carrier_a, endpoint):
    carrier_a.webhook_url = endpoint.url
    carrier_a.webhook_secret = SECRET
    carrier_a.save(update_fields=["webhook_url", "webhook_secret"])
    return carrier_a


def test_claim_opened_is_delivered_signed_both_ways_and_logged(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        claim = open_claim(WaybillFactory(carrier=hooked_carrier))

    delivery = WebhookDelivery.objects.get(event_type="claim.opened")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(endpoint.received) == 1
    got = endpoint.received[0]
    assert got["valid"] is True  # stripe.WebhookSignature.verify_header and standardwebhooks.Webhook.verify
    assert got["headers"]["webhook-id"] == delivery.event_id == got["body"]["event_id"]
    assert got["body"]["type"] == "claim.opened"
    assert got["body"]["sequence"] == delivery.sequence == 1
    assert got["body"]["data"]["claim_id"] == claim.pk
    assert got["body"]["data"]["amount"] == "5.00"
    assert got["body"]["created_at"].endswith("+08:00")
    assert delivery.attempts.get().status_code == 200


def test_signature_fails_for_a_tampered_body_a_wrong_secret_or_an_old_timestamp(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    got = endpoint.received[0]
    header = got["headers"][webhooks.SIGNATURE_HEADER]
    tampered = got["raw"].replace(b'"5.00"', b'"500.00"')
    assert verified_by_libraries(secret=SECRET, raw=got["raw"], headers=got["headers"]) is True
    assert verified_by_libraries(secret=SECRET, raw=tampered, headers=got["headers"]) is False
    assert verified_by_libraries(secret=webhook_secret_generate(), raw=got["raw"], headers=got["headers"]) is False
    assert webhooks.verify(secret=SECRET, body=got["raw"], header=header) is True
    assert webhooks.verify(secret=SECRET, body=tampered, header=header) is False
    timestamp = int(header.split(",")[0][2:])
    assert webhooks.verify(secret=SECRET, body=got["raw"], header=header, now=timestamp + 3600) is False
    assert webhooks.verify(secret=SECRET, body=got["raw"], header="garbage") is False


def test_failures_back_off_with_jitter_keep_the_event_id_and_stop_after_three_days(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    endpoint.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempt_count == 1
    first_wait = (delivery.next_attempt_at - delivery.attempts.get().attempted_at).total_seconds()
    assert 0.8 * 30 <= first_wait <= 1.2 * 30
    assert delivery.retry_until >= delivery.created_at + timedelta(days=3)

    # not due yet: a stray task or the sweep does nothing
    assert webhook_deliver(delivery.pk) == "not_due"
    assert webhooks_sweep_pending() == 0

    for _ in range(5):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhook_deliver(delivery.pk) == "pending"
    # three days on: the next failure is the last one
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now(), retry_until=timezone.now() - timedelta(seconds=1)
    )
    assert webhook_deliver(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.attempt_count == 7
    assert WebhookAttempt.objects.filter(delivery=delivery, status_code=503).count() == 7
    assert {r["body"]["event_id"] for r in endpoint.received} == {delivery.event_id}
    assert [backoff_base_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_base_seconds(30) == 6 * 3600
    waits = {round(backoff_seconds(4), 3) for _ in range(20)}
    assert len(waits) > 1 and all(0.8 * 240 <= w <= 1.2 * 240 for w in waits)
    # the schedule spans at least the three days: 30 s doubling to a 6 h cap
    assert sum(backoff_base_seconds(n) for n in range(1, 22)) >= 3 * 86400


def test_unreachable_endpoint_is_logged_as_an_error(carrier_a, django_capture_on_commit_callbacks):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    carrier_a.webhook_url = f"http://127.0.0.1:{port}/hook"
    carrier_a.save(update_fields=["webhook_url"])
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=carrier_a))
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "Connection refused" in attempt.error


def test_admin_replay_sends_the_same_event_again(hooked_carrier, endpoint, client, django_capture_on_commit_callbacks):
    endpoint.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    endpoint.status = 200
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/carriers/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [r["body"]["event_id"] for r in endpoint.received] == [delivery.event_id] * 2
    assert delivery.attempts.count() == 2
    page = client.get(f"/admin/carriers/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and delivery.event_id in page.content.decode()


def test_admin_shows_only_a_short_escaped_excerpt_of_an_answer(hooked_carrier, endpoint, client, django_capture_on_commit_callbacks):
    endpoint.status = 500
    endpoint.answer_body = b"<script>alert('pwned')</script>" + b"x" * 50_000 + b"SECRET-TAIL"
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    attempt = WebhookAttempt.objects.get()
    assert len(attempt.error) <= 200 and "SECRET-TAIL" not in attempt.error, attempt.error

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/carriers/webhookdelivery/{attempt.delivery_id}/change/").content.decode()
    assert "&lt;script&gt;alert(" in page, attempt.error
    assert "<script>alert(" not in page
    assert "x" * 201 not in page


def test_redirects_are_not_followed(carrier_a, django_capture_on_commit_callbacks):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        carrier_a.webhook_url = f"http://127.0.0.1:{server.server_port}/hook"
        carrier_a.save(update_fields=["webhook_url"])
        with django_capture_on_commit_callbacks(execute=True):
            open_claim(WaybillFactory(carrier=carrier_a))
    finally:
        server.shutdown()
        server.server_close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts.get().status_code == 302


def test_many_events_at_once_take_each_carriers_next_sequences_in_order(carrier_a, carrier_b):
    from carriers.services import webhook_enqueue, webhooks_enqueue_many

    first = webhook_enqueue(carrier=carrier_a, event_type="claim.opened", payload={"claim_id": 0})
    many = webhooks_enqueue_many(items=[
        (carrier_b, "claim.opened", {"claim_id": 1}), (carrier_a, "claim.opened", {"claim_id": 2}),
        (carrier_a, "claim.resolved", {"claim_id": 3}), (carrier_b, "claim.opened", {"claim_id": 4}),
    ])
    assert [(d.carrier_id, d.sequence, d.payload["data"]["claim_id"]) for d in many] == [
        (carrier_b.pk, 1, 1), (carrier_a.pk, first.sequence + 1, 2), (carrier_a.pk, first.sequence + 2, 3),
        (carrier_b.pk, 2, 4),
    ]
    assert all(d.pk and d.payload["sequence"] == d.sequence for d in many)
    assert webhook_enqueue(carrier=carrier_b, event_type="claim.opened", payload={}).sequence == 3
    with pytest.raises(ValueError):
        webhooks_enqueue_many(items=[(carrier_a, "claim.nonsense", {})])
