"""Merchant dashboard with a million orders: builds the data once in `<name>_bench_dash`, then times pages.

`make bench BENCH_ARGS=dashboard` (or `python -m benchmarks.dashboard`). The database is
DATABASE_URL's name + `_bench_dash`, like the other benches. Options:
  --orders N     orders of the bench merchant (default 1,000,000)
  --requests N   timed requests per page (default 20)
  --rebuild      drop and rebuild the bench data
  --smoke        3,000 orders, 2 requests per page, in `<name>_bench_dash_smoke` (dropped afterwards)

The measurement runs in a child process pointed at the bench database, so it never touches
the development database and works whatever Django settings the runner process loaded.
Data is loaded with COPY in chunks (benchmarks/dashboard_data.py); on 2 cores a million
orders take well under a minute, and a database already holding them is reused.
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
from benchmarks.dashboard_data import BENCH_MERCHANT, BENCH_USER, build

GOAL_MS = 300.0
SMOKE = {"orders": 3000, "requests": 2}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks.dashboard")
    parser.add_argument("--orders", type=int, default=1_000_000)
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


def _time(client, url: str, n: int, *, cold: bool = False) -> tuple[float, float, int]:
    from django.core.cache import cache

    client.get(url)  # warm-up (connection, template cache)
    samples = []
    for _ in range(n):
        if cold:
            cache.clear()  # the overview's two-minute stats cache: measure the real queries
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), percentile(samples, 0.95), len(samples)


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
        ("overview (7 days), cold stats cache", "/dashboard/", True),
        ("overview (7 days), warm", "/dashboard/"),
        ("overview (30 days), cold stats cache", "/dashboard/?days=30", True),
        ("overview (30 days), warm", "/dashboard/?days=30"),
        ("orders, first page", "/dashboard/orders/"),
        ("orders, second page (cursor)", f"/dashboard/orders/?cursor={deep}" if deep else "/dashboard/orders/"),
        ("orders, carrier + Yinzunda filter", f"/dashboard/orders/?carrier={carrier_id}&yinzunda=yes"),
        ("orders, eligible for the tier", "/dashboard/orders/?yinzunda=eligible"),
        ("orders, date range last month", month),
        ("orders, search by waybill number", f"/dashboard/orders/?q={order.waybill.number}"),
        ("claims", "/dashboard/claims/"),
        ("ledger", "/dashboard/ledger/"),
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
    if args.rebuild or have < args.orders:
        if have:
            print(f"  bench database holds {have} orders, rebuilding", flush=True)
            with connection.cursor() as cur:  # flush TRUNCATEs the ledger: maintenance of a bench database
                cur.execute("SET yinzunda.ledger_maintenance = 'on'")
            call_command("flush", verbosity=0, interactive=False)
        print(f"Building {args.orders:,} orders in {name} ...", flush=True)
        with transaction.atomic():  # all or nothing: a half-built database is never reused
            build(args.orders)
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
    print(
        f"\n{n_orders:,} orders of one merchant; {pg_version}; "
        f"{args.requests} requests per page through Django's test Client (DEBUG off)\n"
    )
    print(f"| page | median ms | p95 ms | goal {GOAL_MS:.0f} ms |")
    print("|---|---:|---:|---|")
    pages = {}
    for label, url, *cold in _pages(client, order, order.waybill.carrier_id):
        median, p95, samples = _time(client, url, args.requests, cold=bool(cold))
        pages[label] = {"median_ms": median, "p95_ms": p95, "samples": samples}
        print(f"| {label} | {median:.0f} | {p95:.0f} | {'ok' if p95 < GOAL_MS else 'OVER'} |", flush=True)
    if args.figures:
        figures = {
            "database": database_name(os.environ["DATABASE_URL"]), "orders": n_orders,
            "claims": Claim.objects.filter(merchant=merchant).count(),
            "notifications": merchant.notifications.count(), "pages": pages,
        }
        Path(args.figures).write_text(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        main(sys.argv[1:])
