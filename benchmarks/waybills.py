"""Platform waybills: issuing a selection, rendering its labels, and the carrier's sync at a million waybills.

`make bench BENCH_ARGS=waybills` (or `python -m benchmarks.waybills`). The database is
DATABASE_URL's name + `_bench_waybills`, like the other benches. Options:
  --issue N      orders shipped in one selection (default 10,000): waybills per second
  --labels N     labels rendered, in PDFs of 500 pages (default 10,000): label pages per second
  --sync N       waybills of the syncing carrier (default 1,000,000): GET /api/v1/carrier/waybills
  --requests N   timed requests per sync query (default 20)
  --smoke        50 issued, 20 labels, 3,000 synced, 2 requests, in `..._smoke` (dropped afterwards)

Issuing goes through `orders.shipping.shipments_create` (the dashboard's service: the orders
locked, numbers allocated, waybills and their events written in one transaction); labels
through `orders.dashboard.labels.labels_pdf` (WeasyPrint); the sync through Django's test
Client with a carrier token, so authentication, throttling and serialisation are counted.
The million waybills are loaded with COPY once and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks._support import (
    ROOT,
    bench_database,
    bench_database_url,
    copy_rows,
    database_name,
    options_parse,
    percentile,
)

GOAL_MS = 100.0
SMOKE = {"issue": 50, "labels": 20, "sync": 3000, "requests": 2}
LABEL_CHUNK = 500
SYNC_CARRIER = ("BSYNC", "同步快递", "SY")
SHIP_CARRIER = ("BSHIP", "发货快递", "SH")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks.waybills")
    parser.add_argument("--issue", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--sync", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--figures", help="(child) write the figures as JSON to this file")
    return parser


def main(argv: list[str]) -> dict:
    """Entry point of `benchmarks.run`: re-run this module in a child bound to the bench database."""
    args = options_parse(_parser(), argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_waybills", module="benchmarks.waybills", smoke=args.smoke)
    env = {
        **os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base", "DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true", "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # local-memory cache and eager tasks: the bench measures the work itself
    with bench_database(url, smoke=args.smoke), tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        command = [sys.executable, "-m", "benchmarks.waybills", "--child", *argv, f"--figures={figures}"]
        subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own module
        return json.loads(figures.read_text())


def _carrier(code: str, name: str, prefix: str):
    from carriers.models import Carrier, Tariff

    carrier, created = Carrier.objects.get_or_create(
        code=code, defaults={"name": name, "waybill_prefix": prefix, "is_partner": True}
    )
    if created:
        Tariff.objects.create(carrier=carrier, version=1, effective_from="2026-01-01T00:00:00+08:00", fee_per_order="0.80")
    return carrier


def _orders(cur, merchant, n: int, *, prefix: str) -> list[int]:
    """n new orders of the merchant by COPY; their ids."""
    from django.utils import timezone

    from orders.models import Order

    cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders_order")
    base = cur.fetchone()[0]
    now = timezone.now()
    rows = (
        (base + i, merchant.pk, f"{prefix}{base + i:012d}", "欧阳娜娜", f"139{i % 100_000_000:08d}",
         "浙江省杭州市西湖区文三路 100 号 3 单元 501", "99.00", (now - timedelta(seconds=i)).isoformat())
        for i in range(n)
    )
    copy_rows(cur, Order._meta.db_table, ["id", "merchant_id", "order_number", "recipient_name", "recipient_phone",
                                          "recipient_address", "amount", "created_at"], rows)
    return list(range(base, base + n))


def _sync_data(n: int, merchant) -> object:
    """The syncing carrier with n waybills (1 in 20 with the tier), loaded once and reused."""
    from django.db import connection, transaction
    from django.utils import timezone

    from waybills.models import Waybill
    from waybills.numbers import format_waybill_number

    carrier = _carrier(*SYNC_CARRIER)
    have = Waybill.objects.filter(carrier=carrier).count()
    if have >= n:
        print(f"Reusing {have:,} waybills of {carrier.code}", flush=True)
        return carrier
    started = time.perf_counter()
    print(f"Loading {n - have:,} waybills of {carrier.code} ...", flush=True)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as wrapper:
        cur = wrapper.cursor
        order_ids = _orders(cur, merchant, n - have, prefix="BS")
        cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM waybills_waybill")
        base = cur.fetchone()[0]
        step = timedelta(days=90) / max(1, n)

        def rows():
            for i, order_id in enumerate(order_ids):
                at = (now - step * (n - i)).isoformat()  # oldest first: updated_at grows with the id
                services = '["SVC-WBHOMEDELIVERY"]' if i % 20 == 0 else "[]"
                yield (base + i, format_waybill_number(carrier.waybill_prefix, have + i + 1), carrier.pk, order_id, "t",
                       services, "created", "", "浙江省", "杭州市", "西湖区", at, at)

        copy_rows(cur, Waybill._meta.db_table, ["id", "number", "carrier_id", "order_id", "is_platform_issued",
                                                "service_codes", "status", "delivery_method", "dest_province", "dest_city",
                                                "dest_district", "created_at", "updated_at"], rows())
        cur.execute("SELECT setval(pg_get_serial_sequence('waybills_waybill', 'id'), (SELECT MAX(id) FROM waybills_waybill))")
        cur.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), (SELECT MAX(id) FROM orders_order))")
        cur.execute(
            "INSERT INTO waybills_waybillsequence (carrier_id, next_serial) VALUES (%s, %s) "
            "ON CONFLICT (carrier_id) DO UPDATE SET next_serial = EXCLUDED.next_serial", [carrier.pk, n + 1]
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE waybills_waybill")
        cur.execute("ANALYZE orders_order")
    print(f"  loaded in {time.perf_counter() - started:.0f}s", flush=True)
    return carrier


def _time(client, url: str, n: int, headers: dict) -> tuple[float, float, int]:
    response = client.get(url, headers=headers)  # warm-up
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), percentile(samples, 0.95), len(samples)


def child(argv: list[str]) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from carriers.services import carrier_token_create
    from orders.dashboard.labels import labels_pdf
    from orders.models import Merchant
    from orders.selectors.orders import waybills_for_labels
    from orders.shipping import shipments_create

    args = options_parse(_parser(), argv, smoke=SMOKE)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"carrier": "1000000/min"}}
    merchant, _ = Merchant.objects.get_or_create(code="bench-waybills", defaults={"name": "面单压测店铺"})
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        pg_version = cur.fetchone()[0].split(",")[0]
    print(f"\n{pg_version}; name: {database_name(os.environ['DATABASE_URL'])}\n", flush=True)

    # 1. issue a selection
    ship = _carrier(*SHIP_CARRIER)
    with connection.cursor() as wrapper:
        order_ids = _orders(wrapper.cursor, merchant, args.issue, prefix="BI")
    t0 = time.perf_counter()
    results = shipments_create(merchant=merchant, order_ids=order_ids, carrier_id=ship.pk)
    issue_s = time.perf_counter() - t0
    issued = sum(r.ok for r in results)
    assert issued == args.issue, f"{args.issue - issued} orders refused"
    print(f"issue   : {issued:,} waybills in one selection in {issue_s:.2f} s = {issued / issue_s:,.0f} waybills/s")

    # 2. their labels, 500 pages a PDF
    label_ids = order_ids[: args.labels]
    t0 = time.perf_counter()
    pages, size = 0, 0
    for start in range(0, len(label_ids), LABEL_CHUNK):
        waybills = waybills_for_labels(merchant=merchant, order_ids=label_ids[start:start + LABEL_CHUNK])
        pdf = labels_pdf(waybills)
        pages, size = pages + len(waybills), size + len(pdf)
    labels_s = max(time.perf_counter() - t0, 1e-9)
    print(f"labels  : {pages:,} pages (76×130 mm) in {labels_s:.1f} s = {pages / labels_s:,.1f} pages/s, "
          f"{size / max(1, pages) / 1024:.1f} KiB a page")

    # 3. the carrier's sync at n waybills
    carrier = _sync_data(args.sync, merchant)
    _, token = carrier_token_create(carrier=carrier)
    headers = {"Authorization": f"Bearer {token}"}
    client = Client()
    total = carrier.waybills.count()
    middle = carrier.waybills.order_by("updated_at", "id")[total // 2]
    since = middle.updated_at.isoformat()
    first = client.get("/api/v1/carrier/waybills?page_size=200", headers=headers).json()
    queries = [
        ("first page (50)", "/api/v1/carrier/waybills"),
        ("first page (200)", "/api/v1/carrier/waybills?page_size=200"),
        ("next page (cursor)", f"/api/v1/carrier/waybills?page_size=200&cursor={first['next_cursor']}"),
        ("updated_since, mid-history", "/api/v1/carrier/waybills?page_size=200&updated_since=" + since.replace("+", "%2B")),
        ("service=SVC-WBHOMEDELIVERY", "/api/v1/carrier/waybills?page_size=200&service=SVC-WBHOMEDELIVERY"),
        ("one waybill by number", f"/api/v1/carrier/waybills/{middle.number}"),
    ]
    print(f"\nsync    : {total:,} waybills of one carrier; {args.requests} requests per query (test Client, DEBUG off)\n")
    print(f"| query | median ms | p95 ms | goal {GOAL_MS:.0f} ms |")
    print("|---|---:|---:|---|")
    sync = {}
    for label, url in queries:
        median, p95, samples = _time(client, url, args.requests, headers)
        sync[label] = {"median_ms": median, "p95_ms": p95, "samples": samples}
        print(f"| {label} | {median:.1f} | {p95:.1f} | {'ok' if p95 < GOAL_MS else 'OVER'} |", flush=True)
    if args.figures:
        figures = {
            "database": database_name(os.environ["DATABASE_URL"]), "issued": issued,
            "waybills_per_s": issued / issue_s, "label_pages": pages, "label_pages_per_s": pages / labels_s,
            "synced_waybills": total, "sync": sync,
        }
        Path(args.figures).write_text(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        main(sys.argv[1:])
