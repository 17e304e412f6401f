"""Carrier event ingestion: events/s through the HTTP API against a raw COPY of the same rows.

`make bench` (or `python -m benchmarks.run events`) runs, on the real PostgreSQL:

1. a private database `<name>_bench_events` next to DATABASE_URL's, migrated and seeded
   with one carrier, a token and WAYBILLS waybills (the bench never touches your data);
2. gunicorn serving the portal on a free port (throttle rate raised, DEBUG off);
3. BATCHES POSTs of 1000 realistic events to /api/v1/carrier/events from CONCURRENCY
   client threads (bodies encoded beforehand, so the client costs little CPU);
4. the same rows (fresh event ids) written by psycopg2 `COPY ... FROM STDIN`, one COPY and
   one commit per 1000 rows, into the same table;

3 rounds of (API, then COPY) back to back, printing each and the medians: the machine is
shared, so a neighbour's burst hits both sides of a round alike. Every batch moves real
statuses (see Journeys): the bench reports waybills moved per batch, planned and as counted by
PostgreSQL, and checks that every waybill ends at its latest scan. It also reports, per 1,000
events, the CPU of the web workers and of the database sessions (from /proc), the WAL written
(pg_current_wal_lsn, the whole cluster's) and each index's size. Options: --batches N
--rounds N --concurrency N --workers N --waybills N --prefill N (events stored beforehand, to
measure a grown table); --smoke runs 2 batches of 100 events in one round on 200 waybills
after a 1,000-event prefill in `<name>_bench_events_smoke`, dropped afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

from benchmarks._support import (
    ROOT,
    Processes,
    bench_database,
    bench_database_url,
    connect,
    copy_line,
    database_name,
    events_post_all,
    free_port,
    options_parse,
    wait_port,
)
from benchmarks.events_journeys import CARRIER_CODE, Journeys
from benchmarks.events_probes import (
    Probe,
    events_copy,
    index_sizes,
    prefill,
    statuses_check,
    waybill_updates,
)

WAYBILL_PREFIX = "BZ"
SMOKE = {"batches": 2, "batch_size": 100, "warmup": 1, "rounds": 1, "waybills": 200, "workers": 1, "prefill": 1000}


def _server_env(url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
        "DATABASE_URL": url,
        "REDIS_URL": "",  # in-process cache; claim-evaluation tasks go to an in-memory broker
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CARRIER_THROTTLE_RATE": "10000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    })
    return env


def seed(waybills: int) -> None:
    """Runs in a child process on the bench database: carrier, tariff, waybills, one token."""
    import django

    django.setup()
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone as dj_timezone

    from carriers.models import Carrier, Tariff
    from carriers.services import carrier_token_create
    from orders.models import Merchant, Order
    from waybills.models import Waybill
    from waybills.numbers import format_waybill_number

    carrier, _ = Carrier.objects.get_or_create(
        code=CARRIER_CODE, defaults={"name": "基准快递", "waybill_prefix": WAYBILL_PREFIX, "is_partner": True}
    )
    Tariff.objects.get_or_create(
        carrier=carrier, version=1,
        defaults={"effective_from": dj_timezone.now() - timedelta(days=30), "fee_per_order": Decimal("0.80")},
    )
    merchant, _ = Merchant.objects.get_or_create(code="bench", defaults={"name": "基准店铺"})
    have = Waybill.objects.filter(carrier=carrier).count()
    if have < waybills:
        issued_at = dj_timezone.now() - timedelta(days=30)  # before the scans (the last 20 hours), or they are refused
        orders = Order.objects.bulk_create([
            Order(merchant=merchant, order_number=f"BENCH{n:08d}", recipient_name="张三",
                  recipient_phone=f"138{n:08d}", recipient_address="浙江省杭州市西湖区文三路 100 号",
                  amount=Decimal("99.00"))
            for n in range(have, waybills)
        ])
        Waybill.objects.bulk_create([
            Waybill(number=format_waybill_number(WAYBILL_PREFIX, n + 1), carrier=carrier, order=order,
                    service_codes=["SVC-WBHOMEDELIVERY"], created_at=issued_at)
            for n, order in zip(range(have, waybills), orders, strict=True)
        ])
    if connection.vendor == "postgresql":  # the prefill's month of scans lands in its own partitions
        from waybills.partitioning import events_partitions_cover

        events_partitions_cover(dj_timezone.now() - timedelta(days=31))
    with connection.cursor() as cursor:
        # CASCADE reaches the ledger (through claims), which refuses TRUNCATE outside maintenance.
        cursor.execute("SET yinzunda.ledger_maintenance = 'on'")
        cursor.execute("TRUNCATE waybills_trackingevent CASCADE")
        cursor.execute("RESET yinzunda.ledger_maintenance")
        cursor.execute(
            "UPDATE waybills_waybill SET status = 'created', status_at = NULL, delivered_at = NULL, delivery_method = '',"
            " created_at = LEAST(created_at, now() - interval '30 days')"
        )
        cursor.execute("VACUUM ANALYZE waybills_waybill")  # autocommit outside atomic: VACUUM is allowed
    carrier.tokens.all().delete()
    _, raw = carrier_token_create(carrier=carrier, name="bench")
    numbers = dict(Waybill.objects.filter(carrier=carrier).values_list("number", "pk"))
    print(json.dumps({"token": raw, "waybills": numbers}))


def _api_run(port: int, token: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    return events_post_all(port, [(token, body) for body in bodies], concurrency)


def _copy_run(url: str, carrier_id: int, waybill_ids: dict[str, int], batches: list[list[dict]]) -> tuple[float, float]:
    """Seconds taken, and CPU seconds its database session spent."""
    received = datetime.now(UTC).isoformat()
    buffers = []
    for events in batches:
        lines = []
        for e in events:
            row = [carrier_id, waybill_ids[e["waybill_number"]], "copy-" + e["event_id"], e["code"], e["occurred_at"],
                   e.get("location", ""), e.get("delivery_method", ""), e.get("proof_type", ""),
                   e.get("proof_url", ""), e.get("note", ""), received]
            lines.append(copy_line(row))
        buffers.append("".join(lines).encode())
    return events_copy(url, buffers)


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.events")
    parser.add_argument("--batches", type=int, default=int(os.environ.get("BENCH_EVENT_BATCHES", "60")))
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--waybills", type=int, default=25000)
    parser.add_argument("--prefill", type=int, default=0, help="events stored before the rounds (a grown table)")
    args = options_parse(parser, argv, smoke=SMOKE)

    url = bench_database_url(suffix="_bench_events", module="benchmarks.events", smoke=args.smoke)
    print(f"database: {database_name(url)} (private to this benchmark)", flush=True)
    with bench_database(url, smoke=args.smoke), Processes() as processes:
        return _measure(args, url, processes)


def _measure(args: argparse.Namespace, url: str, processes: Processes) -> dict:
    env = _server_env(url)
    seeded = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "benchmarks.events", "--seed", str(args.waybills)], cwd=ROOT, env=env,
        check=True, capture_output=True, text=True,
    )
    info = json.loads(seeded.stdout.strip().splitlines()[-1])
    token, waybill_ids = info["token"], info["waybills"]
    numbers = sorted(waybill_ids)

    port = free_port()
    server = processes.start(
        [sys.executable, "-m", "gunicorn", "yinzunda.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"],
        env=env,
    )
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT id FROM carriers_carrier WHERE code = %s", [CARRIER_CODE])
        carrier_id = cursor.fetchone()[0]
    conn.close()

    expected = args.batches * args.batch_size
    total = (args.warmup + args.rounds * args.batches) * args.batch_size
    journeys = Journeys(numbers, total, uuid.uuid4().hex)
    prefilled = prefill(url, carrier_id, args.prefill) if args.prefill else 0
    rounds: list[tuple[float, float]] = []
    costs: list[dict] = []
    moved_per_batch: list[int] = []
    wait_port(port, server)
    updates_before = waybill_updates(url)  # the seed's session has long ended and reported
    warm, _ = journeys.batches(uuid.uuid4().hex[:8], args.warmup, args.batch_size)
    _api_run(port, token, [json.dumps({"events": b}, ensure_ascii=False).encode() for b in warm], args.concurrency)
    for number in range(1, args.rounds + 1):
        # Each round: the API, then COPY of the same rows (fresh event ids), back to back,
        # so both see the same neighbours on this shared machine.
        batches, moved = journeys.batches(uuid.uuid4().hex[:8], args.batches, args.batch_size)
        moved_per_batch += moved
        bodies = [json.dumps({"events": b}, ensure_ascii=False).encode() for b in batches]
        if number == 1:
            print(f"payload: {args.batches} batches x {args.batch_size} events, {len(bodies[0]) / 1024:.0f} KiB "
                  f"per batch; gunicorn {args.workers} sync workers, {args.concurrency} client threads; "
                  f"{args.rounds} rounds; {prefilled:,} events stored beforehand", flush=True)
        probe = Probe(url, server.pid)
        elapsed, accepted = _api_run(port, token, bodies, args.concurrency)
        api_cost = probe.done(expected)
        if accepted != expected:
            sys.exit(f"API stored {accepted} of {expected} events: benchmark invalid")
        probe = Probe(url, None)
        copy_elapsed, copy_cpu = _copy_run(url, carrier_id, waybill_ids, batches)
        copy_cost = {**probe.done(expected), "db_cpu_ms": copy_cpu * 1000 * 1000 / expected}
        costs.append({"api": api_cost, "copy": copy_cost})
        api_rate, copy_rate = expected / elapsed, expected / copy_elapsed
        rounds.append((api_rate, copy_rate))
        print(f"round {number}: API {api_rate:,.0f} events/s ({elapsed / args.batches * 1000:.0f} ms per batch, "
              f"{statistics.mean(moved):.0f} waybills moved per batch), COPY {copy_rate:,.0f} rows/s, "
              f"ratio {api_rate / copy_rate:.2f}", flush=True)
    replayed = bodies[:10]
    replay_elapsed, replay_accepted = _api_run(port, token, replayed, args.concurrency)
    if replay_accepted != 0:
        sys.exit(f"replayed batches stored {replay_accepted} events: dedup broken")
    processes.stop()  # gunicorn's database sessions end, so their statistics reach pg_stat_user_tables
    updates = waybill_updates(url, above=updates_before) - updates_before
    wrong = statuses_check(url, journeys.last)
    if wrong:
        sys.exit(f"{wrong} waybills do not show their latest scan's status: status updates lost")
    stored = _stored(url, carrier_id)
    indexes = index_sizes(url)

    api_rate = statistics.median(r[0] for r in rounds)
    copy_rate = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    replay_rate = len(replayed) * args.batch_size / replay_elapsed
    api_batches = args.warmup + args.rounds * args.batches
    per_k = {side: {key: statistics.median(c[side][key] for c in costs) for key in costs[0][side]}
             for side in ("api", "copy")}
    print(f"API   : {api_rate:,.0f} events/s (median of {len(rounds)} rounds of {expected} events; HTTP, auth, "
          f"validation, dedup, waybill status; {args.concurrency} requests in flight)")
    print(f"COPY  : {copy_rate:,.0f} rows/s (median; psycopg2 COPY FROM STDIN + commit per {args.batch_size} rows, one connection)")
    print(f"replay: {replay_rate:,.0f} events/s for already-stored batches (all duplicates)")
    print(f"moved : {statistics.mean(moved_per_batch):.0f} waybills per {args.batch_size}-event batch planned "
          f"(every waybill in a batch gets newer scans); {updates / api_batches:.0f} waybill row updates per batch "
          f"counted by PostgreSQL ({updates:,} over {api_batches} batches); every waybill ends at its latest scan")
    print(f"per 1,000 events (medians): API web CPU {per_k['api']['web_cpu_ms']:.0f} ms, DB CPU "
          f"{per_k['api']['db_cpu_ms']:.0f} ms, WAL {per_k['api']['wal_kib']:.0f} KiB; COPY DB CPU "
          f"{per_k['copy']['db_cpu_ms']:.0f} ms, WAL {per_k['copy']['wal_kib']:.0f} KiB (WAL is the whole "
          f"cluster's: an upper bound on a shared server)")
    print("indexes: " + ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, size in indexes.items())
          + f" for {sum(stored.values()):,} rows")
    print(f"ratio : API / COPY = {ratio:.2f} (median)   goals: API >= 10,000 events/s, ratio >= 0.30", flush=True)
    return {
        "database": database_name(url), "events_per_round": expected, "rounds": len(rounds), "api_events_per_s": api_rate,
        "copy_rows_per_s": copy_rate, "ratio": ratio, "replay_events_per_s": replay_rate,
        "replay_stored": replay_accepted, "stored": stored, "prefilled": prefilled, "pids": processes.pids,
        "moved_per_batch": moved_per_batch, "waybill_updates": updates, "api_batches": api_batches,
        "per_1000_events": per_k, "index_bytes": indexes,
    }


def _stored(url: str, carrier_id: int) -> dict:
    """Rows in the events table by origin: the API's (warm-up and rounds), COPY's and the prefill's."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN event_id LIKE 'copy-%%' THEN 'copy' WHEN event_id LIKE 'fill-%%' THEN 'prefill'"
            " ELSE 'api' END, COUNT(*) FROM waybills_trackingevent WHERE carrier_id = %s GROUP BY 1",
            [carrier_id],
        )
        counts = dict(cursor.fetchall())
    conn.close()
    return {"api": counts.get("api", 0), "copy": counts.get("copy", 0), "prefill": counts.get("prefill", 0)}


if __name__ == "__main__":
    if "--seed" in sys.argv:
        seed(int(sys.argv[sys.argv.index("--seed") + 1]))
    else:
        main(sys.argv[1:])
