"""Signed webhooks to a real local HTTP server: signature, stable event_id, backoff, attempts, replay."""
from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from carriers import webhooks
from carriers.models import WebhookAttempt, WebhookDelivery
from carriers.tasks import MAX_ATTEMPTS, backoff_seconds, webhook_deliver, webhooks_sweep_pending
from tests.factories import UserFactory, WaybillFactory

from .conftest import open_claim

pytestmark = pytest.mark.django_db
SECRET = "whsec_zto_test"


class CarrierEndpoint:
    """What a carrier runs: verifies our signature with the documented algorithm, answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        self.script: list[int] = []  # statuses to answer first, in order; then `status`
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get(webhooks.SIGNATURE_HEADER, "")
                endpoint.received.append({
                    "body": json.loads(body), "valid": webhooks.verify(secret=SECRET, body=body, header=header),
                    "header": header, "raw": body,
                })
                status = endpoint.script.pop(0) if endpoint.script else endpoint.status
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"down for maintenance")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
        self.url = f"http://127.0.0.1:{self.server.server_port}/yinzunda/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    with CarrierEndpoint() as running:
        yield running


@pytest.fixture
def hooked_carrier(carrier_a, endpoint):
    carrier_a.webhook_url = endpoint.url
    carrier_a.webhook_secret = SECRET
    carrier_a.save(update_fields=["webhook_url", "webhook_secret"])
    return carrier_a


def test_claim_opened_is_delivered_signed_and_logged(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        claim = open_claim(WaybillFactory(carrier=hooked_carrier))

    delivery = WebhookDelivery.objects.get(event_type="claim.opened")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(endpoint.received) == 1
    got = endpoint.received[0]
    assert got["valid"] is True
    assert got["body"]["event_id"] == delivery.event_id
    assert got["body"]["type"] == "claim.opened"
    assert got["body"]["data"]["claim_id"] == claim.pk
    assert got["body"]["data"]["amount"] == "5.00"
    assert delivery.attempts.get().status_code == 200


def test_signature_fails_for_a_tampered_body_a_wrong_secret_or_an_old_timestamp(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    got = endpoint.received[0]
    tampered = got["raw"].replace(b'"5.00"', b'"500.00"')
    assert webhooks.verify(secret=SECRET, body=tampered, header=got["header"]) is False
    assert webhooks.verify(secret="other", body=got["raw"], header=got["header"]) is False
    timestamp = int(got["header"].split(",")[0][2:])
    assert webhooks.verify(secret=SECRET, body=got["raw"], header=got["header"], now=timestamp + 3600) is False
    assert webhooks.verify(secret=SECRET, body=got["raw"], header="garbage") is False


def test_failures_back_off_keep_the_event_id_and_log_every_attempt(hooked_carrier, endpoint, django_capture_on_commit_callbacks):
    endpoint.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=hooked_carrier))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempt_count == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=backoff_seconds(1) - 5)

    # not due yet: a stray task or the sweep does nothing
    assert webhook_deliver(delivery.pk) == "not_due"
    assert webhooks_sweep_pending() == 0

    for _ in range(MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        webhook_deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempt_count == MAX_ATTEMPTS
    assert WebhookAttempt.objects.filter(delivery=delivery, status_code=503).count() == MAX_ATTEMPTS
    assert {r["body"]["event_id"] for r in endpoint.received} == {delivery.event_id}
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]


def test_unreachable_endpoint_is_logged_as_an_error(carrier_a, django_capture_on_commit_callbacks):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    carrier_a.webhook_url = f"http://127.0.0.1:{port}/hook"
    carrier_a.save(update_fields=["webhook_url"])
    with django_capture_on_commit_callbacks(execute=True):
        open_claim(WaybillFactory(carrier=carrier_a))
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "ConnectionError" in attempt.error


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
