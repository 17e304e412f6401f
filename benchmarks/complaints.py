"""Complaint → claim latency: from the buyer's complaint POST to the claim in the carrier API.

`make bench` (or `python -m benchmarks.run complaints`) runs, on the real services:

1. a private database `<name>_bench_complaints` next to DATABASE_URL's, migrated and seeded
   with one carrier (token, tariff), and RATE×SECONDS Yinzunda orders whose waybills were
   scanned "delivered to station"; each simulated buyer has already proved its order (a
   session and a CSRF cookie made in the seed, so the timed part is the complaint alone);
2. gunicorn serving the portal on a free port, and real Celery workers, on a throwaway
   redis-server of the bench's own (the shared Redis is never touched);
3. one complaint POST (multipart, as the browser sends it) every 1/RATE s for SECONDS s,
   each from its own thread, while one poller reads GET /api/v1/carrier/claims
   (`updated_since`, keyset pages) every POLL_MS and notes when each claim first appears;

and prints p50/p90/p99/max of POST-start → first seen in the API, plus the server-side part
(claim.opened_at − complaint.created_at). Options: --seconds 60 --rate 20 --web-workers 3
--worker-concurrency 4 --poll-ms 100 --warmup 60
(through `make bench BENCH_ARGS="complaints --seconds=10"`). --smoke posts 6 complaints in
2 s after 2 warm-up ones, in `<name>_bench_complaints_smoke` (dropped afterwards).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlparse

from benchmarks import routing_drain
from benchmarks._support import (
    ROOT,
    Processes,
    bench_database,
    bench_database_url,
    connect,
    database_name,
    free_port,
    options_parse,
    percentile,
    redis_server,
    wait_port,
)

CARRIER_CODE = "BENCHCMP"
WAYBILL_PREFIX = "BC"
BOUNDARY = "----yinzundabench"
OVERLAP = timedelta(seconds=2)
SMOKE = {"seconds": 2, "rate": 3, "warmup": 2, "web_workers": 1, "worker_concurrency": 1, "settle_seconds": 0, "drain": 5}


def _env(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CARRIER_THROTTLE_RATE": "10000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "YINZUNDA_AUTO_CLAIM_ON_TRACKING": "false",
    })
    return env


def seed(count: int) -> None:
    """Child process on the bench database: `count` fresh proven buyers, one carrier token."""
    import django

    django.setup()
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from carriers.choices import ComplaintType
    from carriers.models import Carrier, Tariff, TariffPayout
    from carriers.services import carrier_token_create
    from claims.buyer.views import PROOFS_SESSION_KEY
    from orders.models import LedgerEntry, Merchant, Order, YinzundaPurchase
    from waybills.models import TrackingEvent, Waybill, WaybillSequence
    from waybills.services.issue import waybill_numbers_allocate

    carrier, _ = Carrier.objects.get_or_create(
        code=CARRIER_CODE, defaults={"name": "基准快递", "waybill_prefix": WAYBILL_PREFIX, "is_partner": True}
    )
    tariff, created = Tariff.objects.get_or_create(
        carrier=carrier, version=1,
        defaults={"effective_from": timezone.now() - timedelta(days=30), "fee_per_order": Decimal("0.80")},
    )
    if created:
        TariffPayout.objects.bulk_create(
            [TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00")) for t in ComplaintType.values]
        )
    WaybillSequence.objects.get_or_create(carrier=carrier)
    merchant, _ = Merchant.objects.get_or_create(code="bench-complaints", defaults={"name": "基准店铺"})
    run = uuid.uuid4().hex[:8].upper()
    now = timezone.now()
    orders = Order.objects.bulk_create([
        Order(merchant=merchant, order_number=f"BC{run}{n:06d}", recipient_name="张三",
              recipient_phone=f"139{n:08d}", recipient_address="浙江省杭州市西湖区文三路 100 号", amount=Decimal("99.00"))
        for n in range(count)
    ])
    numbers = waybill_numbers_allocate(carrier=carrier, count=count)
    delivered_at = now - timedelta(hours=2)
    waybills = Waybill.objects.bulk_create([
        # issued before its scans, as ingestion requires (a scan older than its waybill is refused)
        Waybill(number=number, carrier=carrier, order=order, service_codes=[settings.YINZUNDA_SERVICE_CODE],
                created_at=delivered_at - timedelta(days=2), status="delivered", status_at=delivered_at, delivery_method="station", delivered_at=delivered_at)
        for number, order in zip(numbers, orders, strict=True)
    ])
    TrackingEvent.objects.bulk_create([
        TrackingEvent(carrier=carrier, waybill=w, event_id=f"BENCH-{w.number}", code="DELIVERED",
                      occurred_at=delivered_at, delivery_method="station", location="文三路驿站")
        for w in waybills
    ])
    purchases = YinzundaPurchase.objects.bulk_create([
        YinzundaPurchase(order=o, merchant=merchant, tariff=tariff, fee=tariff.fee_per_order) for o in orders
    ])
    LedgerEntry.objects.bulk_create([
        LedgerEntry(merchant=merchant, kind="fee", amount=-p.fee, purchase=p, memo="bench") for p in purchases
    ])
    buyers = []
    for order, waybill in zip(orders, waybills, strict=True):
        session = SessionStore()
        session[PROOFS_SESSION_KEY] = {str(order.pk): time.time() + 3600}
        session.create()
        buyers.append({"session": session.session_key, "csrf": secrets.token_hex(16), "waybill": waybill.number})
    carrier.tokens.all().delete()
    _, raw = carrier_token_create(carrier=carrier, name="bench")
    print(json.dumps({"token": raw, "buyers": buyers}))


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def _post_complaint(port: int, buyer: dict) -> int:
    body = _multipart({
        "csrfmiddlewaretoken": buyer["csrf"], "complaint_type": "locker_without_consent",
        "description": "快递员没有送货上门，直接放在驿站。", "submission_token": str(uuid.uuid4()),
    })
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/complaint/new/", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Cookie": f"sessionid={buyer['session']}; csrftoken={buyer['csrf']}",
        "Referer": f"http://127.0.0.1:{port}/complaint/new/",
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    })
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def _warm_up(port: int, warmup: list[dict], redis_url: str) -> None:
    """Untimed complaints at a low rate, then wait for the broker queue to drain."""
    import redis

    print(f"warming up with {len(warmup)} untimed complaints…", flush=True)
    for buyer in warmup:
        _post_complaint(port, buyer)
        time.sleep(0.05)
    queue = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (queue.llen("urgent") or queue.llen("celery")):
        time.sleep(0.2)
    time.sleep(1)


class Poller(threading.Thread):
    """Reads the carrier's claims list, as an integration would, noting when each appears."""

    def __init__(self, port: int, token: str, since: datetime, interval: float) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.interval = port, token, interval
        self.since = since
        self.first_seen: dict[str, float] = {}
        self.stop = threading.Event()
        self.requests = 0

    def _get(self, conn: http.client.HTTPConnection, path: str) -> dict:
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        response = conn.getresponse()
        payload = response.read()
        self.requests += 1
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        return json.loads(payload)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            # Claims commit out of updated_at order (updated_at is set before the routing
            # transaction commits), so each poll re-reads an overlap and dedupes.
            since = (self.since - OVERLAP).isoformat()
            path = f"/api/v1/carrier/claims?page_size=200&updated_since={quote(since)}"
            while path:
                page = self._get(conn, path)
                seen_at = time.monotonic()
                for claim in page["results"]:
                    self.first_seen.setdefault(claim["waybill_number"], seen_at)
                    self.since = max(self.since, datetime.fromisoformat(claim["updated_at"]))
                cursor = page.get("next_cursor")
                path = f"/api/v1/carrier/claims?page_size=200&cursor={quote(cursor)}" if cursor else None
            self.stop.wait(self.interval)
        conn.close()


