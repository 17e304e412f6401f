"""The transactional outbox: publish, run once, sweep, purge.

`yinzunda.dispatch.task_enqueue_on_commit` writes an `OutboxMessage` in the caller's
transaction. After commit it is published (best effort) as `yinzunda.tasks.outbox_run(id)` on
the queue its task is routed to; the beat sweep publishes again whatever is not done. The
runner claims the row, runs the named task's body and marks the row done, so a row that is
done never runs again however many times it was published.

Two ways to run a body:
- tasks declared with `outbox_in_transaction=True` (database work only: routing, claim
  evaluation) run inside the transaction that holds the row lock (`FOR UPDATE SKIP LOCKED`)
  and marks it done: exactly once, and a killed worker's row is free again at once;
- every other task (webhooks, e-mails: outbound calls, never inside a transaction) claims the
  row with a conditional UPDATE (a lease), runs outside any transaction and marks it done;
  a worker killed mid-run leaves the lease to expire, then the sweep publishes it again.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import metrics
from .models import OperatorAlert, OutboxMessage, RateCounter
from .requestid import request_id_bound

logger = logging.getLogger("yinzunda.outbox")
RUN_TASK = "yinzunda.tasks.outbox_run"
ALERT_AFTER_ATTEMPTS = 10
_broker_down_until = 0.0  # after a failed publish, requests stop trying the broker for a moment


def _setting(name: str, default):
    return getattr(settings, name, default)


def lease() -> timedelta:
    return timedelta(seconds=_setting("YINZUNDA_OUTBOX_LEASE_SECONDS", 300))


def task_get(name: str):
    task = current_app.tasks.get(name)
    if task is None:  # tasks modules are discovered lazily: load them before the first use
        current_app.loader.import_default_modules()
        task = current_app.tasks[name]
    return task


def task_queue(name: str) -> str:
    route = _setting("CELERY_TASK_ROUTES", {}).get(name) or {}
    return route.get("queue", "")


def outbox_publish(messages: Iterable[tuple], *, from_request: bool = True) -> list[int]:
    """Publish (id, queue[, task name]) tuples; the ids published. A broker failure is logged, never raised:
    the rows stay in the outbox for the sweep."""
    global _broker_down_until
    messages = list(messages)
    if not messages:
        return []
    if current_app.conf.task_always_eager:  # no broker (first run, tests): run in process
        for pk, _queue, *_name in messages:
            try:
                outbox_message_run(pk)
            except DatabaseError as exc:  # an outage: expected, no stack trace to alarm anyone
                logger.warning("outbox message %s failed (database unavailable: %r); it stays in the outbox for the sweep", pk, exc)
            except Exception:
                logger.exception("outbox message %s failed; it stays in the outbox for the sweep", pk)
        return [message[0] for message in messages]
    if from_request and time.monotonic() < _broker_down_until:
        logger.warning("broker down: %d outbox message(s) left for the sweep", len(messages))
        return []
    published = []
    try:
        with current_app.producer_or_acquire() as producer:
            for pk, queue, *name in messages:
                current_app.send_task(
                    RUN_TASK, args=(pk, *name), queue=queue or None, producer=producer,
                    retry=True, retry_policy={"max_retries": 1, "interval_start": 0.1},
                )
                published.append(pk)
    except Exception as exc:
        metrics.OUTBOX_PUBLISH_FAILED.inc()
        _broker_down_until = time.monotonic() + _setting("YINZUNDA_BROKER_RETRY_SECONDS", 5)
        logger.warning(
            "broker down (%s): %d outbox message(s) not published; the sweep will route it later",
            exc.__class__.__name__, len(messages) - len(published),
        )
    metrics.OUTBOX_PUBLISHED.labels("request" if from_request else "sweep").inc(len(published))
    return published


def outbox_message_run(message_id: int, task_name: str | None = None) -> str:
    """Run one outbox message if it is due and not done; 'done', 'skipped' or 'failed'.

    `task_name` comes with the published message (saves a read); older messages without it
    are looked up first.
    """
    if task_name is None:
        row = OutboxMessage.objects.filter(pk=message_id).values("task_name", "done_at").first()
        if row is None or row["done_at"] is not None:
            return "skipped"
        task_name = row["task_name"]
    task = task_get(task_name)
    result = "failed"
    try:
        if getattr(task, "outbox_in_transaction", False):
            result = _run_in_transaction(message_id, task)
        else:
            result = _run_leased(message_id, task)
    finally:
        metrics.OUTBOX_RUNS.labels(task_name, result).inc()
    return result


_CLAIM_AND_FINISH = """
UPDATE yinzunda_outboxmessage SET done_at = %s, attempts = attempts + 1
WHERE id = %s AND done_at IS NULL AND available_at <= %s
RETURNING args, request_id
"""


def _run_in_transaction(message_id: int, task) -> str:
    """One UPDATE claims the row and marks it done; the body runs in the same transaction, so a
    failure or a killed worker rolls both back and the row is due again. A second run of the
    same row waits for the first to finish, then finds it done."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            now = timezone.now()
            cursor.execute(_CLAIM_AND_FINISH, [now, message_id, now])
            row = cursor.fetchone()
            if row is None:  # done, not due, or gone
                return "skipped"
            args, request_id = row
            args = json.loads(args) if isinstance(args, str) else args
            with request_id_bound(request_id):
                task(*args)
                logger.info("outbox %d %s done", message_id, task.name)
    except Exception as exc:
        _failed(message_id, exc)
        raise
    return "done"


