"""Writes of a webhook delivery's life: claim it, record an attempt, sweep, purge, endpoint health.

The outbound POST happens between `webhook_delivery_claim` and `webhook_attempt_record`, each a
short transaction of its own, so no transaction or row lock is held while a carrier answers
(DESIGN §5 invariant 9). `claimed_until` marks a delivery in flight: other workers leave it
alone and it counts against the carrier's concurrency cap; if the worker dies mid-POST the
claim lapses and the sweep retries it.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.outbox import operator_alert_resolve

from .models import Carrier, WebhookAttempt, WebhookDelivery
from .webhooks import PostResult

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
FAILING_ALERT = "webhook_endpoint_failing"  # OperatorAlert kind, keyed by carrier code
_CLAIM_MARGIN = timedelta(seconds=30)  # beyond the POST deadline, before a lapsed claim is retried


def backoff_base_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min ... doubling, capped at 6 h: retries span the whole 3-day window."""
    return min(settings.YINZUNDA_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1), 6 * 3600)


def backoff_seconds(attempt: int) -> float:
    """The base delay ±20 % jitter, so a carrier coming back is not hit by every retry at once."""
    return backoff_base_seconds(attempt) * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    event_id: str
    url: str
    secrets: list[str]
    payload: dict


@dataclass(frozen=True)
class Deferred:
    reason: str  # skipped, not_due, in_flight, no_endpoint, throttled
    retry_in: float | None = None


def webhook_delivery_claim(*, delivery_id: int, now: datetime | None = None) -> Claimed | Deferred:
    """Take a due delivery for one POST, if the carrier's concurrency cap allows (short transaction)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=Status.PENDING)
            .first()
        )
        if delivery is None:
            return Deferred("skipped")
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return Deferred("not_due")
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            return Deferred("in_flight")
        # NO KEY UPDATE: serialises the cap check per carrier without blocking inserts that reference it.
        carrier = Carrier.objects.select_for_update(no_key=True).get(pk=delivery.carrier_id)
        if not carrier.webhook_url:
            delivery.status, delivery.next_attempt_at = Status.NO_ENDPOINT, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return Deferred("no_endpoint")
        in_flight = WebhookDelivery.objects.filter(
            carrier_id=carrier.pk, status=Status.PENDING, claimed_until__gt=now
        ).count()
        if in_flight >= settings.YINZUNDA_WEBHOOK_CONCURRENCY_PER_CARRIER:
            wait = random.uniform(2, 6)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            delivery.save(update_fields=["next_attempt_at"])
            return Deferred("throttled", wait)
        delivery.claimed_until = now + timedelta(seconds=settings.YINZUNDA_WEBHOOK_DEADLINE_SECONDS) + _CLAIM_MARGIN
        delivery.save(update_fields=["claimed_until"])
        return Claimed(
            delivery.pk, delivery.event_id, carrier.webhook_url,
            carrier.webhook_signing_secrets(now=now), delivery.payload,
        )


@dataclass
class Recorded:
    status: str
    retry_in: float | None = None
    resumed: list[int] = field(default_factory=list)


def webhook_attempt_record(
    *, claimed: Claimed, result: PostResult, now: datetime | None = None
) -> Recorded:
    """Log the attempt and move the delivery on; track the endpoint's health (short transaction).

    A success ends a failing spell and makes the carrier's other waiting deliveries due at once;
    the YINZUNDA_WEBHOOK_FAILING_AFTER-th failure in a row marks the endpoint failing and tells
    the operators (once per spell)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claimed.delivery_id)
        carrier = Carrier.objects.select_for_update(no_key=True).get(pk=delivery.carrier_id)
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, url=claimed.url[:500], status_code=result.status_code,
            error=result.error, duration_ms=result.duration_ms,
        )
        delivery.attempt_count += 1
        delivery.claimed_until = None
        recorded = Recorded(delivery.status)
        if result.ok:
            recorded = _delivered(delivery, carrier, now)
        else:
            _endpoint_failed(carrier, now)
            if delivery.status == Status.PENDING:
                if delivery.retry_until is not None and now >= delivery.retry_until:
                    delivery.status, delivery.next_attempt_at = Status.FAILED, None
                else:
                    wait = backoff_seconds(delivery.attempt_count)
                    delivery.next_attempt_at = now + timedelta(seconds=wait)
                    recorded = Recorded(delivery.status, retry_in=wait)
            recorded.status = delivery.status
        delivery.save(update_fields=["attempt_count", "claimed_until", "status", "delivered_at", "next_attempt_at"])
        # update(), not save(): delivery health is not configuration history
        Carrier.objects.filter(pk=carrier.pk).update(
            webhook_failure_streak=carrier.webhook_failure_streak, webhook_failing_since=carrier.webhook_failing_since
        )
    return recorded


def _delivered(delivery: WebhookDelivery, carrier: Carrier, now: datetime) -> Recorded:
    delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.DELIVERED, now, None
    recorded = Recorded(Status.DELIVERED)
    carrier.webhook_failure_streak = 0
    if carrier.webhook_failing_since is not None:
        logger.warning(
            "webhook endpoint of carrier %s answers again after failing since %s: resuming deliveries",
            carrier.code, carrier.webhook_failing_since.isoformat(),
        )
        carrier.webhook_failing_since = None
        operator_alert_resolve(kind=FAILING_ALERT, key=carrier.code)
        waiting = WebhookDelivery.objects.filter(
            carrier_id=carrier.pk, status=Status.PENDING, next_attempt_at__gt=now
        ).exclude(pk=delivery.pk)
        recorded.resumed = list(waiting.order_by("sequence").values_list("pk", flat=True)[:500])
        waiting.update(next_attempt_at=now)  # the sweep takes any beyond the first 500
        for pk in recorded.resumed:
            task_enqueue_on_commit("carriers.tasks.webhook_deliver", pk)
    return recorded


def _endpoint_failed(carrier: Carrier, now: datetime) -> None:
    carrier.webhook_failure_streak += 1
    if carrier.webhook_failing_since is None and carrier.webhook_failure_streak >= settings.YINZUNDA_WEBHOOK_FAILING_AFTER:
        carrier.webhook_failing_since = now
        task_enqueue_on_commit("carriers.tasks.webhook_endpoint_failing_notify", carrier.pk)


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come and that no live worker holds (oldest first)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_events_purge(*, now: datetime | None = None) -> int:
    """Forget events older than the catch-up retention (≥ 30 days); a pending delivery is kept."""
    now = now or timezone.now()
    deleted, _ = (
        WebhookDelivery.objects.filter(created_at__lt=now - settings.YINZUNDA_WEBHOOK_EVENT_RETENTION)
        .exclude(status=Status.PENDING)
        .delete()
    )
    return deleted
