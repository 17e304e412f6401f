"""The promise watcher on ingest: claims opened per second by one worker process (issue 12).

`make bench BENCH_ARGS=watcher` runs, on the real PostgreSQL and a throwaway redis-server, for
each breach mix (3 % and 30 % of the scans by default):

1. a private database `<name>_bench_watcher`, migrated; COPY of WAYBILLS Yinzunda parcels
   (orders, active purchases, waybills) of one partner carrier whose tariff pays every promise;
2. a stream of BATCHES batches of BATCH_SIZE scans ingested through the service the events
   API calls (`tracking_events_ingest`: validation, set-based store, the outbox row of the
   watcher task), with the after-commit publish off so the whole stream waits as a backlog:
   per batch, MIX × BATCH_SIZE parcels delivered to a locker without consent (each a breach)
   and, for the rest of the batch, parcels moving through hubs to a station (4 scans each, no
   clock run out);
3. one Celery worker process (`--pool solo`, queue urgent, as deployed) started, the outbox
   sweep publishing the backlog at once, and the clock running until every breach is a claim.

It reports claims/s per worker process (breaches ÷ seconds from publish to the last claim),
the worker's CPU per claim, the tasks' own time from the worker log, and checks exactly one
claim per breach and no other. Goal: ≥ 500 claims/s per worker process. Options: --batches N
--batch-size N --waybills N --mixes 0.03,0.3; --smoke: 3 batches of 100, database dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._support import (
    ROOT,
    Processes,
    bench_database,
    bench_database_url,
    connect,
    copy_rows,
    database_name,
    options_parse,
    redis_server,
)
from benchmarks.events_probes import cpu_seconds

SMOKE = {"batches": 3, "batch_size": 100, "waybills": 1000}
PREFIX = "BW"
HUB_LEG = ["PICKED_UP", "ARRIVED_AT_HUB", "DEPARTED_HUB", "ARRIVED_AT_STATION"]


def stream(*, batches: int, batch_size: int, mix: float, waybills: int) -> tuple[list[list[dict]], int]:
    """The batches of scans and the number of breaches they carry (each parcel used once)."""
    from waybills.numbers import format_waybill_number

    now = datetime.now(UTC)
    serial, parcel, breaches, out = 0, 0, 0, []

    def scan(events: list[dict], number: int, code: str, at: datetime, **extra) -> None:
        nonlocal serial
        serial += 1
        events.append({"event_id": f"W-{serial:09d}", "waybill_number": format_waybill_number(PREFIX, number),
                       "code": code, "occurred_at": at.isoformat(), "location": "杭州转运中心", **extra})

    for _ in range(batches):
        drops = round(batch_size * mix)
        events: list[dict] = []
        for _drop in range(drops):
            parcel += 1
            scan(events, parcel, "DELIVERED", now - timedelta(minutes=5), delivery_method="locker",
                 proof_type="photo", proof_url=f"https://proof.bench.example/{parcel}.jpg")
        while len(events) + len(HUB_LEG) <= batch_size:
            parcel += 1
            for k, code in enumerate(HUB_LEG):
                scan(events, parcel, code, now - timedelta(minutes=50 - 10 * k))
        breaches += drops
        out.append(events)
    if parcel > waybills:
        sys.exit(f"the stream needs {parcel} parcels; raise --waybills")
    return out, breaches


def seed(waybills: int) -> None:
    """Child: a fresh world of WAYBILLS Yinzunda parcels, by COPY."""
    import django

    django.setup()
    from decimal import Decimal

    from django.db import connection

    from carriers.models import Carrier, Tariff, TariffPayout
    from orders.models import Merchant
    from waybills.numbers import format_waybill_number

    with connection.cursor() as cursor:
        cursor.execute("SET yinzunda.ledger_maintenance = 'on'")
        cursor.execute("TRUNCATE claims_claim, waybills_trackingevent, waybills_waybill, orders_yinzundapurchase,"
                       " orders_order, orders_merchant, carriers_tariff, carriers_carrier, yinzunda_outboxmessage"
                       " RESTART IDENTITY CASCADE")
        cursor.execute("RESET yinzunda.ledger_maintenance")
    issued = datetime.now(UTC) - timedelta(days=2)
    carrier = Carrier.objects.create(code="BENCHWATCH", name="违约基准快递", waybill_prefix=PREFIX, is_partner=True)
    tariff = Tariff.objects.create(carrier=carrier, version=1, effective_from=issued, fee_per_order=Decimal("0.80"))
    TariffPayout.objects.bulk_create([
        TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00"))
        for t in ("not_to_door", "locker_without_consent", "stuck_in_transit", "return_pickup_missed", "no_call")
    ])
    merchant = Merchant.objects.create(code="bench-watcher", name="违约基准店铺")
    with connection.cursor() as cursor:
        copy_rows(cursor, "orders_order", ["id", "merchant_id", "order_number", "recipient_name", "recipient_phone",
                                           "recipient_address", "amount", "created_at"],
                  ((i, merchant.pk, f"BW{i:010d}", "张三", f"138{i % 10**8:08d}", "浙江省杭州市西湖区文三路 100 号",
                    "99.00", issued.isoformat()) for i in range(1, waybills + 1)))
        copy_rows(cursor, "orders_yinzundapurchase", ["id", "order_id", "merchant_id", "tariff_id", "fee", "status",
                                                      "purchased_at"],
                  ((i, i, merchant.pk, tariff.pk, "0.80", "active", issued.isoformat()) for i in range(1, waybills + 1)))
        copy_rows(cursor, "waybills_waybill", ["id", "number", "carrier_id", "order_id", "is_platform_issued",
                                               "service_codes", "status", "delivery_method", "created_at"],
                  ((i, format_waybill_number(PREFIX, i), carrier.pk, i, "t", '["SVC-WBHOMEDELIVERY"]', "created", "",
                    issued.isoformat()) for i in range(1, waybills + 1)))
        for table in ("orders_order", "orders_yinzundapurchase", "waybills_waybill"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - our own table names


def backlog(batches: int, batch_size: int, mix: float, waybills: int) -> None:
    """Child: ingest the stream (the after-commit publish off: it waits in the outbox)."""
    import django

    django.setup()
    from carriers.models import Carrier
    from waybills.services.tracking import tracking_events_ingest

    carrier = Carrier.objects.get(code="BENCHWATCH")
    batches_, breaches = stream(batches=batches, batch_size=batch_size, mix=mix, waybills=waybills)
    accepted = 0
    started = time.perf_counter()
    for events in batches_:
        result = tracking_events_ingest(carrier=carrier, events=events)
        if result.rejected:
            sys.exit(f"rejected: {result.rejected[:3]}")
        accepted += result.accepted
    print(json.dumps({"accepted": accepted, "breaches": breaches, "ingest_s": time.perf_counter() - started}))


def _claims(url: str) -> tuple[int, int, int]:
    """Claims opened, distinct (waybill, promise) pairs, claims that are not a locker drop."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (waybill_id, promise)),"
                       " count(*) FILTER (WHERE breach->>'rule' IS DISTINCT FROM 'drop') FROM claims_claim")
        row = cursor.fetchone()
    conn.close()
    return int(row[0]), int(row[1]), int(row[2])


