"""Fault suite: Redis killed under every entry point, a worker killed -9 mid-routing and mid-webhook.

Throwaway redis-server and Celery workers on free ports (tests/support/processes.py), the
pytest database (committed data). The beat sweep is played by the test, once a second.
Each test asserts no 5xx, nothing lost, nothing done twice, and prints the catch-up time.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from carriers.models import WebhookDelivery
from carriers.services import carrier_token_create, webhook_secret_generate
from carriers.tasks import webhooks_sweep_pending
from claims.models import Claim, ClaimTransition, Complaint, Notification
from claims.services.claims import claim_accept, claim_open
from claims.services.complaints import complaint_file
from claims.services.settlements import settlement_issue
from tests.carriers.conftest import open_claim
from tests.carriers.receivers import CarrierEndpoint
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import CarrierFactory, ComplaintFactory, MerchantUserFactory, WaybillFactory
from tests.support.processes import Redis, Worker, publishing_to, wait_for
from waybills.models import TrackingEvent
from yinzunda import cache as resilient
from yinzunda import outbox
from yinzunda.models import OutboxMessage

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]


def outbox_drained() -> bool:
    return not OutboxMessage.objects.filter(done_at__isnull=True).exists()


def sweep_until_drained(timeout: float) -> float:
    """Play beat (a sweep a second) until every outbox row is done; the seconds it took."""
    started = time.monotonic()

    def swept() -> bool:
        outbox.outbox_sweep(republish_after=2)
        return outbox_drained()

    wait_for(swept, timeout, "the outbox to drain", interval=1)
    return time.monotonic() - started


@pytest.fixture
def redis_and_worker(tmp_path, settings):
    redis = Redis(tmp_path)
    redis.start()
    settings.REDIS_URL = redis.url
    settings.CACHES = {"default": {
        "BACKEND": "yinzunda.cache.ResilientRedisCache", "LOCATION": redis.url, "KEY_PREFIX": uuid.uuid4().hex[:8],
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }}
    resilient.redis_reset()
    worker = Worker(redis, tmp_path / "worker.log")
    try:
        with publishing_to(redis.url):
            yield redis, worker
    finally:
        worker.kill9()
        redis.stop()
        resilient.redis_reset()


def _claim(waybill):
    return claim_open(
        waybill=waybill, complaint=ComplaintFactory(waybill=waybill, order=waybill.order), complaint_type="not_to_door",
        tariff=waybill.carrier.tariffs.first(), amount="5.00", reason="买家投诉未送货上门",
    )


def test_redis_killed_under_every_entry_point_answers_and_runs_everything_once_when_back(
    redis_and_worker, client, tmp_path
):
    redis, worker = redis_and_worker
    # given a world with work for every entry point
    buyer_parcel = yinzunda_waybill()
    carrier = buyer_parcel.carrier
    deliver(buyer_parcel, "station")
    scanned = yinzunda_waybill(carrier=carrier)
    to_accept, to_dispute, to_pay = (_claim(yinzunda_waybill(carrier=carrier)) for _ in range(3))
    claim_accept(claim_id=to_pay.pk, carrier=carrier)
    statement = settlement_issue(carrier=carrier, period_end=timezone.now() + timedelta(seconds=1))
    _token, raw = carrier_token_create(carrier=carrier)
    api = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    member = MerchantUserFactory(merchant=buyer_parcel.order.merchant)
    wait_for(outbox_drained, 30, "the world's side effects")
    claims_before = Claim.objects.count()

    # when Redis dies
    redis.stop()
    answers: dict[str, int] = {}
    timings: dict[str, float] = {}

    def call(name, method, path, data=None, **extra):
        started = time.monotonic()
        if method == "json":
            response = client.post(path, json.dumps(data), content_type="application/json", **extra)
        else:
            response = getattr(client, method)(path, data or {}, **extra)
        timings[name] = time.monotonic() - started
        answers[name] = response.status_code
        return response

    call("events push", "json", "/api/v1/carrier/events", {"events": [{
        "event_id": "fault-locker-1", "waybill_number": scanned.number, "code": "DELIVERED",
        "occurred_at": timezone.now().isoformat(), "delivery_method": "locker", "location": "丰巢柜",
    }]}, **api)
    call("accept", "json", f"/api/v1/carrier/claims/{to_accept.pk}/accept", {}, HTTP_IDEMPOTENCY_KEY="f-acc", **api)
    call("dispute", "json", f"/api/v1/carrier/claims/{to_dispute.pk}/dispute",
         {"reason": "已送货上门", "evidence": [{"type": "photo", "url": "https://proof.example/door.jpg"}]},
         HTTP_IDEMPOTENCY_KEY="f-dis", **api)
    call("confirm-payment", "json", f"/api/v1/carrier/settlements/{statement.pk}/confirm-payment",
         {"payment_reference": "PAY-FAULT-1", "amount": str(statement.total_amount)}, HTTP_IDEMPOTENCY_KEY="f-pay", **api)
    call("buyer prove", "post", "/complaint/",
         {"number": buyer_parcel.order.order_number, "phone_last4": buyer_parcel.order.recipient_phone[-4:]})
    call("complaint", "post", "/complaint/new/",
         {"complaint_type": "not_to_door", "description": "放驿站了", "submission_token": str(uuid.uuid4())})
    client.force_login(member.user)
    call("dashboard", "get", "/dashboard/")
    call("dashboard claims", "get", "/dashboard/claims/")
    ready = call("readyz", "get", "/readyz")

    # then every entry point answered, promptly, without a 5xx
    assert answers == {
        "events push": 200, "accept": 200, "dispute": 200, "confirm-payment": 200, "buyer prove": 302,
        "complaint": 302, "dashboard": 200, "dashboard claims": 200, "readyz": 200,
    }, answers
    assert max(timings.values()) < 5, timings
    assert ready.json()["status"] == "degraded"
    assert not {c["name"]: c for c in ready.json()["checks"]}["redis"]["ok"]
    # the work is waiting in the outbox, committed with its cause
    complaint = Complaint.objects.get(order=buyer_parcel.order, description="放驿站了")
    assert complaint.status == Complaint.Status.RECEIVED
    waiting = set(OutboxMessage.objects.filter(done_at__isnull=True).values_list("task_name", flat=True))
    assert {"claims.tasks.complaint_route", "claims.tasks.promises_watch", "claims.tasks.notification_email"} <= waiting

    # when Redis comes back, the work due runs, once
    back = time.monotonic()
    redis.start()
    caught_up = sweep_until_drained(90)
    print(f"\nRedis outage: catch-up {time.monotonic() - back:.1f} s after Redis returned "
          f"(sweep loop {caught_up:.1f} s); answers during the outage in {max(timings.values()) * 1000:.0f} ms max")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLAIM_OPENED
    tracking_claim = Claim.objects.get(source_event=TrackingEvent.objects.get(event_id="fault-locker-1"))
    assert Claim.objects.count() == claims_before + 2
    for claim in (complaint.claim, tracking_claim):
        assert ClaimTransition.objects.filter(claim=claim).count() == 1  # opened once, nothing more
    assert not Claim.objects.values("waybill").annotate(n=Count("id")).filter(n__gt=1).exists()
    # every side effect ran exactly once: one row per cause, each run once
    # one e-mail run per inbox entry: singly, or in the watcher's batches (notifications_email)
    single = OutboxMessage.objects.filter(task_name="claims.tasks.notification_email").count()
    batched = sum(len(m.args[0]) for m in OutboxMessage.objects.filter(task_name="claims.tasks.notifications_email"))
    assert single + batched == Notification.objects.count()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert "Traceback" not in (tmp_path / "worker.log").read_text()


def test_worker_killed_mid_routing_leaves_the_row_to_the_next_worker_which_routes_once(tmp_path, settings):
    redis, workers = Redis(tmp_path), []
    marker = tmp_path / "routing.pid"
    try:
        redis.start()
        workers.append(Worker(redis, tmp_path / "first.log", delay=30, marker=marker))
        parcels = [yinzunda_waybill() for _ in range(4)]
        for parcel in parcels:
            deliver(parcel, "station")
        with publishing_to(redis.url):
            for parcel in parcels:
                complaint_file(order=parcel.order, complaint_type="locker_without_consent")
            wait_for(marker.exists, 20, "routing to start")
            # when the worker is killed -9 in the middle of routing (row locks held, nothing acked)
            workers[0].kill9()
            killed = time.monotonic()
            assert Complaint.objects.filter(status=Complaint.Status.RECEIVED).count() == 4
            workers.append(Worker(redis, tmp_path / "second.log"))
            # then the sweep hands the unfinished rows to the new worker, at once (no visibility timeout)
            sweep_until_drained(60)
            print(f"\nworker killed mid-routing: all routed {time.monotonic() - killed:.1f} s after the kill")
        assert not Complaint.objects.filter(status=Complaint.Status.RECEIVED).exists()
        assert Claim.objects.count() == 4
        assert not Claim.objects.values("complaint").annotate(n=Count("id")).filter(n__gt=1).exists()
        assert all(claim.transitions.count() == 1 for claim in Claim.objects.all())
        # the killed run's work rolled back with its transaction: every routing row ran once
        assert list(OutboxMessage.objects.filter(task_name="claims.tasks.complaint_route").values_list("attempts", flat=True)) == [1] * 4
    finally:
        for worker in workers:
            worker.kill9()
        redis.stop()


def test_worker_killed_mid_webhook_the_next_worker_delivers_the_same_event(tmp_path, monkeypatch, settings):
    # Short leases so the test waits seconds, not minutes: the worker processes read the env.
    for name, value in (("YINZUNDA_OUTBOX_LEASE_SECONDS", "5"), ("YINZUNDA_WEBHOOK_DEADLINE_SECONDS", "2")):
        monkeypatch.setenv(name, value)
        setattr(settings, name, int(value))
    monkeypatch.setenv("YINZUNDA_TEST_LOCAL_WEBHOOK_RECEIVERS", "1")
    settings.YINZUNDA_WEBHOOK_ALLOW_HTTP, settings.YINZUNDA_WEBHOOK_ALLOWED_NETWORKS = True, ["127.0.0.0/8"]
    secret = webhook_secret_generate()
    redis, workers = Redis(tmp_path), []
    with CarrierEndpoint(secret) as endpoint:
        posting = threading.Event()

        def hold_the_first() -> None:  # the first POST hangs: its worker is killed while it waits
            if len(endpoint.received) == 1:
                posting.set()
                time.sleep(6)

        endpoint.on_request = hold_the_first
        carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT", webhook_url=endpoint.url, webhook_secret=secret)
        try:
            redis.start()
            workers.append(Worker(redis, tmp_path / "first.log"))
            with publishing_to(redis.url):
                open_claim(WaybillFactory(carrier=carrier))  # commits: claim.opened goes to the broker
                assert posting.wait(30), "the worker never posted"
                # when the worker is killed -9 in the middle of the POST (row leased, nothing recorded)
                workers[0].kill9()
                killed = time.monotonic()
                workers.append(Worker(redis, tmp_path / "second.log"))
                # then, once the delivery's claim lapses (deadline + margin), beat's sweep of pending
                # deliveries (played here once a second) hands it to the new worker
                def swept_and_delivered():
                    outbox.outbox_sweep(republish_after=1)
                    webhooks_sweep_pending()
                    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).first()

                delivery = wait_for(swept_and_delivered, 90, "the webhook delivered by the second worker", interval=1)
                print(f"\nworker killed mid-webhook: delivered {time.monotonic() - killed:.1f} s after the kill")
        finally:
            for worker in workers:
                worker.kill9()
            redis.stop()
    # one event, sent twice at most, the same event_id and signature scheme both times: the
    # carrier dedups by event_id; nothing else was raised or sent
    assert WebhookDelivery.objects.count() == 1 and delivery.event_type == "claim.opened"
    assert [r["body"]["event_id"] for r in endpoint.received] == [delivery.event_id] * 2
    assert all(r["valid"] for r in endpoint.received)
    assert delivery.attempts.filter(status_code=200).count() == 1
    assert "Traceback" not in (tmp_path / "second.log").read_text()