def _run_leased(message_id: int, task) -> str:
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True, available_at__lte=now)
        .filter(Q(started_at__isnull=True) | Q(started_at__lt=now - lease()))
        .update(started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        with request_id_bound(message.request_id):
            task(*message.args)
            logger.info("outbox %d %s done", message_id, task.name)
    except Exception as exc:
        _failed(message_id, exc, claimed_at=now)
        raise
    OutboxMessage.objects.filter(pk=message_id, started_at=now).update(done_at=timezone.now())
    return "done"


def _failed(message_id: int, exc: Exception, claimed_at=None) -> None:
    """Leave the row for a later attempt, backing off (5 s doubling, at most 10 minutes)."""
    try:
        message = OutboxMessage.objects.filter(pk=message_id).first()
        if message is None:
            return
        attempts = message.attempts if claimed_at is not None else message.attempts + 1
        delay = min(5 * 2 ** max(attempts - 1, 0), 600)
        OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
            attempts=attempts, started_at=None, published_at=None,
            available_at=timezone.now() + timedelta(seconds=delay), last_error=repr(exc)[:2000],
        )
        logger.warning("outbox %s failed (attempt %d, retry in %d s): %r", message, attempts, delay, exc)
        if attempts >= ALERT_AFTER_ATTEMPTS:
            operator_alert_raise(
                kind="outbox_failing", key=message.task_name,
                message=f"{message} failed {attempts} times: {exc!r}"[:2000],
            )
    except DatabaseError as exc:  # the database itself is down: the sweep finds the row not done anyway
        logger.warning("could not record the failure of outbox message %s (database unavailable: %r)", message_id, exc)
    except Exception:
        logger.exception("could not record the failure of outbox message %s", message_id)


def outbox_due(*, republish_after: float | None = None, limit: int = 1000) -> list[tuple[int, str, str]]:
    """Rows not done and due whose last publish (or creation) is older than `republish_after`."""
    now = timezone.now()
    if republish_after is None:
        republish_after = _setting("YINZUNDA_OUTBOX_REPUBLISH_SECONDS", 20)
    cutoff = now - timedelta(seconds=republish_after)
    return list(
        OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=now)
        .filter(Q(published_at__isnull=True, created_at__lte=cutoff) | Q(published_at__lte=cutoff))
        .filter(Q(started_at__isnull=True) | Q(started_at__lt=now - lease()))
        .order_by("available_at", "id")
        .values_list("pk", "queue", "task_name")[:limit]
    )


def outbox_sweep(*, republish_after: float | None = None) -> int:
    """Publish again what is due and not done (lost publish, lost message, killed worker)."""
    due = outbox_due(republish_after=republish_after)
    published = outbox_publish(due, from_request=False)
    if published and not current_app.conf.task_always_eager:
        OutboxMessage.objects.filter(pk__in=published, done_at__isnull=True).update(
            published_at=timezone.now(), publish_count=F("publish_count") + 1
        )
    if due:
        logger.info("outbox sweep published %d of %d due message(s)", len(published), len(due))
    return len(published)


def outbox_purge(*, keep_days: int = 7) -> int:
    """Forget rows done more than `keep_days` ago and fallback rate counters that expired."""
    now = timezone.now()
    deleted, _ = OutboxMessage.objects.filter(done_at__lt=now - timedelta(days=keep_days)).delete()
    RateCounter.objects.filter(expires_at__lt=now).delete()
    return deleted


def outbox_lag_seconds() -> float:
    """Age of the oldest due message not done (0 when the outbox is drained)."""
    now = timezone.now()
    oldest = (
        OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=now)
        .order_by("available_at", "id").values_list("created_at", flat=True).first()
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def operator_alert_raise(*, kind: str, message: str, key: str = "", level: str = OperatorAlert.Level.ERROR) -> OperatorAlert:
    """Open (or bump) the alert for (kind, key) and log it at error level: operators see both."""
    logger.error("operator alert %s %s: %s", kind, key, message)
    now = timezone.now()
    with transaction.atomic():
        alert = OperatorAlert.objects.select_for_update().filter(kind=kind, key=key, resolved_at__isnull=True).first()
        if alert is None:
            return OperatorAlert.objects.create(kind=kind, key=key, level=level, message=message)
        alert.message, alert.level, alert.last_seen_at = message, level, now
        alert.count = F("count") + 1
        alert.save(update_fields=["message", "level", "last_seen_at", "count"])
        alert.refresh_from_db()
        return alert


def operator_alert_resolve(*, kind: str, key: str = "") -> int:
    return OperatorAlert.objects.filter(kind=kind, key=key, resolved_at__isnull=True).update(resolved_at=timezone.now())