def _server_side(database_url: str, waybills: list[str]) -> list[float]:
    conn = connect(database_url)
    with conn.cursor() as cursor:
        cursor.execute(
            """SELECT EXTRACT(EPOCH FROM c.opened_at - p.created_at) FROM claims_claim c
               JOIN claims_complaint p ON p.id = c.complaint_id JOIN waybills_waybill w ON w.id = c.waybill_id
               WHERE w.number = ANY(%s)""",
            [waybills],
        )
        rows = [float(r[0]) for r in cursor.fetchall()]
    conn.close()
    return rows


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="benchmarks.complaints")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20, help="complaints per second")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--worker-concurrency", type=int, default=4, help="urgent worker processes, as deployed")
    parser.add_argument("--poll-ms", type=float, default=100)
    parser.add_argument("--worker-log-level", default="warning")
    parser.add_argument("--warmup", type=int, default=60,
                        help="untimed complaints first: worker and web processes import, connect, fill caches")
    parser.add_argument("--settle-seconds", type=float, default=3, help="after start: let the worker connect")
    parser.add_argument("--drain", type=int, default=300,
                        help="first, a backlog this size routed by one worker process (routed/s, CPU per complaint)")
    args = options_parse(parser, argv, smoke=SMOKE)
    database_url = bench_database_url(suffix="_bench_complaints", module="benchmarks.complaints", smoke=args.smoke)
    with bench_database(database_url, smoke=args.smoke):
        with Processes() as processes:
            run = _load(args, database_url, processes)
        return _summary(args, database_url, run, processes.pids)


