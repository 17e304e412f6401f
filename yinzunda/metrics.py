"""Prometheus instruments shared by the kernel (requests, outbox). Served at /metrics with the
gauges read at scrape time (yinzunda.health). With several gunicorn workers, set
PROMETHEUS_MULTIPROC_DIR so the counters of every process are summed."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("yinzunda_http_requests_total", "HTTP requests answered", ["method", "status"])
REQUEST_SECONDS = Histogram(
    "yinzunda_http_request_duration_seconds", "Time to answer an HTTP request", ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_WRITTEN = Counter("yinzunda_outbox_written_total", "Outbox messages written", ["task"])
OUTBOX_PUBLISHED = Counter("yinzunda_outbox_published_total", "Outbox messages published to the broker", ["source"])
OUTBOX_PUBLISH_FAILED = Counter("yinzunda_outbox_publish_failures_total", "Publishes refused by the broker")
OUTBOX_RUNS = Counter("yinzunda_outbox_runs_total", "Outbox message runs", ["task", "result"])
