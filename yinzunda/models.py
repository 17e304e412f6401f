"""Kernel tables: the transactional outbox, fallback rate counters and operator alerts.

None of them knows about a domain app: an outbox row names its task by string, a counter is
a string key, an alert is a kind + key + message.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A side effect (a Celery task by name and its arguments) written in the same transaction
    as the change that causes it. A relay publishes it after commit and a beat sweep publishes
    it again while it is not done; the runner claims it, runs the task, and marks it done once.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    queue = models.CharField(max_length=50, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)  # not run before (retry backoff)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)  # lease of a run outside a transaction
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["available_at", "id"], condition=Q(done_at__isnull=True), name="outbox_pending"),
            models.Index(fields=["done_at"], condition=Q(done_at__isnull=False), name="outbox_done"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)!r} #{self.pk}"


class RateCounter(models.Model):
    """A fixed-window counter used while Redis is away (INSERT ... ON CONFLICT DO UPDATE)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()  # unix seconds, multiple of the window length
    count = models.IntegerField(default=0)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_key_window")]
        indexes = [models.Index(fields=["expires_at"], name="ratecounter_expires")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}={self.count}"


class OperatorAlert(models.Model):
    """Something an operator must look at (ledger out of balance, a failing webhook endpoint...).

    One open alert per (kind, key): raising it again bumps its count and last time.
    """

    class Level(models.TextChoices):
        WARNING = "warning", "warning"
        ERROR = "error", "error"

    kind = models.CharField(max_length=50)
    key = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ERROR)
    message = models.TextField()
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"], condition=Q(resolved_at__isnull=True), name="operatoralert_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.level}] {self.kind} {self.key}: {self.message[:80]}"
