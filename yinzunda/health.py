"""/healthz (the process answers), /readyz (what works and what does not) and /metrics.

/readyz answers 503 only when the database is unreachable: without it nothing works. Any
other failing check (Redis, the broker, outbox lag, unrouted complaints, failing webhook
endpoints, open operator alerts) makes it 200 with "status": "degraded": the portal keeps
serving by design, and a load balancer must not take every instance out because Redis is
away. Domain checks and gauges are loaded by name from settings (YINZUNDA_READINESS_CHECKS,
YINZUNDA_METRICS_FIGURES), so this kernel module imports no domain app.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .models import OperatorAlert, OutboxMessage
from .outbox import outbox_lag_seconds

logger = logging.getLogger("yinzunda.health")
OUTBOX_LAG_WARN_SECONDS = 60
QUEUES = ("urgent", "celery")


def _check(name: str, func) -> dict:
    started = time.perf_counter()
    try:
        ok, detail, value = func()
    except Exception as exc:
        ok, detail, value = False, f"{exc.__class__.__name__}: {exc}"[:300], None
    return {"name": name, "ok": ok, "detail": detail, "value": value,
            "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, "reachable", None


def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def _redis():
    if not settings.REDIS_URL:
        return True, "not configured (in-memory cache, eager tasks)", None
    _redis_client(settings.REDIS_URL).ping()
    return True, "reachable", None


def queue_lengths() -> dict[str, int]:
    url = current_app.conf.broker_url or ""
    if not url.startswith("redis"):
        return {}
    client = _redis_client(url)
    return {queue: int(client.llen(queue)) for queue in QUEUES}


def _broker():
    if current_app.conf.task_always_eager:
        return True, "eager: tasks run in process", None
    lengths = queue_lengths()
    return True, "reachable; queued: " + ", ".join(f"{q}={n}" for q, n in lengths.items()), lengths


def _outbox():
    lag = outbox_lag_seconds()
    pending = OutboxMessage.objects.filter(done_at__isnull=True).count()
    return lag < OUTBOX_LAG_WARN_SECONDS, f"{pending} not done; oldest due {lag:.0f} s ago", round(lag, 1)


def _alerts():
    open_alerts = list(OperatorAlert.objects.filter(resolved_at__isnull=True).values_list("kind", "key")[:20])
    detail = ", ".join(f"{k} {key}".strip() for k, key in open_alerts) or "none open"
    return not open_alerts, detail, len(open_alerts)


def readiness() -> tuple[int, dict]:
    checks = [_check("database", _database)]
    if not checks[0]["ok"]:
        return 503, {"status": "unavailable", "checks": checks}
    checks += [_check("redis", _redis), _check("broker", _broker), _check("outbox", _outbox),
               _check("operator_alerts", _alerts)]
    for path in getattr(settings, "YINZUNDA_READINESS_CHECKS", []):
        try:
            checks += import_string(path)()
        except Exception as exc:
            checks.append({"name": path, "ok": False, "detail": f"{exc.__class__.__name__}: {exc}"[:300]})
    status = "ok" if all(c["ok"] for c in checks) else "degraded"
    return 200, {"status": status, "checks": checks}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    status, body = readiness()
    if body["status"] != "ok":
        logger.warning("readiness %s: %s", body["status"], [c["name"] for c in body["checks"] if not c["ok"]])
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


class FiguresCollector:
    """Gauges read at scrape time: outbox, broker queues, and the domain figures."""

    def collect(self):
        pending = GaugeMetricFamily("yinzunda_outbox_pending", "Outbox messages not done")
        lag = GaugeMetricFamily("yinzunda_outbox_lag_seconds", "Age of the oldest due outbox message not done")
        try:
            pending.add_metric([], OutboxMessage.objects.filter(done_at__isnull=True).count())
            lag.add_metric([], outbox_lag_seconds())
            yield pending
            yield lag
        except Exception:
            logger.exception("outbox figures unavailable")
        queued = GaugeMetricFamily("yinzunda_queue_length", "Messages waiting in a broker queue", labels=["queue"])
        try:
            for queue, length in queue_lengths().items():
                queued.add_metric([queue], length)
            yield queued
        except Exception:
            logger.warning("broker queue lengths unavailable")
        for path in getattr(settings, "YINZUNDA_METRICS_FIGURES", []):
            try:
                figures = import_string(path)()
            except Exception:
                logger.exception("metric figures %s unavailable", path)
                continue
            for name, (help_text, labels, values) in figures.items():
                family = GaugeMetricFamily(name, help_text, labels=list(labels))
                for label_values, value in values.items():
                    family.add_metric(list(label_values), value)
                yield family


FIGURES = CollectorRegistry()
FIGURES.register(FiguresCollector())


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # gunicorn workers: sum every process's counters
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry) + generate_latest(FIGURES)
    return generate_latest(REGISTRY) + generate_latest(FIGURES)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "YINZUNDA_METRICS_TOKEN", "")
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; a bearer token (YINZUNDA_METRICS_TOKEN) or loopback only."""
    if not _metrics_allowed(request):
        return HttpResponse(status=404)
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)
