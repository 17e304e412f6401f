"""A festival hour replayed on a grown events table (issue 15): events/s against COPY, claim latency,
partitions, and nothing lost or doubled — in one run.

`make bench BENCH_ARGS=festival` runs, on the real PostgreSQL:

1. a private database `<name>_bench_festival`, migrated; three partner carriers and 20 merchants;
   PREFILL stored events (default 50,000,000: 5 M delivered parcels of 10 scans over 30 days,
   3 % of them 音尊达, written server-side, benchmarks/festival_data.py). The build is timed
   and kept: a later run reuses it unless `--rebuild`, the size asked for differs, or a
   migration is pending (the schema changed: it is rebuilt, never converted);
2. the hour's parcels (benchmarks/festival_stream.py): scans of HOUR_EVENTS events (default
   300,000) over the three carriers — journeys, station and locker drops, return pickups
   scheduled and missed, ~3 % 音尊达 parcels with their purchases, earlier scans and consents —
   each parcel's verdict known beforehand;
3. a throwaway redis-server, gunicorn (WORKERS sync workers) and one Celery worker on the
   urgent queue (`--pool solo`, as deployed), which runs the promise watcher after each batch;
4. ROUNDS rounds of (a slice of the hour POSTed to /api/v1/carrier/events by CONCURRENCY
   client threads, each carrier with its own token; then the same rows COPYed, one COPY and
   commit per batch, onto twin parcels the watcher never judges), back to back, so a
   neighbour's burst on this shared machine hits both sides of a round alike;
5. replays of already-stored batches (nothing stored), then the wait until the worker has
   run every watcher task.

It reports events/s through the API and by COPY (medians), the CPU each side spent per 1,000
events (gunicorn's workers, the watcher's worker, the bench database's sessions, from /proc) and
the WAL it wrote, claim latency p50/p99 (the batch's
HTTP answer → the claim's `opened_at`), the events table's partitions and their sizes
(pg_partition_tree; one "partition" while the table is not partitioned), the database's size,
and — at the end, gunicorn and the worker stopped — what each index and foreign key costs an
insert (benchmarks/festival_costs.py). It fails loudly unless every accepted event is stored
exactly once, every expected breach has exactly one claim and no other parcel has one, and
every waybill ends at its latest scan. Options: --prefill N --hour-events N --batch-size N
--rounds N --concurrency N --workers N --costs-batches N --costs-repeats N --rebuild; --server deployment runs
on a private PostgreSQL server with docker-compose.yml's settings instead of DATABASE_URL's (the shared
development server runs PostgreSQL's defaults; benchmarks/pg_cluster.py); --costs-only runs
the index-cost probe alone on the kept prefill; --smoke: 20,000 prefilled
events, an hour of 3,000 in batches of 200, in `<name>_bench_festival_smoke`, dropped afterwards.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import festival_checks, festival_costs
from benchmarks._support import (
    ROOT,
    Processes,
    bench_database,
    bench_database_url,
    connect,
    copy_line,
    database_drop,
    database_name,
    events_post_all,
    free_port,
    options_parse,
    redis_server,
    wait_port,
)
from benchmarks.events_probes import Probe, cpu_seconds, events_copy, group
from benchmarks.festival_data import prefill, prefilled
from benchmarks.pg_cluster import deployment_server

SMOKE = {"prefill": 20_000, "hour_events": 3000, "batch_size": 200, "rounds": 1, "workers": 1,
         "costs_batches": 2, "costs_repeats": 1}
REPLAYED = 5  # batches posted twice: the second time stores nothing
WAIT_SECONDS = 900


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks.festival")
    parser.add_argument("--prefill", type=int, default=50_000_000, help="events stored before the hour")
    parser.add_argument("--hour-events", type=int, default=300_000, help="events of the replayed hour")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--costs-batches", type=int, default=10, help="batches per variant of the index-cost probe")
    parser.add_argument("--costs-repeats", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="drop the kept prefill and build it again")
    parser.add_argument("--costs-only", action="store_true", help="only the index-cost probe (no servers, no hour)")
    parser.add_argument("--server", choices=("shared", "deployment"), default="shared",
                        help="shared: DATABASE_URL's server; deployment: a private server with docker-compose.yml's "
                             "PostgreSQL settings (benchmarks/pg_cluster.py), its data kept in BENCH_PG_DIR")
    return parser


def _env(url: str, redis_url: str) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base", "DATABASE_URL": url,
            "REDIS_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "false", "CARRIER_THROTTLE_RATE": "10000000/min",
            "DEBUG": "false", "LOG_LEVEL": "WARNING"}


def _cpu(pid: int) -> float:
    """CPU seconds of a process group (the server or worker we started, with its children)."""
    return sum(max(0.0, cpu_seconds(member)) for member in group(pid))


def _cpu_line(cost: dict) -> str:
    total = cost["web_cpu_ms"] + cost["watcher_cpu_ms"] + cost["db_cpu_ms"]
    return (f"web {cost['web_cpu_ms']:.1f} ms, watcher worker {cost['watcher_cpu_ms']:.1f} ms, database sessions "
            f"{cost['db_cpu_ms']:.1f} ms (together {total:.1f} ms), WAL {cost['wal_kib']:,.0f} KiB")


def _child(code: str, env: dict) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)  # noqa: S603 - our own modules


def _keep_or_drop(url: str, args: argparse.Namespace) -> None:
    """Drop the bench database unless it holds a finished prefill of the size asked for, on the current schema."""
    if args.smoke or args.rebuild:
        database_drop(url)
        return
    try:
        kept = prefilled(url)
    except Exception:  # noqa: BLE001 - no such database yet: nothing to keep
        return
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base"}
    pending = subprocess.run([sys.executable, "manage.py", "migrate", "--check", "-v", "0"],  # noqa: S603
                             cwd=ROOT, env=env, capture_output=True).returncode != 0
    if kept and kept["events"] == args.prefill and not pending:
        return
    why = "a migration is pending" if kept and pending else "no finished prefill" if not kept else \
        f"it holds {kept['events']:,} events"
    print(f"rebuilding {database_name(url)}: {why}", flush=True)
    database_drop(url)


def main(argv: list[str]) -> dict:
    args = options_parse(_parser(), argv, smoke=SMOKE)
    url = bench_database_url(suffix="_bench_festival", module="benchmarks.festival", smoke=args.smoke)
    with contextlib.ExitStack() as stack:
        if args.server == "deployment":
            url = stack.enter_context(deployment_server(url))
        print(f"database: {database_name(url)} (private to this benchmark)", flush=True)
        _keep_or_drop(url, args)
        with bench_database(url, smoke=args.smoke), Processes() as processes:
            figures = _run(args, url, processes)
            figures["server"] = args.server
            return figures


def _run(args: argparse.Namespace, url: str, processes: Processes) -> dict:
    quiet = {**_env(url, ""), "REDIS_URL": ""}
    _child("import benchmarks.festival_data as d; d.reference_seed()", quiet)
    built = prefilled(url)
    if built is None:
        built = prefill(url, args.prefill)
    else:
        print(f"prefill: reusing {built['events']:,} events of {built['parcels']:,} parcels "
              f"(built {built['built_at']} in {built['seconds']:.0f} s)", flush=True)
    size_before = festival_checks.database_size(url)

    run, now = uuid.uuid4().hex[:6], datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hour.json"
        events = args.costs_batches * args.batch_size if args.costs_only else args.hour_events
        _child(f"import benchmarks.festival_stream as s; s.world({run!r}, {events}, {args.batch_size}, "
               f"{now.isoformat()!r}, {str(out)!r})", quiet)
        hour = json.loads(out.read_text())
    batches: list[tuple[str, list[dict]]] = hour["batches"]
    twins = {wid: twin for wid, twin, _, _, _ in hour["parcels"]}
    numbers = {number: wid for wid, _, _, _, number in hour["parcels"]}
    if args.costs_only:
        costs = festival_costs.measure(url, _cost_batches(hour, twins, numbers, args), repeats=args.costs_repeats)
        return {"database": database_name(url), "prefill": built, "costs": costs, "load": os.getloadavg()}
    expected = {int(k): v for k, v in hour["expected"].items()}
    mix = hour["mix"]
    print(f"the hour: {sum(len(e) for _, e in batches):,} events in {len(batches)} batches of up to {args.batch_size} "
          f"over {len(hour['tokens'])} carriers; {len(hour['parcels']):,} parcels, "
          f"{sum(n for s, n in mix.items() if s.startswith('premium')):,} of them 音尊达; {len(expected):,} breaches "
          f"expected", flush=True)

    redis_url = redis_server(processes)
    env = _env(url, redis_url)
    logs = Path(os.environ.get("BENCH_LOG_DIR") or tempfile.gettempdir())
    port = free_port()
    server = processes.start(
        [sys.executable, "-m", "gunicorn", "yinzunda.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"],
        env=env, log=logs / "bench-festival-gunicorn.log",
    )
    worker_log = logs / "bench-festival-worker.log"
    worker = processes.start(
        [str(Path(sys.executable).parent / "celery"), "-A", "yinzunda", "worker", "-l", "info", "-Q", "urgent",
         "--pool", "solo", "-n", f"bench-festival-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        env=env, log=worker_log,
    )
    wait_port(port, server)
    deadline = time.monotonic() + 60
    while "ready." not in worker_log.read_text() and time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit("the Celery worker exited early:\n" + worker_log.read_text()[-2000:])
        time.sleep(0.2)

    for token in hour["tokens"].values():  # warm-up: each gunicorn worker loads the app on its first request
        for _ in range(2 * args.workers):
            _get(port, token, "/api/v1/carrier/claims")
    load_before = os.getloadavg()
    bodies = [(hour["tokens"][code], json.dumps({"events": events}, ensure_ascii=False).encode())
              for code, events in batches]
    answered: list[float] = [0.0] * len(bodies)
    rounds = []
    cpu: list[dict] = []
    per_round = -(-len(bodies) // args.rounds)
    for number in range(args.rounds):
        lo, hi = number * per_round, min(len(bodies), (number + 1) * per_round)
        if lo >= hi:
            break
        events = sum(len(batches[k][1]) for k in range(lo, hi))
        probe, watcher_before = Probe(url, server.pid), _cpu(worker.pid)
        elapsed, accepted = _post_all(port, bodies, range(lo, hi), args.concurrency, answered)
        api_cpu = {**probe.done(events), "watcher_cpu_ms": (_cpu(worker.pid) - watcher_before) * 1e6 / events}
        if accepted != events:
            sys.exit(f"round {number + 1}: the API accepted {accepted} of {events} events: benchmark invalid")
        probe = Probe(url, None)
        copy_elapsed, copy_session = _copy(url, hour["carrier_ids"], numbers, twins, batches[lo:hi], run)
        copy_cpu = {**probe.done(events), "db_cpu_ms": copy_session * 1e6 / events}
        rounds.append((events / elapsed, events / copy_elapsed))
        cpu.append({"api": api_cpu, "copy": copy_cpu})
        print(f"round {number + 1}: API {events / elapsed:,.0f} events/s ({hi - lo} batches), COPY "
              f"{events / copy_elapsed:,.0f} rows/s, ratio {events / elapsed / (events / copy_elapsed):.2f}; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"  CPU per 1,000 events: {_cpu_line(api_cpu)}; COPY: database sessions "
              f"{copy_cpu['db_cpu_ms']:.1f} ms, WAL {copy_cpu['wal_kib']:,.0f} KiB", flush=True)
    _, replay_accepted = _post_all(port, bodies, range(min(REPLAYED, len(bodies))), args.concurrency, [0.0] * len(bodies))
    drained = _wait_for_watcher(url, len(expected))
    time.sleep(1)  # a task still running would open claims beyond the breaches: count after a pause
    load_after = os.getloadavg()
    processes.stop()

    checks = festival_checks.checks(url, run, hour, expected, numbers, replay_accepted)
    latency = festival_checks.latency(url, run, hour, numbers, answered)
    partitions = festival_checks.partitions(url)
    costs = festival_costs.measure(url, _cost_batches(hour, twins, numbers, args), repeats=args.costs_repeats)
    size_after = festival_checks.database_size(url)
    api = statistics.median(r[0] for r in rounds)
    copy = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    stored = festival_checks.stored_total(url)
    print(f"API   : {api:,.0f} events/s (median of {len(rounds)} rounds; {args.workers} gunicorn workers, "
          f"{args.concurrency} requests in flight, the watcher's worker running)")
    print(f"COPY  : {copy:,.0f} rows/s (median; one COPY and commit per batch, one connection)")
    print(f"ratio : API / COPY = {ratio:.2f} (median; rounds {', '.join(f'{r[0] / r[1]:.2f}' for r in rounds)})"
          "   goal ≥ 0.30")
    cpu_median = {side: {key: statistics.median(c[side][key] for c in cpu) for key in cpu[0][side]} for side in cpu[0]}
    print(f"CPU   : per 1,000 events (medians) API {_cpu_line(cpu_median['api'])}; COPY: database sessions "
          f"{cpu_median['copy']['db_cpu_ms']:.1f} ms, WAL {cpu_median['copy']['wal_kib']:,.0f} KiB")
    if latency["claims"]:
        print(f"claims: {latency['claims']:,} opened by the watcher; latency (batch answered → claim opened) p50 "
              f"{latency['p50_ms']:,.0f} ms, p99 {latency['p99_ms']:,.0f} ms, max {latency['max_ms']:,.0f} ms; "
              f"the worker drained its backlog {drained:.1f} s after the last batch")
    print(f"stored: ≈{stored:,} events in the table ({built['events']:,} prefilled); "
          f"{len(partitions)} partition{'s' if len(partitions) != 1 else ''}: "
          + ", ".join(f"{p['name']} {p['bytes'] / 2**20:,.0f} MiB" for p in partitions[:8])
          + (f" … ({len(partitions) - 8} more)" if len(partitions) > 8 else ""))
    print(f"disk  : database {size_after / 2**30:,.2f} GiB (before the hour {size_before / 2**30:,.2f} GiB)")
    print(f"checks: every accepted event stored once, replays stored nothing, one claim per breach and no other, "
          f"every waybill at its latest scan: {'ok' if checks['ok'] else 'FAILED'}; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after the hour", flush=True)
    figures = {
        "database": database_name(url), "prefill": built, "hour_events": sum(len(e) for _, e in batches),
        "batches": len(batches), "parcels": len(hour["parcels"]), "mix": mix, "breaches": len(expected),
        "rounds": rounds, "cpu": cpu, "cpu_median": cpu_median, "api_events_per_s": api, "copy_rows_per_s": copy, "ratio": ratio,
        "latency": latency, "drained_s": drained, "partitions": partitions, "database_bytes": size_after,
        "database_bytes_before": size_before, "stored": stored, "checks": checks, "costs": costs,
        "load": {"before": load_before, "after": load_after}, "pids": processes.pids,
    }
    if not checks["ok"]:
        sys.exit("festival bench FAILED: " + "; ".join(checks["failures"]))
    return figures


def _get(port: int, token: str, path: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")


def _post_all(port: int, bodies: list[tuple[str, bytes]], indexes: range, concurrency: int,
              answered: list[float]) -> tuple[float, int]:
    """POST the batches `indexes` with `concurrency` threads; (seconds, events accepted). Records
    when each batch was answered (wall clock, comparable with the database's timestamps)."""
    chosen = list(indexes)

    def on_answer(position: int, result: dict) -> None:
        answered[chosen[position]] = time.time()
        if result["rejected"]:
            raise RuntimeError(f"batch {chosen[position]} had rejections: {result['rejected'][:3]}")

    return events_post_all(port, [bodies[k] for k in chosen], concurrency, on_answer)


def _copy(url: str, carrier_ids: dict[str, int], numbers: dict[str, int], twins: dict[int, int],
          batches: list[tuple[str, list[dict]]], run: str) -> tuple[float, float]:
    """COPY the batches' rows (fresh event ids) onto the twin parcels, one COPY and commit per batch;
    (seconds, CPU seconds of its database session)."""
    received = datetime.now(UTC).isoformat()
    buffers = []
    for code, events in batches:
        carrier = carrier_ids[code]
        lines = [copy_line([carrier, twins[numbers[e["waybill_number"]]], "FC" + e["event_id"][2:], e["code"],
                            e["occurred_at"], e.get("location", ""), e.get("delivery_method", ""),
                            e.get("proof_type", ""), e.get("proof_url", ""), e.get("note", ""), received])
                 for e in events]
        buffers.append("".join(lines).encode())
    return events_copy(url, buffers)


def _wait_for_watcher(url: str, breaches: int) -> float:
    """Until every watcher task is done (webhooks and e-mails wait for the other queue's worker, not
    started here); seconds it took after the last batch."""
    started = time.monotonic()
    conn = connect(url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        while time.monotonic() - started < WAIT_SECONDS:
            cursor.execute("SELECT count(*) FROM yinzunda_outboxmessage WHERE done_at IS NULL AND queue = 'urgent'")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.2)
        else:
            conn.close()
            sys.exit(f"the watcher did not drain its backlog in {WAIT_SECONDS} s ({breaches} breaches expected)")
    conn.close()
    return time.monotonic() - started


def _cost_batches(hour: dict, twins: dict[int, int], numbers: dict[str, int],
                  args: argparse.Namespace) -> list[list[dict]]:
    """Rows for the index-cost probe: the hour's first batches again, on the twins, with fresh ids."""
    carriers = hour["carrier_ids"]
    out = []
    for code, events in hour["batches"][:args.costs_batches]:
        out.append([{"carrier_id": carriers[code], "waybill_id": twins[numbers[e["waybill_number"]]],
                     "event_id": "FX" + e["event_id"][2:], "code": e["code"], "occurred_at": e["occurred_at"],
                     "location": e.get("location", ""), "delivery_method": e.get("delivery_method", ""),
                     "proof_type": e.get("proof_type", ""), "proof_url": e.get("proof_url", ""),
                     "note": e.get("note", "")} for e in events])
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
