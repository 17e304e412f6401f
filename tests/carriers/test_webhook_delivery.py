"""Webhook delivery under faults (issue 10.3): no transaction or lock during the POST, one hard
deadline against a dripping receiver, a per-carrier cap, failing endpoints flagged and resumed."""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from carriers.deliveries import webhook_deliveries_due
from carriers.models import Carrier, WebhookDelivery
from carriers.services import webhook_enqueue
from carriers.tasks import webhook_deliver, webhooks_sweep_pending
from tests.factories import CarrierFactory, UserFactory
from yinzunda.models import OperatorAlert

from .receivers import CarrierEndpoint, DrippingReceiver, local_receivers  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("local_receivers")


@pytest.fixture
def no_publish(monkeypatch) -> list:
    """Committed tests: record the after-commit enqueue instead of running it (eager) at once."""
    published: list = []
    monkeypatch.setattr("carriers.services.task_enqueue_on_commit", lambda *args: published.append(args))
    monkeypatch.setattr(
        "carriers.services.tasks_enqueue_many_on_commit", lambda name, many: published.extend((name, *a) for a in many)
    )
    return published


def raise_event(carrier, n: int = 1) -> WebhookDelivery:
    return webhook_enqueue(carrier=carrier, event_type="claim.opened", payload={"claim_id": n})


@pytest.mark.django_db
def test_a_dripping_receiver_is_cut_off_at_the_total_deadline(carrier_a, settings):
    assert django_settings.YINZUNDA_WEBHOOK_DEADLINE_SECONDS == 10  # the default
    settings.YINZUNDA_WEBHOOK_DEADLINE_SECONDS = 5
    receiver = DrippingReceiver(every=3)  # a byte every 3 s: no read ever times out by itself
    try:
        Carrier.objects.filter(pk=carrier_a.pk).update(webhook_url=receiver.url)
        delivery = raise_event(carrier_a)
        started = time.monotonic()
        assert webhook_deliver(delivery.pk) == "pending"
        took = time.monotonic() - started
    finally:
        receiver.close()
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and attempt.error.startswith("Timeout"), attempt.error
    # cut at 5 s (a per-read timeout never fires: each byte comes within 3 s, ~50 min for the answer)
    assert 4900 <= attempt.duration_ms < 7000, attempt.duration_ms
    assert took < 10, took  # the whole task, with its two short transactions, on a busy machine
    assert receiver.bytes_sent >= 1  # it did drip, and was still dripping when cut off


@pytest.mark.django_db(transaction=True)
def test_no_transaction_or_row_lock_is_held_while_the_carrier_answers(no_publish):
    carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    seen: dict = {}
    with CarrierEndpoint(carrier.webhook_secret) as receiver:
        Carrier.objects.filter(pk=carrier.pk).update(webhook_url=receiver.url)
        delivery = raise_event(carrier)
        our_pid = connection.connection.get_backend_pid()
        db = connection.settings_dict

        def probe() -> None:  # runs while our worker waits for the answer
            other = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"],
                                     password=db["PASSWORD"])
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [our_pid])
                    seen["state"] = cursor.fetchone()[0]
                    cursor.execute("SELECT 1 FROM carriers_webhookdelivery WHERE id = %s FOR UPDATE NOWAIT", [delivery.pk])
                    cursor.execute("SELECT 1 FROM carriers_carrier WHERE id = %s FOR UPDATE NOWAIT", [carrier.pk])
                    seen["locks"] = "free"
                other.rollback()
            except psycopg2.Error as exc:
                seen["locks"] = str(exc)
            finally:
                other.close()

        receiver.on_request = probe
        assert webhook_deliver(delivery.pk) == "delivered"
    assert seen == {"state": "idle", "locks": "free"}


