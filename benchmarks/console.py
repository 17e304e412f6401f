"""Operator console at platform scale: the carrier scorecard and the arbitration queue with
10,000,000 waybills and 1,000,000 claims across 5 carriers (goal: every page < 300 ms cold).

`make bench BENCH_ARGS=console` (or `python -m benchmarks.console`). The database is
DATABASE_URL's name + `_bench_console`, built once with COPY (benchmarks/console_data.py) and
reused. Options:
  --waybills N   waybills (default 10,000,000; claims are one in ten)
  --requests N   timed requests per page (default 20)
  --rebuild      drop and rebuild the bench data
  --smoke        20,000 waybills, 2 requests per page, in `<name>_bench_console_smoke` (dropped afterwards)

The scorecard reads the CarrierWeekScore rollup; the bench also times the job that rebuilds it
(this week and last week, as beat does every 10 minutes), which is what keeps the page fresh.
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
from pathlib import Path

from benchmarks._support import ROOT, bench_database, bench_database_url, options_parse, percentile
from benchmarks.console_data import build

GOAL_MS = 300.0
SMOKE = {"waybills": 20_000, "requests": 2}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks.console")
    parser.add_argument("--waybills", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--figures", help="(child) write the figures as JSON to this file")
    return parser


def main(argv: list[str]) -> dict:
    """Entry point of `benchmarks.run`: re-run this module in a child bound to the bench database."""
    args = options_parse(_parser(), argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_console", module="benchmarks.console", smoke=args.smoke)
    env = {
        **os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base", "DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true", "LOG_LEVEL": "WARNING", "YINZUNDA_CONSOLE_LEDGER_CHECK": "0",
    }
    env.pop("REDIS_URL", None)  # local-memory cache and eager tasks: the bench measures the pages
    with bench_database(url, smoke=args.smoke), tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        command = [sys.executable, "-m", "benchmarks.console", "--child", *argv, f"--figures={figures}"]
        subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own module
        return json.loads(figures.read_text())


def _time(client, url: str, n: int) -> tuple[float, float, int]:
    from django.core.cache import cache

    client.get(url)  # warm-up (connection, template cache)
    samples = []
    for _ in range(n):
        cache.clear()  # "cold": nothing from the application cache
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples), percentile(samples, 0.95), len(samples)


def child(argv: list[str]) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from carriers.models import Carrier
    from claims.models import Claim
    from claims.services.scorecard import scorecard_refresh
    from waybills.models import Waybill

    args = options_parse(_parser(), argv, smoke=SMOKE)
    have = Waybill.objects.filter(carrier__code__startswith="C").count()
    built = {}
    if args.rebuild or have < args.waybills:
        if have:
            with connection.cursor() as cur:  # flush TRUNCATEs the ledger: maintenance of a bench database
                cur.execute("SET yinzunda.ledger_maintenance = 'on'")
            call_command("flush", verbosity=0, interactive=False)
        print(f"Building {args.waybills:,} waybills in {connection.settings_dict['NAME']} ...", flush=True)
        with transaction.atomic():
            built = build(args.waybills)
    else:
        print(f"Reusing {have:,} waybills", flush=True)
    t0 = time.perf_counter()
    rows = scorecard_refresh(weeks=2)
    refresh_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scorecard_refresh(weeks=8)
    backfill_s = time.perf_counter() - t0
    staff, _ = get_user_model().objects.get_or_create(username="bench-operator", defaults={"is_staff": True})
    client = Client()
    client.force_login(staff)
    carrier = Carrier.objects.get(code="CZTO")
    disputed = Claim.objects.filter(status="disputed").order_by("updated_at", "id").select_related("waybill").first()
    queue = client.get("/staff/claims/").content.decode()
    found = re.search(r"cursor=([A-Za-z0-9_-]+)", queue)
    pages = [
        ("scorecard, this week", "/staff/scorecard/"),
        ("scorecard, one carrier (drill-down)", f"/staff/scorecard/carriers/{carrier.pk}/"),
        ("scorecard CSV (8 weeks)", "/staff/scorecard.csv"),
        ("arbitration queue, first page", "/staff/claims/"),
        ("arbitration queue, second page (cursor)", f"/staff/claims/?cursor={found.group(1)}" if found else "/staff/claims/"),
        ("arbitration queue, one carrier", f"/staff/claims/?carrier={carrier.pk}"),
        ("arbitration queue, past target", "/staff/claims/?age=over_target"),
        ("arbitration queue, search by waybill", f"/staff/claims/?q={disputed.waybill.number}"),
    ]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM waybills_waybill")
        waybills = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM claims_claim")
        claims = cur.fetchone()[0]
    results = []
    print(f"\n{waybills:,} waybills, {claims:,} claims; rollup rebuild (2 weeks) {refresh_s:.1f}s, 8 weeks {backfill_s:.1f}s")
    print(f"{'page':45} {'median ms':>10} {'p95 ms':>8}")
    for label, url in pages:
        median, p95, n = _time(client, url, args.requests)
        results.append({"page": label, "url": url, "median_ms": round(median, 1), "p95_ms": round(p95, 1), "samples": n})
        print(f"{label:45} {median:10.1f} {p95:8.1f}{'' if p95 < GOAL_MS else '  (over goal)'}")
    figures = {
        "database": connection.settings_dict["NAME"],
        "waybills": waybills, "claims": claims, "rollup_rows": rows, "rollup_refresh_seconds": round(refresh_s, 2),
        "rollup_backfill_8_weeks_seconds": round(backfill_s, 2), "build_seconds": built, "pages": results,
        "goal_ms": GOAL_MS,
    }
    if args.figures:
        Path(args.figures).write_text(json.dumps(figures))


if __name__ == "__main__":
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        print(json.dumps(main(sys.argv[1:]), indent=2))
