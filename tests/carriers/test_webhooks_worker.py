"""Webhook retries with a real Celery worker and broker: backoff by countdown, then delivered once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from carriers.models import WebhookDelivery
from carriers.services import webhook_secret_generate
from tests.factories import CarrierFactory, WaybillFactory
from tests.support.processes import Redis, Worker, publishing_to, wait_for

from .conftest import open_claim
from .receivers import CarrierEndpoint, local_receivers  # noqa: F401 - fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("local_receivers")]


def test_failed_webhook_is_retried_by_celery_with_backoff_until_delivered(tmp_path, monkeypatch):
    monkeypatch.setenv("YINZUNDA_WEBHOOK_BACKOFF_SECONDS", "1")  # 1 s, 2 s ... (±20 %) for the worker
    monkeypatch.setenv("YINZUNDA_TEST_LOCAL_WEBHOOK_RECEIVERS", "1")
    redis, worker = Redis(tmp_path), None
    secret = webhook_secret_generate()
    with CarrierEndpoint(secret) as endpoint:
        endpoint.script = [503, 503]  # down twice, then up
        carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT", webhook_url=endpoint.url, webhook_secret=secret)
        try:
            redis.start()
            worker = Worker(redis, tmp_path / "webhooks.log")
            with publishing_to(redis.url):
                open_claim(WaybillFactory(carrier=carrier))  # commits: claim.opened goes to the broker
            delivery = wait_for(
                lambda: WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED).first(),
                40, "delivery after retries",
            )
        finally:
            if worker:
                worker.kill9()
            redis.stop()

    attempts = list(delivery.attempts.order_by("attempted_at"))
    assert [a.status_code for a in attempts] == [503, 503, 200]
    assert delivery.attempt_count == 3
    gaps = [later.attempted_at - earlier.attempted_at for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= timedelta(seconds=0.75) and gaps[1] >= timedelta(seconds=1.55)  # 1 s, then 2 s, ±20 %
    assert {r["body"]["event_id"] for r in endpoint.received} == {delivery.event_id}
    assert all(r["valid"] for r in endpoint.received)
