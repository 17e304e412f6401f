"""What an operator reads: /healthz, /readyz, /metrics, request ids in answers and logs, the
ledger balance check."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from claims import tasks
from claims.services import ledger
from tests.claims.test_routing import yinzunda_waybill
from tests.factories import ComplaintFactory
from yinzunda.models import OperatorAlert, OutboxMessage
from yinzunda.requestid import JsonFormatter, RequestIdFilter, request_id_bound

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "alive"}


def checks(response) -> dict:
    return {c["name"]: c for c in response.json()["checks"]}


def test_readyz_is_ok_when_everything_works(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok", response.json()
    assert {"database", "redis", "broker", "outbox", "operator_alerts", "oldest_unrouted_complaint",
            "webhook_failure_streaks"} <= set(checks(response))


def test_readyz_names_what_is_wrong(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    ComplaintFactory(created_at=timezone.now() - timedelta(minutes=10))
    OutboxMessage.objects.create(task_name="claims.tasks.complaint_route", args=[0],
                                 created_at=timezone.now() - timedelta(minutes=5),
                                 available_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/readyz")
    assert response.status_code == 200  # degraded, still serving
    body = response.json()
    assert body["status"] == "degraded"
    found = checks(response)
    assert not found["redis"]["ok"] and "Error" in found["redis"]["detail"]
    assert not found["outbox"]["ok"] and found["outbox"]["value"] >= 290
    assert not found["oldest_unrouted_complaint"]["ok"] and found["oldest_unrouted_complaint"]["value"] >= 590
    assert found["database"]["ok"]


def test_readyz_is_503_without_the_database(client, monkeypatch):
    from django.db import OperationalError

    from yinzunda import health

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_every_answer_echoes_a_well_formed_request_id_or_makes_one(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123").headers["X-Request-ID"] == "abc-123"
    made = client.get("/no-such-page/", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"]
    assert made != "<script>" and len(made) == 32
    assert client.get("/api/v1/carrier/claims").headers["X-Request-ID"]  # a 401 too


def test_log_lines_carry_the_request_id_as_json():
    record = logging.LogRecord("yinzunda.test", logging.WARNING, __file__, 1, "routed %s", ("TS1",), None)
    with request_id_bound("req-42"):
        RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "req-42" and entry["message"] == "routed TS1" and entry["level"] == "WARNING"


def test_outbox_rows_remember_the_request_that_caused_them(client, django_capture_on_commit_callbacks):
    waybill = yinzunda_waybill()
    client.post("/complaint/", {"number": waybill.order.order_number, "phone_last4": waybill.order.recipient_phone[-4:]})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/complaint/new/", {"complaint_type": "not_to_door", "description": "",
                                        "submission_token": "5b6c1c0e-0000-4000-8000-000000000001"},
                    HTTP_X_REQUEST_ID="buyer-req-1")
    assert OutboxMessage.objects.get(task_name="claims.tasks.complaint_route").request_id == "buyer-req-1"


def test_metrics_show_requests_outbox_queues_and_claims(client):
    client.get("/healthz")
    ComplaintFactory()
    body = client.get("/metrics").content.decode()
    for name in ("yinzunda_http_requests_total", "yinzunda_http_request_duration_seconds_bucket",
                 "yinzunda_outbox_pending", "yinzunda_outbox_lag_seconds", "yinzunda_claims{status=\"open\"}",
                 "yinzunda_complaints{status=\"received\"} 1.0", "yinzunda_outbox_runs_total"):
        assert name in body, name


def test_metrics_need_the_token_from_outside(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 404
    settings.YINZUNDA_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


def test_ledger_out_of_balance_alerts_operators_until_it_balances_again(client, caplog, monkeypatch):
    assert tasks.ledger_balance_check() is True
    balanced = ledger.ledger_totals()
    # (the ledger's constraints and append-only trigger make a real disagreement hard to write)
    monkeypatch.setattr(ledger, "ledger_totals", lambda: {**balanced, "compensation_ledger": Decimal("5.00")})
    assert tasks.ledger_balance_check() is False
    assert tasks.ledger_balance_check() is False
    alert = OperatorAlert.objects.get(kind="ledger_out_of_balance", resolved_at__isnull=True)
    assert alert.count == 2 and "compensation_ledger=5.00" in alert.message
    assert "ledger out of balance" in caplog.text
    assert checks(client.get("/readyz"))["operator_alerts"]["ok"] is False
    # once it balances again, the alert closes
    monkeypatch.setattr(ledger, "ledger_totals", lambda: balanced)
    assert tasks.ledger_balance_check() is True
    assert not OperatorAlert.objects.filter(resolved_at__isnull=True).exists()