@pytest.mark.django_db(transaction=True)
def test_a_carrier_gets_at_most_its_concurrency_cap_of_parallel_posts(settings, no_publish):
    settings.YINZUNDA_WEBHOOK_CONCURRENCY_PER_CARRIER = 2
    carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    with CarrierEndpoint(carrier.webhook_secret, delay=1.0) as receiver:
        Carrier.objects.filter(pk=carrier.pk).update(webhook_url=receiver.url)
        deliveries = [raise_event(carrier, n) for n in range(6)]
        results: list[str] = []

        def work(pk: int) -> None:
            try:
                results.append(webhook_deliver(pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, args=(d.pk,)) for d in deliveries]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert receiver.max_in_flight <= 2
        assert results.count("throttled") >= 1 and "delivered" in results
        throttled = WebhookDelivery.objects.filter(status="pending")
        assert all(d.next_attempt_at > timezone.now() for d in throttled)  # a few seconds on, with jitter
        # the throttled ones go out later, still within the cap
        for _ in range(10):
            WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
            for pk in webhook_deliveries_due():
                webhook_deliver(pk)
            if not WebhookDelivery.objects.filter(status="pending").exists():
                break
    assert WebhookDelivery.objects.filter(status="delivered").count() == 6
    assert receiver.max_in_flight <= 2


@pytest.mark.django_db
def test_a_failing_endpoint_is_flagged_operators_are_told_and_deliveries_resume(
    carrier_a, settings, mailoutbox, caplog, client, django_capture_on_commit_callbacks
):
    settings.YINZUNDA_WEBHOOK_FAILING_AFTER = 3
    settings.ADMINS = [("ops", "ops@yinzunda.example")]
    with CarrierEndpoint(carrier_a.webhook_secret) as receiver:
        receiver.status = 503
        Carrier.objects.filter(pk=carrier_a.pk).update(webhook_url=receiver.url)
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            waiting = [raise_event(carrier_a, n) for n in range(3)]  # each fails once
        carrier = Carrier.objects.get(pk=carrier_a.pk)
        assert carrier.webhook_failure_streak == 3 and carrier.webhook_failing_since is not None
        assert len(mailoutbox) == 1 and carrier_a.code in mailoutbox[0].subject
        assert any("failing" in r.getMessage() for r in caplog.records)
        alert = OperatorAlert.objects.get(kind="webhook_endpoint_failing", key=carrier_a.code, resolved_at=None)
        assert receiver.url in alert.message

        staff = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(staff)
        flagged = client.get("/admin/carriers/carrier/?webhook_failing_since__isempty=0").content.decode()
        assert carrier_a.name in flagged

        # a fourth failure tells nobody again
        with django_capture_on_commit_callbacks(execute=True):
            raise_event(carrier_a, 4)
        assert len(mailoutbox) == 1

        # the endpoint answers again: the first success clears the flag and the rest go at once
        receiver.status = 200
        first = waiting[0]
        WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliver(first.pk) == "delivered"
    carrier.refresh_from_db()
    assert carrier.webhook_failing_since is None and carrier.webhook_failure_streak == 0
    assert not OperatorAlert.objects.filter(kind="webhook_endpoint_failing", resolved_at=None).exists()
    assert WebhookDelivery.objects.filter(carrier=carrier_a, status="delivered").count() == 4


@pytest.mark.django_db
def test_a_claim_lapses_when_the_worker_died_mid_post_and_the_sweep_retries_it(carrier_a, django_capture_on_commit_callbacks):
    with CarrierEndpoint(carrier_a.webhook_secret) as receiver:
        Carrier.objects.filter(pk=carrier_a.pk).update(webhook_url=receiver.url)
        delivery = raise_event(carrier_a)  # not committed: nothing sent yet
        WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() + timedelta(seconds=40))
        assert webhook_deliver(delivery.pk) == "in_flight"  # another worker holds it
        assert webhooks_sweep_pending() == 0
        WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
        assert webhooks_sweep_pending() == 1  # eager: delivered by the sweep's task
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 1


@pytest.mark.django_db
def test_an_event_without_a_url_is_recorded_and_never_sent(carrier_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = raise_event(carrier_a)
    assert callbacks == []
    assert delivery.status == WebhookDelivery.Status.NO_ENDPOINT and delivery.next_attempt_at is None
    assert webhook_deliver(delivery.pk) == "skipped"
