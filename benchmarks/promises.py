"""The promise watcher's sweep: every breach of DESIGN §3a among the Yinzunda parcels in flight.

`make bench BENCH_ARGS=promises` runs, on the real PostgreSQL:

1. a private database `<name>_bench_promises`, migrated, seeded by COPY with WAYBILLS Yinzunda
   parcels in flight (orders, waybills, active purchases, 4-6 scans each: in transit, at a
   station, out for delivery, a return booked), 2 % of them in breach (station hold, hub dwell,
   transit, return pickup, in turn);
2. each parcel's next due moment as the watcher stores it on ingest of its last scan
   (`claims.services.promise_due.promises_due_refresh`, the migration's backfill): its time;
3. for reference, the old full scan (`claims.selectors.breaches.breaches_find` over every
   parcel in flight and its whole history) ROUNDS times, and that it finds exactly the breaches;
4. the sweep itself (`claims.services.watcher.promises_watch(waybill_ids=None)`): reads only
   the parcels whose moment has come, opens one claim per breach with its audit row; claims ==
   seeded breaches; the webhooks and inbox entries of that many claims go to outbox tasks
   (`claims.tasks.claims_announce`, 1,000 claims each), run here one after another and timed
   apart; then a second sweep opens nothing.

Goal: the sweep over 1,000,000 parcels finds exactly the breaches in under 10 s. Options:
--waybills N --rounds N (0: no full scan); --smoke: 2,000 parcels, one round, database dropped.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from benchmarks._support import (
    ROOT,
    bench_database,
    bench_database_url,
    database_name,
    options_parse,
)

SMOKE = {"waybills": 2000, "rounds": 1}
BREACH_EVERY = 50  # 2 %
H = timedelta(hours=1)
# (code, hours before now) per history; the last scan sets the waybill's status.
KEPT = [
    ("in_transit", [("PICKED_UP", 20), ("ARRIVED_AT_HUB", 18), ("DEPARTED_HUB", 16), ("ARRIVED_AT_HUB", 5)]),
    ("at_station", [("PICKED_UP", 40), ("ARRIVED_AT_HUB", 38), ("DEPARTED_HUB", 35), ("ARRIVED_AT_STATION", 10)]),
    ("out_for_delivery", [("PICKED_UP", 30), ("ARRIVED_AT_HUB", 28), ("DEPARTED_HUB", 26),
                          ("ARRIVED_AT_STATION", 6), ("OUT_FOR_DELIVERY", 2)]),
    ("return_scheduled", [("PICKED_UP", 100), ("ARRIVED_AT_HUB", 98), ("DEPARTED_HUB", 96), ("OUT_FOR_DELIVERY", 60),
                          ("DELIVERED", 58), ("RETURN_PICKUP_SCHEDULED", 10)]),
]
BROKEN = [  # (status, scans, promise broken)
    ("at_station", [("PICKED_UP", 40), ("ARRIVED_AT_HUB", 38), ("DEPARTED_HUB", 35), ("ARRIVED_AT_STATION", 30)],
     "door_delivery"),
    ("in_transit", [("PICKED_UP", 20), ("ARRIVED_AT_HUB", 18), ("DEPARTED_HUB", 16), ("ARRIVED_AT_HUB", 15)],
     "priority_transit"),
    ("in_transit", [("PICKED_UP", 80), ("ARRIVED_AT_HUB", 78), ("DEPARTED_HUB", 70), ("ARRIVED_AT_HUB", 10),
                    ("DEPARTED_HUB", 9)], "priority_transit"),
    ("return_scheduled", [("PICKED_UP", 100), ("ARRIVED_AT_HUB", 98), ("DEPARTED_HUB", 96), ("OUT_FOR_DELIVERY", 60),
                          ("DELIVERED", 58), ("RETURN_PICKUP_SCHEDULED", 50)], "return_pickup"),
]


def _history(i: int):
    if i % BREACH_EVERY == 0:
        status, scans, promise = BROKEN[(i // BREACH_EVERY) % len(BROKEN)]
        return status, scans, promise
    status, scans = KEPT[i % len(KEPT)]
    return status, scans, None


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    buffer = io.StringIO()
    for count, line in enumerate(lines, start=1):
        buffer.write(line)
        if count % 200_000 == 0:
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def seed(count: int, now: datetime) -> set[tuple[int, str]]:
    """COPY `count` Yinzunda parcels in flight; the (waybill id, promise) pairs seeded in breach."""
    from decimal import Decimal

    from django.db import connection

    from carriers.models import Carrier, Tariff, TariffPayout
    from orders.models import Merchant
    from waybills.numbers import format_waybill_number

    with connection.cursor() as cursor:
        # CASCADE reaches the ledger (through claims), which refuses TRUNCATE outside maintenance.
        cursor.execute("SET yinzunda.ledger_maintenance = 'on'")
        cursor.execute("TRUNCATE claims_claim, waybills_trackingevent, waybills_waybill, orders_yinzundapurchase,"
                       " orders_order, orders_merchant, carriers_tariff, carriers_carrier, yinzunda_outboxmessage"
                       " RESTART IDENTITY CASCADE")
        cursor.execute("RESET yinzunda.ledger_maintenance")
    carrier = Carrier.objects.create(code="BENCHPROM", name="承诺基准快递", waybill_prefix="BP", is_partner=True)
    tariff = Tariff.objects.create(carrier=carrier, version=1, effective_from=now - 400 * H, fee_per_order=Decimal("0.80"))
    TariffPayout.objects.bulk_create([
        TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00"))
        for t in ("not_to_door", "locker_without_consent", "stuck_in_transit", "return_pickup_missed", "no_call")
    ])
    merchant = Merchant.objects.create(code="bench-promises", name="承诺基准店铺")
    issued = (now - 200 * H).isoformat()
    expected = set()
    with connection.cursor() as cursor:
        _copy(cursor, "orders_order", ["id", "merchant_id", "order_number", "recipient_name", "recipient_phone",
                                       "recipient_address", "amount", "created_at"],
              (f"{i + 1}\t{merchant.pk}\tBP{i:010d}\t张三\t138{i % 10**8:08d}\t浙江省杭州市西湖区文三路 100 号\t99.00\t{issued}\n"
               for i in range(count)))
        _copy(cursor, "orders_yinzundapurchase", ["id", "order_id", "merchant_id", "tariff_id", "fee", "status",
                                                  "purchased_at"],
              (f"{i + 1}\t{i + 1}\t{merchant.pk}\t{tariff.pk}\t0.80\tactive\t{issued}\n" for i in range(count)))

        def waybills():
            for i in range(count):
                status, scans, promise = _history(i)
                last = (now - scans[-1][1] * H).isoformat()
                if promise:
                    expected.add((i + 1, promise))
                yield (f"{i + 1}\t{format_waybill_number('BP', i + 1)}\t{carrier.pk}\t{i + 1}\tt\t[\"SVC-WBHOMEDELIVERY\"]\t"
                       f"{status}\t{last}\t\t\\N\t{issued}\n")

        _copy(cursor, "waybills_waybill", ["id", "number", "carrier_id", "order_id", "is_platform_issued",
                                           "service_codes", "status", "status_at", "delivery_method", "delivered_at",
                                           "created_at"], waybills())
        received = now.isoformat()

        def events():
            serial = 0
            for i in range(count):
                _status, scans, _promise = _history(i)
                jitter = timedelta(minutes=(i * 7) % 30)
                for code, hours in scans:
                    serial += 1
                    method = "door" if code == "DELIVERED" else ""
                    yield (f"{i + 1}\t{carrier.pk}\tBP-{serial}\t{code}\t{(now - hours * H + jitter).isoformat()}\t"
                           f"杭州转运中心\t{method}\t\t\t\t{received}\n")

        _copy(cursor, "waybills_trackingevent", ["waybill_id", "carrier_id", "event_id", "code", "occurred_at",
                                                 "location", "delivery_method", "proof_type", "proof_url", "note",
                                                 "received_at"], events())
        for table in ("orders_order", "orders_yinzundapurchase", "waybills_waybill", "waybills_trackingevent"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - our own table names
    return expected


def child(count: int, rounds: int) -> dict:
    import django

    django.setup()
    from claims.models import Claim, Notification
    from claims.selectors.breaches import breaches_due_waybill_ids, breaches_find
    from claims.services.promise_due import promises_due_refresh
    from claims.services.watcher import promises_watch
    from yinzunda.models import OutboxMessage
    from yinzunda.outbox import outbox_message_run

    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    expected = seed(count, now)
    seed_s = time.perf_counter() - started
    print(f"seeded {count:,} parcels in flight ({len(expected):,} in breach) in {seed_s:.0f} s", flush=True)
    # What the watcher stored on ingest of each parcel's last scan: its next clock's due moment
    # (the same statement the migration backfills with).
    started = time.perf_counter()
    promises_due_refresh(waybill_ids=None, now=None)
    due_s = time.perf_counter() - started
    due = len(breaches_due_waybill_ids(now=now))
    print(f"due moments stored for {count:,} parcels in {due_s:.1f} s; {due:,} parcels due by now", flush=True)
    timings, exact = [], True
    for number in range(1, rounds + 1):  # the old full scan, for reference (--rounds 0 skips it)
        started = time.perf_counter()
        found = breaches_find(now=now)
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        exact = exact and {(b.waybill_id, b.promise) for b in found} == expected
        print(f"round {number}: full-scan breach query {elapsed:.2f} s, {len(found):,} found, exact: {exact}", flush=True)
    started = time.perf_counter()
    opened = promises_watch(waybill_ids=None, now=now)
    sweep_s = time.perf_counter() - started
    claimed = set(Claim.objects.values_list("waybill_id", "promise"))
    # Many claims at once are announced (webhook claim.opened, inbox entry) by outbox tasks of
    # ANNOUNCE_INLINE claims each, which the workers run after the sweep: here one after another.
    announce = list(
        OutboxMessage.objects.filter(task_name="claims.tasks.claims_announce", done_at__isnull=True).values_list("pk", flat=True)
    )
    started = time.perf_counter()
    for message_id in announce:
        outbox_message_run(message_id, "claims.tasks.claims_announce")
    announce_s = time.perf_counter() - started
    announced = Notification.objects.filter(claim__isnull=False).count()
    started = time.perf_counter()
    again = promises_watch(waybill_ids=None, now=now)
    rerun_s = time.perf_counter() - started
    query_s = statistics.median(timings) if timings else None
    if query_s is not None:
        print(f"full scan: {query_s:.2f} s median over every parcel in flight, exact: {exact}")
    print(f"sweep : {sweep_s:.2f} s over {count:,} parcels in flight (goal < 10 s), {len(opened):,} claims opened "
          f"({len(opened) / sweep_s:,.0f} claims/s) with their audit rows; claims == breaches: "
          f"{claimed == expected}")
    print(f"announce: {len(announce)} outbox tasks told carriers and merchants of {announced:,} claims in "
          f"{announce_s:.2f} s run one after another (workers share them)")
    print(f"rerun : {rerun_s:.2f} s, {len(again)} claims opened", flush=True)
    return {
        "waybills": count, "breaches": len(expected), "due_refresh_s": due_s, "due": due, "query_s": query_s,
        "exact": exact, "sweep_s": sweep_s, "opened": len(opened), "claims_match": claimed == expected,
        "rerun_opened": len(again), "rerun_s": rerun_s, "announce_tasks": len(announce), "announced": announced,
        "announce_s": announce_s,
    }


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.promises")
    parser.add_argument("--waybills", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = options_parse(parser, argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_promises", module="benchmarks.promises", smoke=args.smoke)
    print(f"database: {database_name(url)} (private to this benchmark)", flush=True)
    with bench_database(url, smoke=args.smoke):
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
               "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "false", "YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT": "false",
               "LOG_LEVEL": "WARNING"}
        proc = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "benchmarks.promises", "--child", str(args.waybills), str(args.rounds)],
            cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
        )
        lines = proc.stdout.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        figures = json.loads(lines[-1])
    return {"database": database_name(url), **figures}


if __name__ == "__main__":
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        print(json.dumps(child(int(sys.argv[at + 1]), int(sys.argv[at + 2]))))
    else:
        main(sys.argv[1:])
