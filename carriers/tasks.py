"""Celery tasks for carriers: webhook delivery (retries with backoff and jitter), sweeps, purges."""
from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import mail_admins

from yinzunda.outbox import operator_alert_raise

from . import deliveries, services, webhooks
from .deliveries import FAILING_ALERT
from .models import Carrier

logger = logging.getLogger(__name__)


def _schedule(delivery_id: int, seconds: float) -> None:
    """A countdown for the next try; `next_attempt_at` and the minute sweep back it up."""
    try:
        webhook_deliver.apply_async((delivery_id,), countdown=seconds)
    except Exception:  # the broker is away: the sweep finds the delivery due later
        logger.warning("webhook delivery %s: retry not scheduled (broker down), the sweep will", delivery_id)


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt, if due: claim (short transaction), POST (no transaction), record (short transaction).

    The retry is both a Celery countdown and `next_attempt_at` (which the minute sweep reads),
    so a lost broker message only delays it; whichever comes second finds it not due and stops.
    """
    claimed = deliveries.webhook_delivery_claim(delivery_id=delivery_id)
    if isinstance(claimed, deliveries.Deferred):
        if claimed.retry_in is not None:
            _schedule(delivery_id, claimed.retry_in)
        return claimed.reason
    result = webhooks.post_signed(
        url=claimed.url, secrets=claimed.secrets, event_id=claimed.event_id, payload=claimed.payload
    )
    recorded = deliveries.webhook_attempt_record(claimed=claimed, result=result)
    if recorded.retry_in is not None:
        _schedule(delivery_id, recorded.retry_in)
    return recorded.status


@shared_task
def webhooks_sweep_pending() -> int:
    """Beat, every minute: retries whose time has come, lapsed claims, enqueues lost with the broker."""
    due = deliveries.webhook_deliveries_due()
    for pk in due:
        webhook_deliver.delay(pk)
    return len(due)


@shared_task
def webhook_endpoint_failing_notify(carrier_id: int) -> None:
    """Tell the operators that a carrier's endpoint keeps failing: an operator alert (with its
    ERROR log line) and an e-mail to ADMINS. The first success resolves the alert."""
    carrier = Carrier.objects.filter(pk=carrier_id, webhook_failing_since__isnull=False).first()
    if carrier is None:
        return  # recovered meanwhile
    subject = f"Webhook endpoint of {carrier.code} failing"
    message = (
        f"{carrier.name} ({carrier.code}): {carrier.webhook_failure_streak} deliveries in a row failed "
        f"since {carrier.webhook_failing_since.isoformat()} at {carrier.webhook_url}. Deliveries keep "
        "retrying with backoff and resume as soon as the endpoint answers 2xx; see the admin's "
        "webhook deliveries for the attempts."
    )
    operator_alert_raise(kind=FAILING_ALERT, key=carrier.code, message=message)  # also logs at ERROR
    mail_admins(subject, message, fail_silently=True)


@shared_task
def webhook_events_purge() -> int:
    """Beat, daily: forget webhook events past the catch-up retention (≥ 30 days)."""
    return deliveries.webhook_events_purge()


@shared_task
def idempotency_records_purge() -> int:
    """Beat: forget Idempotency-Key answers older than the 24 h replay window."""
    return services.idempotency_records_purge()
