"""Merchant dashboard at platform scale: builds the data once in `<name>_bench_dash`, then times pages.

`make bench BENCH_ARGS=dashboard` (or `python -m benchmarks.dashboard`). The database is
DATABASE_URL's name + `_bench_dash`, like the other benches. Options:
  --orders N     orders of each merchant (default 1,000,000)
  --merchants N  merchants of that volume, orders interleaved in time (default 20: 20M orders);
                 the measured merchant is one of them
  --requests N   timed requests per page (default 20)
  --rebuild      drop and rebuild the bench data
  --smoke        3,000 orders, 2 requests per page, in `<name>_bench_dash_smoke` (dropped afterwards)

The measurement runs in a child process pointed at the bench database, so it never touches
the development database and works whatever Django settings the runner process loaded.
Data is loaded with COPY in chunks, in one transaction (benchmarks/dashboard_data.py); a
database already holding the requested volume is reused. Every page is timed cold (cache
cleared before each request) and warm; for a page over the goal the EXPLAIN (ANALYZE,
BUFFERS) of its slowest query is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
    database_name,
    options_parse,
    percentile,
)
from benchmarks.dashboard_data import BENCH_MERCHANT, BENCH_USER, build, merchant_code

GOAL_MS = 300.0
SMOKE = {"orders": 3000, "requests": 2, "merchants": 2}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks.dashboard")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--figures", help="(child) write the figures as JSON to this file")
    return parser


def main(argv: list[str]) -> dict:
    """Entry point of `benchmarks.run`: re-run this module in a child bound to the bench database."""
    args = options_parse(_parser(), argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_dash", module="benchmarks.dashboard", smoke=args.smoke)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
        "DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # local-memory cache and eager tasks: the bench measures the pages
    with bench_database(url, smoke=args.smoke), tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        command = [sys.executable, "-m", "benchmarks.dashboard", "--child", *argv, f"--figures={figures}"]
        subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own module
        return json.loads(figures.read_text())


def _time(client, url: str, n: int, *, cold: bool) -> tuple[float, float, int]:
    from django.core.cache import cache

    client.get(url)  # warm-up (connection, template cache)
    samples = []
    for _ in range(n):
        if cold:
            cache.clear()  # every cached figure (overview stats): the page runs all its queries
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), percentile(samples, 0.95), len(samples)


def _slowest_query_plan(client, url: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of one cold request of the page."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    sql = slowest["sql"]
    if not sql.lstrip().upper().startswith("SELECT"):
        return f"-- slowest: {slowest['time']} s, not a SELECT: {sql[:300]}"
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    return f"-- slowest query ({float(slowest['time']) * 1000:.0f} ms):\n{sql}\n{plan}"


def _pages(client, order, carrier_id: int) -> list[tuple]:
    found = re.search(
        r'cursor=([A-Za-z0-9_-]+)" rel="next"', client.get("/dashboard/orders/").content.decode()
    )
    deep = found.group(1) if found else None
    month = (
        "/dashboard/orders/?date_from=" + str((order.created_at - timedelta(days=30)).date())
        + "&date_to=" + str(order.created_at.date())
    )
    return [
        ("overview (7 days)", "/dashboard/"),
        ("overview (30 days)", "/dashboard/?days=30"),
        ("orders, first page", "/dashboard/orders/"),
        ("orders, second page (cursor)", f"/dashboard/orders/?cursor={deep}" if deep else "/dashboard/orders/"),
        ("orders, carrier + Yinzunda filter", f"/dashboard/orders/?carrier={carrier_id}&yinzunda=yes"),
        ("orders, eligible for the tier", "/dashboard/orders/?yinzunda=eligible"),
        ("orders, date range last month", month),
        ("orders, search by waybill number", f"/dashboard/orders/?q={order.waybill.number}"),
        ("claims", "/dashboard/claims/"),
        ("ledger", "/dashboard/ledger/"),
        ("inbox", "/dashboard/inbox/"),
        ("after-sales queue", "/dashboard/aftersales/"),
        ("order page", f"/dashboard/orders/{order.pk}/"),
        ("order evidence page", f"/dashboard/orders/{order.pk}/evidence/"),
    ]


def child(argv: list[str]) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from claims.models import Claim
    from orders.models import Merchant, Order

    args = options_parse(_parser(), argv, smoke=SMOKE)
    name = connection.settings_dict["NAME"]
    merchant = Merchant.objects.filter(code=BENCH_MERCHANT).first()
    have = Order.objects.filter(merchant=merchant).count() if merchant else 0
    last = Merchant.objects.filter(code=merchant_code(args.merchants - 1)).first()
    have_last = Order.objects.filter(merchant=last).count() if last else 0
    if args.rebuild or have < args.orders or have_last < args.orders:
        if have:
            print(f"  bench database holds {have} orders, rebuilding", flush=True)
            with connection.cursor() as cur:  # flush TRUNCATEs the ledger: maintenance of a bench database
                cur.execute("SET yinzunda.ledger_maintenance = 'on'")
            call_command("flush", verbosity=0, interactive=False)
        print(f"Building {args.merchants} x {args.orders:,} orders in {name} ...", flush=True)
        with transaction.atomic():  # all or nothing: a half-built database is never reused
            build(args.orders, args.merchants)
    else:
        print(f"Reusing {have:,} orders in {name}", flush=True)
    merchant = Merchant.objects.get(code=BENCH_MERCHANT)
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        pg_version = cur.fetchone()[0].split(",")[0]

    client = Client()
    client.force_login(get_user_model().objects.get(username=BENCH_USER))
    orders = Order.objects.filter(merchant=merchant)
    n_orders = orders.count()
    order = orders.order_by("-created_at", "-id")[min(5000, n_orders // 2)]
    all_orders = Order.objects.count()
    print(
        f"\n{n_orders:,} orders of the measured merchant, {all_orders:,} in all "
        f"({Merchant.objects.count()} merchants); {pg_version}; load average {os.getloadavg()[0]:.2f}; "
        f"{args.requests} requests per page through Django's test Client (DEBUG off)\n"
    )
    print(f"| page | cold median / p95 ms | warm median / p95 ms | goal {GOAL_MS:.0f} ms |")
    print("|---|---:|---:|---|")
    pages, plans = {}, []
    for label, url in _pages(client, order, order.waybill.carrier_id):
        cold = _time(client, url, args.requests, cold=True)
        warm = _time(client, url, args.requests, cold=False)
        pages[label] = {"cold_median_ms": cold[0], "cold_p95_ms": cold[1], "warm_median_ms": warm[0],
                        "warm_p95_ms": warm[1], "samples": cold[2]}
        over = max(cold[1], warm[1]) >= GOAL_MS
        print(f"| {label} | {cold[0]:.0f} / {cold[1]:.0f} | {warm[0]:.0f} / {warm[1]:.0f} | "
              f"{'OVER' if over else 'ok'} |", flush=True)
        if over:
            plans.append(f"### {label}: {url}\n{_slowest_query_plan(client, url)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for plan in plans:
        print("\n" + plan)
    if args.figures:
        figures = {
            "database": database_name(os.environ["DATABASE_URL"]), "orders": n_orders, "all_orders": all_orders,
            "claims": Claim.objects.filter(merchant=merchant).count(),
            "notifications": merchant.notifications.count(), "pages": pages,
        }
        Path(args.figures).write_text(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        main(sys.argv[1:])
