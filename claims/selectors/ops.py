"""Reads for operators: what /readyz and /metrics report about complaints, claims and webhooks.

The kernel's health and metrics views load these by name (settings YINZUNDA_READINESS_CHECKS,
YINZUNDA_METRICS_FIGURES), so the kernel never imports a domain app.
"""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from carriers.models import Carrier, WebhookAttempt

from ..models import Claim, Complaint

UNROUTED_WARN_SECONDS = 120  # a complaint still unrouted this long: routing is not keeping up
WEBHOOK_STREAK_WARN = 5  # consecutive failed attempts to one carrier's endpoint


def oldest_unrouted_complaint_seconds(now=None) -> float:
    now = now or timezone.now()
    oldest = (
        Complaint.objects.filter(status=Complaint.Status.RECEIVED).order_by("created_at").values_list("created_at", flat=True).first()
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def webhook_failure_streaks(since_hours: int = 72) -> dict[str, int]:
    """Per carrier with an endpoint: failed attempts since its last success (recent days only)."""
    since = timezone.now() - timedelta(hours=since_hours)
    ok = Q(status_code__gte=200, status_code__lt=300)
    streaks = {}
    for carrier in Carrier.objects.exclude(webhook_url="").only("pk", "code"):
        attempts = WebhookAttempt.objects.filter(delivery__carrier_id=carrier.pk, attempted_at__gte=since)
        last_ok = attempts.filter(ok).order_by("-attempted_at").values_list("attempted_at", flat=True).first()
        failed = attempts.exclude(ok)
        if last_ok is not None:
            failed = failed.filter(attempted_at__gt=last_ok)
        streaks[carrier.code] = failed.count()
    return streaks


def readiness_checks() -> list[dict]:
    """Checks in the /readyz shape: name, ok, detail (and a value)."""
    unrouted = oldest_unrouted_complaint_seconds()
    streaks = webhook_failure_streaks()
    failing = {code: n for code, n in streaks.items() if n >= WEBHOOK_STREAK_WARN}
    return [
        {
            "name": "oldest_unrouted_complaint",
            "ok": unrouted < UNROUTED_WARN_SECONDS,
            "value": round(unrouted, 1),
            "detail": f"oldest complaint waiting for routing: {unrouted:.0f} s (warn at {UNROUTED_WARN_SECONDS} s)",
        },
        {
            "name": "webhook_failure_streaks",
            "ok": not failing,
            "value": streaks,
            "detail": ("failing endpoints: " + ", ".join(f"{c} ({n} failures in a row)" for c, n in failing.items()))
            if failing else "every endpoint answered its latest attempts",
        },
    ]


def metric_figures() -> dict[str, tuple[str, tuple[str, ...], dict[tuple, float]]]:
    """Gauges for /metrics: name -> (help, label names, {label values: value})."""
    claims = dict(Claim.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    complaints = dict(Complaint.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "yinzunda_claims": (
            "Claims by status", ("status",), {(s,): float(claims.get(s, 0)) for s in Claim.Status.values},
        ),
        "yinzunda_complaints": (
            "Complaints by status", ("status",), {(s,): float(complaints.get(s, 0)) for s in Complaint.Status.values},
        ),
        "yinzunda_oldest_unrouted_complaint_seconds": (
            "Age of the oldest complaint not routed yet", (), {(): oldest_unrouted_complaint_seconds()},
        ),
        "yinzunda_webhook_failure_streak": (
            "Failed webhook attempts since the last success, per carrier", ("carrier",),
            {(code,): float(n) for code, n in webhook_failure_streaks().items()},
        ),
    }