def _one_mix(args: argparse.Namespace, url: str, mix: float, logs: Path) -> dict:
    python = sys.executable
    with Processes() as processes:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
               "REDIS_URL": redis_server(processes), "CELERY_TASK_ALWAYS_EAGER": "false", "LOG_LEVEL": "WARNING"}
        quiet = {**env, "YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT": "false"}
        subprocess.run([python, "-c", f"import benchmarks.watcher as b; b.seed({args.waybills})"],  # noqa: S603
                       cwd=ROOT, env=quiet, check=True)
        done = subprocess.run(  # noqa: S603 - our own module
            [python, "-c", f"import benchmarks.watcher as b; b.backlog({args.batches}, {args.batch_size}, {mix}, {args.waybills})"],
            cwd=ROOT, env=quiet, check=True, capture_output=True, text=True,
        )
        ingest = json.loads(done.stdout.strip().splitlines()[-1])
        log = logs / f"bench-watcher-worker-{int(mix * 100)}.log"
        worker = processes.start(
            [str(Path(python).parent / "celery"), "-A", "yinzunda", "worker", "-l", "info", "-Q", "urgent",
             "--pool", "solo", "-n", f"bench-watcher-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
            env=env, log=log,
        )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        load = os.getloadavg()[0]
        cpu_before = cpu_seconds(worker.pid)
        started = time.monotonic()
        subprocess.run([python, "-c", "import benchmarks.routing_drain as d; d.sweep()"], cwd=ROOT, env=env,  # noqa: S603
                       check=True, capture_output=True)
        deadline = started + 600
        while (claims := _claims(url))[0] < ingest["breaches"] and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(worker.pid) - cpu_before
        time.sleep(1)  # tasks still running would open claims beyond the breaches: count again
        claims = _claims(url)
        pids = processes.pids
    tasks = [float(s) for s in re.findall(r"outbox_run\[[^\]]+\] succeeded in ([0-9.]+)s", log.read_text())]
    opened = claims[0]
    figures = {
        "mix": mix, "scans": ingest["accepted"], "breaches": ingest["breaches"], "claims": opened,
        "one_per_breach": opened == ingest["breaches"] == claims[1] and claims[2] == 0,
        "seconds": elapsed, "claims_per_second": opened / elapsed if elapsed else 0.0,
        "scans_per_second": ingest["accepted"] / elapsed if elapsed else 0.0,
        "worker_cpu_ms_per_claim": cpu / max(opened, 1) * 1000, "tasks": len(tasks),
        "task_seconds": sum(tasks), "load_before": load, "pids": pids,
    }
    print(f"mix {mix:.0%}: {ingest['accepted']:,} scans in {args.batches} batches carrying {ingest['breaches']:,} breaches; "
          f"one worker process opened {opened:,} claims in {elapsed:.2f} s = {figures['claims_per_second']:,.0f} "
          f"claims/s (goal ≥ 500), the stream judged at {figures['scans_per_second']:,.0f} scans/s; {len(tasks)} tasks busy {sum(tasks):.2f} s; worker CPU "
          f"{figures['worker_cpu_ms_per_claim']:.2f} ms/claim; exactly one claim per breach and no other: "
          f"{figures['one_per_breach']}; load average {load:.1f}", flush=True)
    return figures


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.watcher")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--waybills", type=int, default=40_000)
    parser.add_argument("--mixes", default="0.03,0.3")
    args = options_parse(parser, argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_watcher", module="benchmarks.watcher", smoke=args.smoke)
    print(f"database: {database_name(url)} (private to this benchmark)", flush=True)
    logs = Path(os.environ.get("BENCH_LOG_DIR") or tempfile.gettempdir())
    with bench_database(url, smoke=args.smoke):
        mixes = [_one_mix(args, url, float(m), logs) for m in args.mixes.split(",")]
    return {"database": database_name(url), "mixes": mixes, "pids": [pid for m in mixes for pid in m["pids"]]}


if __name__ == "__main__":
    main(sys.argv[1:])