def _load(args: argparse.Namespace, database_url: str, processes: Processes) -> dict:
    """Seed, start gunicorn and a worker, post the complaints while polling the carrier API."""
    total = int(args.seconds * args.rate)
    seeded_count = total + args.warmup + args.drain
    # A private redis-server: two checkouts' workers never take each other's tasks, and the
    # shared Redis is left as it was.
    redis_url = redis_server(processes)
    env = _env(database_url, redis_url)
    python = sys.executable
    print(f"database {database_name(database_url)}, redis {urlparse(redis_url).netloc}{urlparse(redis_url).path}; "
          f"seeding {seeded_count} buyers…", flush=True)
    seeded = subprocess.run(  # noqa: S603
        [python, "-c", f"import benchmarks.complaints as b; b.seed({seeded_count})"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    world = json.loads(seeded.stdout.strip().splitlines()[-1])
    drain, world["buyers"] = world["buyers"][:args.drain], world["buyers"][args.drain:]
    warmup, buyers, token = world["buyers"][:args.warmup], world["buyers"][args.warmup:], world["token"]

    logs = Path(os.environ.get("BENCH_LOG_DIR") or tempfile.gettempdir())
    throughput = routing_drain.measure(numbers=[b["waybill"] for b in drain], database_url=database_url, env=env,
                                       processes=processes, logs=logs)
    port = free_port()
    web = processes.start(
        [str(Path(python).parent / "gunicorn"), "yinzunda.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(args.web_workers), "--threads", "4", "--log-level", "warning"],
        env=env, log=logs / "bench-complaints-web.log",
    )
    # As deployed: one worker for the urgent queue (routing), one for the rest (e-mails, webhooks).
    for queue, concurrency in (("urgent", args.worker_concurrency), ("celery", 1)):
        processes.start(
            [str(Path(python).parent / "celery"), "-A", "yinzunda", "worker", "-l", args.worker_log_level, "-Q", queue,
             "--concurrency", str(concurrency), "-n", f"bench-complaints-{queue}-{port}@%h",
             "--without-mingle", "--without-gossip"],
            env=env, log=logs / f"bench-complaints-worker-{queue}.log",
        )
    wait_port(port, web)
    time.sleep(args.settle_seconds)
    _warm_up(port, warmup, redis_url)

    poller = Poller(port, token, datetime.now(UTC), args.poll_ms / 1000)
    poller.start()
    started: dict[str, float] = {}
    statuses: list[int] = []
    answered: list[float] = []
    lock = threading.Lock()

    def fire(buyer: dict) -> None:
        t0 = time.monotonic()
        status = _post_complaint(port, buyer)
        with lock:
            started[buyer["waybill"]] = t0
            answered.append(time.monotonic() - t0)
            statuses.append(status)

    load_before = os.getloadavg()[0]
    print(f"posting {total} complaints at {args.rate}/s for {args.seconds:g}s…", flush=True)
    threads = []
    origin = time.monotonic()
    for i, buyer in enumerate(buyers):
        delay = origin + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=fire, args=(buyer,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(w not in poller.first_seen for w in started):
        time.sleep(0.1)
    poller.stop.set()
    poller.join(10)
    return {"started": started, "statuses": statuses, "answered": answered, "poller": poller,
            "load_before": load_before, "throughput": throughput}


def _summary(args: argparse.Namespace, database_url: str, run: dict, pids: list[int]) -> dict:
    started, poller, answered = run["started"], run["poller"], run["answered"]
    latencies = [poller.first_seen[w] - t0 for w, t0 in started.items() if w in poller.first_seen]
    missing = len(started) - len(latencies)
    bad = sum(1 for s in run["statuses"] if s != 302)
    server = _server_side(database_url, list(started))
    print(f"complaints posted: {len(started)} (non-302 answers: {bad}); claims seen in API: {len(latencies)}; missing: {missing}")
    print(f"API polls: {poller.requests} (every {args.poll_ms:g} ms); load average {run['load_before']:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (2 cores shared with other work)")
    figures = {**run.get("throughput", {}), "database": database_name(database_url), "posted": len(started), "non_302": bad, "seen_in_api": len(latencies), "missing": missing,
               "claims_opened": len(server), "api_polls": poller.requests, "pids": pids}
    if latencies:
        ms = [v * 1000 for v in latencies]
        figures.update(p50_ms=percentile(ms, 0.50), p99_ms=percentile(ms, 0.99), max_ms=max(ms))
        print(
            f"POST → claim in carrier API: p50 {percentile(ms, 0.50):.0f} ms, p90 {percentile(ms, 0.90):.0f} ms, "
            f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms, mean {statistics.mean(ms):.0f} ms"
        )
    if answered:
        ms = [v * 1000 for v in answered]
        print(f"complaint POST answered (302): p50 {percentile(ms, 0.50):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms")
    if server:
        ms = [v * 1000 for v in server]
        print(f"server side (complaint stored → claim opened): p50 {percentile(ms, 0.50):.0f} ms, "
              f"p99 {percentile(ms, 0.99):.0f} ms")
    goal = latencies and percentile(latencies, 0.99) < 1.0 and not missing and not bad
    print("goal p99 < 1 s:", "met" if goal else "NOT met")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
