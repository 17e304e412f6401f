"""Merchant dashboard with a million orders: builds the data once in `yz_bench_dash`, then times pages.

`make bench BENCH_ARGS=dashboard` (or `python -m benchmarks.dashboard`). Options:
  --orders N     orders of the bench merchant (default 1,000,000)
  --requests N   timed requests per page (default 20)
  --rebuild      drop and rebuild the bench data

The measurement runs in a child process pointed at the bench database, so it never touches
the development database and works whatever Django settings the runner process loaded.
Data is loaded with COPY in chunks; on 2 cores a million orders take a few minutes, and a
database already holding them is reused.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse, urlunparse

BENCH_DB = "yz_bench_dash"
BENCH_MERCHANT = "bench-dash"
BENCH_USER = "bench-dash-user"
GOAL_MS = 300.0
CHUNK = 100_000


def _bench_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yinzunda")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        parsed = urlparse("postgres://postgres@127.0.0.1:5432/yinzunda")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def _ensure_database(url: str) -> None:
    import psycopg2

    parsed = urlparse(url)
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()


def main(argv: list[str]) -> None:
    """Entry point of `benchmarks.run`: re-run this module in a child bound to the bench database."""
    url = _bench_url()
    _ensure_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
        "DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # local-memory cache and eager tasks: the bench measures the pages
    command = [sys.executable, "-m", "benchmarks.dashboard", "--child", *argv]
    subprocess.run(command, env=env, check=True)  # noqa: S603 - our own module


# --- child: build -------------------------------------------------------------------------------


def _option(argv: list[str], name: str, default: int) -> int:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return int(arg.split("=", 1)[1])
    if f"--{name}" in argv:
        return int(argv[argv.index(f"--{name}") + 1])
    return default


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    """COPY rows (tuples of already-formatted text) into a table, CHUNK rows at a time."""
    count = 0
    buffer = io.StringIO()
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
        count += 1
        if count % CHUNK == 0:
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
            buffer = io.StringIO()
    if buffer.tell():
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
    return count


def _build(n_orders: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from carriers.models import Carrier, Tariff, TariffPayout
    from claims.choices import ComplaintType
    from claims.models import Settlement
    from orders.models import Merchant, MerchantMember
    from waybills.numbers import format_waybill_number

    now = timezone.now()
    started = time.perf_counter()
    carriers = []
    for code, name, prefix, partner in [
        ("BZTO", "中通快递", "BZ", True),
        ("BYTO", "圆通速递", "BY", True),
        ("BYUNDA", "韵达快递", "BD", True),
        ("BJT", "极兔速递", "BJ", False),
    ]:
        carrier, _ = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "waybill_prefix": prefix, "is_partner": partner}
        )
        tariff, created = Tariff.objects.get_or_create(
            carrier=carrier,
            version=1,
            defaults={
                "effective_from": now - timedelta(days=800),
                "fee_per_order": Decimal("0.80"),
            },
        )
        if created:
            TariffPayout.objects.bulk_create(
                [
                    TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00"))
                    for t in ComplaintType.values
                ]
            )
        carriers.append((carrier, tariff))
    merchant, _ = Merchant.objects.get_or_create(code=BENCH_MERCHANT, defaults={"name": "压测店铺"})
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    MerchantMember.objects.get_or_create(user=user, defaults={"merchant": merchant})

    span = timedelta(days=365)
    step = span / n_orders
    methods = ["door"] * 7 + ["station"] * 2 + ["locker"]

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        order_base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM waybills_waybill")
        waybill_base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_yinzundapurchase")
        purchase_base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM claims_complaint")
        complaint_base = cur.fetchone()[0] + 1

        def created_at(i: int):
            return now - step * i  # i = 0 is the newest

        def orders():
            for i in range(n_orders):
                yield (
                    order_base + i,
                    merchant.pk,
                    f"BD{order_base + i:012d}",
                    "张三",
                    f"139{i % 100_000_000:08d}",
                    "浙江省杭州市西湖区文三路 100 号",
                    "99.00",
                    created_at(i).isoformat(),
                )

        with transaction.atomic():
            n = _copy(
                cur,
                "orders_order",
                [
                    "id",
                    "merchant_id",
                    "order_number",
                    "recipient_name",
                    "recipient_phone",
                    "recipient_address",
                    "amount",
                    "created_at",
                ],
                orders(),
            )
            print(f"  orders: {n} in {time.perf_counter() - started:.0f}s", flush=True)

            def waybills():
                for i in range(n_orders):
                    if i % 50 == 49:
                        continue  # 2% not shipped yet
                    carrier, _ = carriers[i % len(carriers)]
                    at = created_at(i)
                    age = now - at
                    if age > timedelta(days=4):
                        method = methods[i % len(methods)]
                        status, delivered = "delivered", (at + timedelta(days=3)).isoformat()
                    else:
                        method, status, delivered = (
                            "",
                            ["created", "picked_up", "in_transit", "out_for_delivery"][i % 4],
                            None,
                        )
                    services = (
                        '["SVC-WBHOMEDELIVERY"]' if i % 33 == 0 and carrier.is_partner else "[]"
                    )
                    yield (
                        waybill_base + i,
                        format_waybill_number(carrier.waybill_prefix, waybill_base + i),
                        carrier.pk,
                        order_base + i,
                        "t",
                        services,
                        status,
                        delivered,
                        method,
                        delivered,
                        at.isoformat(),
                    )

            n = _copy(
                cur,
                "waybills_waybill",
                [
                    "id",
                    "number",
                    "carrier_id",
                    "order_id",
                    "is_platform_issued",
                    "service_codes",
                    "status",
                    "status_at",
                    "delivery_method",
                    "delivered_at",
                    "created_at",
                ],
                waybills(),
            )
            print(f"  waybills: {n} in {time.perf_counter() - started:.0f}s", flush=True)

            purchased = [
                i
                for i in range(0, n_orders, 33)
                if i % 50 != 49 and carriers[i % len(carriers)][0].is_partner
            ]

            def purchases():
                for k, i in enumerate(purchased):
                    _, tariff = carriers[i % len(carriers)]
                    yield (
                        purchase_base + k,
                        order_base + i,
                        merchant.pk,
                        tariff.pk,
                        "0.80",
                        "active",
                        created_at(i).isoformat(),
                        None,
                    )

            n = _copy(
                cur,
                "orders_yinzundapurchase",
                [
                    "id",
                    "order_id",
                    "merchant_id",
                    "tariff_id",
                    "fee",
                    "status",
                    "purchased_at",
                    "cancelled_at",
                ],
                purchases(),
            )

            def fees():
                for k, i in enumerate(purchased):
                    yield (
                        merchant.pk,
                        "fee",
                        "-0.80",
                        purchase_base + k,
                        "音尊达服务费",
                        created_at(i).isoformat(),
                    )

            _copy(
                cur,
                "orders_ledgerentry",
                ["merchant_id", "kind", "amount", "purchase_id", "memo", "created_at"],
                fees(),
            )
            print(f"  purchases + fees: {n} in {time.perf_counter() - started:.0f}s", flush=True)

            # Complaints on 1 in 5 Yinzunda orders older than 4 days; each opens a claim.
            complained = [i for i in purchased if created_at(i) < now - timedelta(days=4)][::5]

            def complaints():
                for k, i in enumerate(complained):
                    at = created_at(i) + timedelta(days=4)
                    yield (
                        complaint_base + k,
                        f"BT{complaint_base + k:010d}",
                        order_base + i,
                        waybill_base + i,
                        "not_to_door",
                        "",
                        "claim_opened",
                        "",
                        at.isoformat(),
                        at.isoformat(),
                    )

            _copy(
                cur,
                "claims_complaint",
                [
                    "id",
                    "reference",
                    "order_id",
                    "waybill_id",
                    "complaint_type",
                    "description",
                    "status",
                    "decision_reason",
                    "created_at",
                    "routed_at",
                ],
                complaints(),
            )

        # Settlements: one per carrier per 30 days, made with the ORM (a few dozen rows).
        settlements: dict[tuple[int, int], Settlement] = {}
        statuses = ["settled"] * 6 + ["accepted", "auto_accepted", "disputed", "dismissed", "open"]
        claim_rows, comp_rows = [], []
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM claims_claim")
        claim_base = cur.fetchone()[0] + 1
        for k, i in enumerate(complained):
            carrier, tariff = carriers[i % len(carriers)]
            opened = created_at(i) + timedelta(days=4)
            status = statuses[k % len(statuses)] if opened < now - timedelta(days=2) else "open"
            resolved = None if status in ("open", "disputed") else opened + timedelta(days=1)
            settlement_id = None
            if status == "settled":
                bucket = int((now - opened) / timedelta(days=30))
                key = (carrier.pk, bucket)
                if key not in settlements:
                    end = now - timedelta(days=30 * bucket) + timedelta(seconds=1)
                    settlements[key] = Settlement(
                        carrier=carrier,
                        reference=f"STB{carrier.code}{bucket:04d}",
                        period_start=end - timedelta(days=30),
                        period_end=end,
                        claim_count=0,
                        total_amount=Decimal("0"),
                        status="paid",
                        paid_at=end,
                        payment_reference=f"PAYB{bucket}",
                    )
                settlements[key].claim_count += 1
                settlements[key].total_amount += Decimal("5.00")
                settlement_id = key
            claim_rows.append(
                (
                    claim_base + k,
                    complaint_base + k,
                    "complaint",
                    waybill_base + i,
                    carrier.pk,
                    merchant.pk,
                    order_base + i,
                    "not_to_door",
                    tariff.pk,
                    "5.00",
                    status,
                    opened + timedelta(hours=48),
                    opened,
                    resolved or opened,
                    resolved,
                    settlement_id,
                )
            )
        with transaction.atomic():
            Settlement.objects.bulk_create(settlements.values())
            ids = {key: s.pk for key, s in settlements.items()}
            _copy(
                cur,
                "claims_claim",
                [
                    "id",
                    "complaint_id",
                    "trigger",
                    "waybill_id",
                    "carrier_id",
                    "merchant_id",
                    "order_id",
                    "complaint_type",
                    "tariff_id",
                    "amount",
                    "status",
                    "deadline_at",
                    "opened_at",
                    "updated_at",
                    "resolved_at",
                    "settlement_id",
                ],
                ((*row[:-1], ids.get(row[-1])) for row in claim_rows),
            )
            for row in claim_rows:
                if row[10] == "settled":
                    comp_rows.append(
                        (
                            merchant.pk,
                            "compensation",
                            "5.00",
                            row[0],
                            ids[row[-1]],
                            "索赔赔付",
                            row[14],
                        )
                    )
            _copy(
                cur,
                "orders_ledgerentry",
                [
                    "merchant_id",
                    "kind",
                    "amount",
                    "claim_id",
                    "settlement_id",
                    "memo",
                    "created_at",
                ],
                comp_rows,
            )
            _copy(
                cur,
                "claims_notification",
                ["merchant_id", "claim_id", "title", "body", "created_at"],
                (
                    (merchant.pk, row[0], f"索赔 #{row[0]} 状态更新", "", row[12])
                    for row in claim_rows[-300:]
                ),
            )
        for table in (
            "orders_order",
            "waybills_waybill",
            "orders_yinzundapurchase",
            "claims_complaint",
            "claims_claim",
            "orders_ledgerentry",
            "claims_notification",
            "claims_settlement",
        ):
            sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608 - fixed names
            cur.execute(sql)
        print(
            f"  claims: {len(claim_rows)}, settled: {len(comp_rows)}; built in {time.perf_counter() - started:.0f}s",
            flush=True,
        )
        cur.execute("ANALYZE")


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
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, len(samples)


def child(argv: list[str]) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from orders.models import Merchant, Order

    n_orders = _option(argv, "orders", 1_000_000)
    n_requests = _option(argv, "requests", 20)
    call_command("migrate", verbosity=0, interactive=False)
    merchant = Merchant.objects.filter(code=BENCH_MERCHANT).first()
    have = Order.objects.filter(merchant=merchant).count() if merchant else 0
    if "--rebuild" in argv or have < n_orders:
        if have:
            print(f"  bench database holds {have} orders, rebuilding", flush=True)
            call_command("flush", verbosity=0, interactive=False)
        print(f"Building {n_orders:,} orders in {BENCH_DB} ...", flush=True)
        with transaction.atomic():  # all or nothing: a half-built database is never reused
            _build(n_orders)
    else:
        print(f"Reusing {have:,} orders in {BENCH_DB}", flush=True)
    merchant = Merchant.objects.get(code=BENCH_MERCHANT)
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        pg_version = cur.fetchone()[0].split(",")[0]

    client = Client()
    client.force_login(get_user_model().objects.get(username=BENCH_USER))
    order = Order.objects.filter(merchant=merchant).order_by("-created_at", "-id")[5000]
    carrier_id = order.waybill.carrier_id
    found = re.search(
        r'cursor=([A-Za-z0-9_-]+)" rel="next"', client.get("/dashboard/orders/").content.decode()
    )
    deep = found.group(1) if found else None
    pages = [
        ("overview (7 days), cold stats cache", "/dashboard/", True),
        ("overview (7 days), warm", "/dashboard/"),
        ("overview (30 days), cold stats cache", "/dashboard/?days=30", True),
        ("overview (30 days), warm", "/dashboard/?days=30"),
        ("orders, first page", "/dashboard/orders/"),
        (
            "orders, second page (cursor)",
            f"/dashboard/orders/?cursor={deep}" if deep else "/dashboard/orders/",
        ),
        (
            "orders, carrier + Yinzunda filter",
            f"/dashboard/orders/?carrier={carrier_id}&yinzunda=yes",
        ),
        ("orders, eligible for the tier", "/dashboard/orders/?yinzunda=eligible"),
        (
            "orders, date range last month",
            "/dashboard/orders/?date_from="
            + str((order.created_at - timedelta(days=30)).date())
            + "&date_to="
            + str(order.created_at.date()),
        ),
        ("orders, search by waybill number", f"/dashboard/orders/?q={order.waybill.number}"),
        ("claims", "/dashboard/claims/"),
        ("ledger", "/dashboard/ledger/"),
    ]
    print(
        f"\n{Order.objects.filter(merchant=merchant).count():,} orders of one merchant; {pg_version}; "
        f"{n_requests} requests per page through Django's test Client (DEBUG off)\n"
    )
    print(f"| page | median ms | p95 ms | goal {GOAL_MS:.0f} ms |")
    print("|---|---:|---:|---|")
    for label, url, *cold in pages:
        median, p95, _ = _time(client, url, n_requests, cold=bool(cold))
        print(
            f"| {label} | {median:.0f} | {p95:.0f} | {'ok' if p95 < GOAL_MS else 'OVER'} |",
            flush=True,
        )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])
    else:
        main(sys.argv[1:])
