"""Celery tasks for carriers: webhook delivery with retries and backoff, sweeps, idempotency purge."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import services, webhooks
from .models import WebhookAttempt, WebhookDelivery

MAX_ATTEMPTS = 8


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at 6 h: about 64 minutes over the 8 attempts."""
    return min(settings.YINZUNDA_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1), 6 * 3600)


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt, if due; a failure schedules the next one with exponential backoff.

    The retry is both a Celery countdown and `next_attempt_at` (which the minute sweep reads),
    so a lost broker message only delays it; whichever comes second finds it not due and stops.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("carrier")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        now = timezone.now()
        if delivery is None:
            return "skipped"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not_due"
        carrier = delivery.carrier
        if not carrier.webhook_url:
            result = webhooks.PostResult(None, "carrier has no webhook URL", 0)
        else:
            result = webhooks.post_signed(url=carrier.webhook_url, secret=carrier.webhook_secret, payload=delivery.payload)
        WebhookAttempt.objects.create(
            delivery=delivery, url=carrier.webhook_url[:500], status_code=result.status_code,
            error=result.error, duration_ms=result.duration_ms,
        )
        delivery.attempt_count += 1
        now = timezone.now()
        if result.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempt_count >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            delay = backoff_seconds(delivery.attempt_count)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            transaction.on_commit(lambda: webhook_deliver.apply_async((delivery.pk,), countdown=delay), robust=True)
        delivery.save(update_fields=["attempt_count", "status", "delivered_at", "next_attempt_at"])
        return delivery.status


@shared_task
def webhooks_sweep_pending() -> int:
    """Retries whose time has come (and any whose enqueue was lost while the broker was down)."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        webhook_deliver.delay(pk)
    return len(due)


@shared_task
def idempotency_records_purge() -> int:
    """Beat: forget Idempotency-Key answers older than the 24 h replay window."""
    return services.idempotency_records_purge()
