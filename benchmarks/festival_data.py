"""The festival bench's stored past: carriers, tariffs and merchants, then N delivered parcels' scans
written server-side (INSERT … SELECT generate_series), built once and reused across runs.

Every prefilled parcel travelled one 10-scan journey (pick-up, three hubs, station, out for
delivery, delivered) within its clocks, so none is a breach. Parcels are written in waybill
order with their scans' times rising with the waybill, over PREFILL_DAYS days ending four days
ago: each index of the events table (and each time partition, once the table is partitioned)
is written at its right edge, the way a day's scans arrive, so the build takes minutes, not hours.
"""
from __future__ import annotations

import time
from decimal import Decimal

from benchmarks._support import connect

CARRIERS = [("FESTZTO", "中通快递（节日压测）", "FZ"), ("FESTYTO", "圆通速递（节日压测）", "FY"),
            ("FESTYUNDA", "韵达快递（节日压测）", "FD")]
MERCHANTS = 20
SCANS_PER_PARCEL = 10
PREFILL_DAYS = 30
PREFILL_SERIAL_BASE = 1_000_000_000  # prefilled parcels' serials; the replay's start at 1 (never the same)
CHUNK_PARCELS = 100_000
MARKER = "bench_festival_prefill"
# The journey every prefilled parcel travelled: (code, hours after pick-up).
JOURNEY = [("PICKED_UP", 0), ("ARRIVED_AT_HUB", 4), ("DEPARTED_HUB", 8), ("ARRIVED_AT_HUB", 14),
           ("DEPARTED_HUB", 18), ("ARRIVED_AT_HUB", 24), ("DEPARTED_HUB", 28), ("ARRIVED_AT_STATION", 34),
           ("OUT_FOR_DELIVERY", 36), ("DELIVERED", 38)]
LOCATIONS = ["杭州转运中心", "上海青浦分拨中心", "广州白云转运中心", "北京顺义分拨中心", "成都双流转运中心",
             "浙江省杭州市西湖区文三路营业部", "江苏省南京市鼓楼区中山北路驿站"]


def reference_seed() -> None:
    """Child (Django set up on the bench database): the three partner carriers with a tariff paying
    every promise, and the merchants. Idempotent."""
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from carriers.choices import ComplaintType
    from carriers.models import Carrier, Tariff, TariffPayout
    from orders.models import Merchant

    for code, name, prefix in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "waybill_prefix": prefix, "is_partner": True}
        )
        tariff, created = Tariff.objects.get_or_create(
            carrier=carrier, version=1,
            defaults={"effective_from": timezone.now() - timedelta(days=400), "fee_per_order": Decimal("0.80")},
        )
        if created:
            TariffPayout.objects.bulk_create(
                [TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00")) for t in ComplaintType.values]
            )
    for n in range(MERCHANTS):
        Merchant.objects.get_or_create(code=f"festival-{n:02d}", defaults={"name": f"节日压测店铺{n:02d}"})
    if connection.vendor == "postgresql":
        # The prefill's days and the hour's earlier scans land in their own time partitions, as in
        # production, not in the DEFAULT one (pgpartition only creates partitions ahead of now).
        from waybills.partitioning import events_partitions_cover

        events_partitions_cover(timezone.now() - timedelta(days=PREFILL_DAYS + 6))


def reference(url: str) -> dict:
    """Ids the SQL below needs: carriers (code → id, tariff id, prefix) and merchant ids."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.code, c.id, t.id, c.waybill_prefix FROM carriers_carrier c JOIN carriers_tariff t"
            " ON t.carrier_id = c.id AND t.version = 1 WHERE c.code = ANY(%s) ORDER BY c.code",
            [[code for code, _, _ in CARRIERS]],
        )
        carriers = {code: {"id": cid, "tariff": tid, "prefix": prefix} for code, cid, tid, prefix in cursor.fetchall()}
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM orders_merchant WHERE code LIKE 'festival-%%'")
        merchants = cursor.fetchone()[0]
    conn.close()
    return {"carriers": carriers, "merchants": merchants}


def prefilled(url: str) -> dict | None:
    """What an earlier build left (events, parcels, seconds), or None if it never finished."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER])
        if cursor.fetchone()[0] is None:
            conn.close()
            return None
        cursor.execute(f"SELECT events, parcels, seconds, built_at FROM {MARKER}")  # noqa: S608 - our constant
        row = cursor.fetchone()
    conn.close()
    return None if row is None else {"events": row[0], "parcels": row[1], "seconds": row[2],
                                     "built_at": row[3].strftime("%Y-%m-%d %H:%M UTC")}


def _luhn_sql(body: str) -> str:
    """SQL: the Luhn check digit of a 10-digit text expression (waybills.numbers.luhn_check_digit)."""
    terms = []
    for i in range(1, 11):
        digit = f"substr({body}, {i}, 1)::int"
        terms.append(digit if i % 2 else f"(CASE WHEN {digit} * 2 > 9 THEN {digit} * 2 - 9 ELSE {digit} * 2 END)")
    return f"((10 - ({' + '.join(terms)}) %% 10) %% 10)"  # %% : inside a statement with parameters


def prefill(url: str, events: int) -> dict:
    """Store `events` scans (events / 10 delivered parcels with their orders, waybills and, for 1 in
    33, an active Yinzunda purchase) server-side; returns the marker written at the end."""
    ref = reference(url)
    carriers = [ref["carriers"][code] for code, _, _ in CARRIERS]
    merchants = ref["merchants"]
    parcels = -(-events // SCANS_PER_PARCEL)
    started = time.perf_counter()
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER}")  # noqa: S608 - our constant
        # The rows are consistent by construction (ids taken from the tables just written): skip
        # the per-row foreign-key triggers, and do not wait for the WAL flush on each commit.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT coalesce(max(id), 0) FROM orders_order")
        order_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM waybills_waybill")
        waybill_base = cursor.fetchone()[0]
        conn.commit()
        # parcel i (0-based) is picked up at start + i * step; its scans follow JOURNEY.
        span_seconds = PREFILL_DAYS * 86400
        codes = "ARRAY[" + ", ".join(f"'{code}'" for code, _ in JOURNEY) + "]"
        hours = "ARRAY[" + ", ".join(str(h) for _, h in JOURNEY) + "]"
        locations = "ARRAY[" + ", ".join(f"'{loc}'" for loc in LOCATIONS) + "]"
        carrier_ids = "ARRAY[" + ", ".join(str(c["id"]) for c in carriers) + "]"
        tariff_ids = "ARRAY[" + ", ".join(str(c["tariff"]) for c in carriers) + "]"
        prefixes = "ARRAY[" + ", ".join(f"'{c['prefix']}'" for c in carriers) + "]"
        merchant_ids = "ARRAY[" + ", ".join(str(m) for m in merchants) + "]"
        picked = (f"(now() - interval '{PREFILL_DAYS + 4} days' + (g::float8 * {span_seconds} / {parcels})"
                  " * interval '1 second')")
        done = 0
        while done < parcels:
            step = min(CHUNK_PARCELS, parcels - done)
            params = {"lo": done, "hi": done + step - 1, "ob": order_base, "wb": waybill_base}
            cursor.execute(
                f"""INSERT INTO orders_order (id, merchant_id, order_number, recipient_name, recipient_phone,
                        recipient_address, amount, created_at)
                    SELECT %(ob)s + 1 + g, ({merchant_ids})[1 + g %% {len(merchants)}], 'FO' || lpad(g::text, 12, '0'),
                           '张三', '138' || lpad((g %% 100000000)::text, 8, '0'),
                           '浙江省杭州市西湖区文三路 100 号', 99.00, {picked} - interval '1 day'
                    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g""",  # noqa: S608 - our own constants
                params,
            )
            body = f"lpad(({PREFILL_SERIAL_BASE} + g)::text, 10, '0')"
            cursor.execute(
                f"""INSERT INTO waybills_waybill (id, number, carrier_id, order_id, is_platform_issued, service_codes,
                        status, status_at, delivery_method, delivered_at, created_at, updated_at, label_service_codes,
                        dest_province, dest_city, dest_district)
                    SELECT %(wb)s + 1 + g, ({prefixes})[1 + g %% 3] || {body} || {_luhn_sql(body)},
                           ({carrier_ids})[1 + g %% 3], %(ob)s + 1 + g, true,
                           CASE WHEN g %% 33 = 0 THEN '["SVC-WBHOMEDELIVERY"]'::jsonb ELSE '[]'::jsonb END,
                           'delivered', {picked} + interval '38 hours', 'door', {picked} + interval '38 hours',
                           {picked} - interval '1 day', {picked} + interval '38 hours', '[]'::jsonb,
                           '浙江省', '杭州市', '西湖区'
                    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g""",  # noqa: S608 - our own constants
                params,
            )
            cursor.execute(
                f"""INSERT INTO orders_yinzundapurchase (order_id, merchant_id, tariff_id, fee, status, purchased_at)
                    SELECT %(ob)s + 1 + g, ({merchant_ids})[1 + g %% {len(merchants)}], ({tariff_ids})[1 + g %% 3],
                           0.80, 'active', {picked} - interval '20 hours'
                    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g WHERE g %% 33 = 0""",  # noqa: S608
                params,
            )
            cursor.execute(
                f"""INSERT INTO waybills_trackingevent (carrier_id, waybill_id, event_id, code, occurred_at, location,
                        delivery_method, proof_type, proof_url, note, received_at, late)
                    SELECT ({carrier_ids})[1 + g %% 3], %(wb)s + 1 + g, 'F' || lpad((g * 10 + k)::text, 12, '0'),
                           ({codes})[k + 1], {picked} + ({hours})[k + 1] * interval '1 hour',
                           ({locations})[1 + (g + k) %% {len(LOCATIONS)}],
                           CASE WHEN k = 9 THEN 'door' ELSE '' END, CASE WHEN k = 9 THEN 'photo' ELSE '' END,
                           '', '', {picked} + ({hours})[k + 1] * interval '1 hour' + interval '1 minute', false
                    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g, generate_series(0, 9) k
                    WHERE g * 10 + k < %(events)s
                    ORDER BY g, k""",  # noqa: S608 - our own constants
                {**params, "events": events},
            )
            conn.commit()
            done += step
            if done % (10 * CHUNK_PARCELS) == 0 or done == parcels:
                print(f"  prefill: {min(done * 10, events):,} events in {time.perf_counter() - started:.0f} s",
                      flush=True)
        for table in ("orders_order", "waybills_waybill", "orders_yinzundapurchase", "waybills_trackingevent"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
        conn.commit()
    conn.autocommit = True
    with conn.cursor() as cursor:
        for table in ("orders_order", "waybills_waybill", "orders_yinzundapurchase", "waybills_trackingevent"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")  # noqa: S608 - our own table names
        seconds = time.perf_counter() - started
        cursor.execute(f"CREATE TABLE {MARKER} (events bigint, parcels bigint, seconds float8, built_at timestamptz)")  # noqa: S608
        cursor.execute(f"INSERT INTO {MARKER} VALUES (%s, %s, %s, now())", [events, parcels, seconds])  # noqa: S608
    conn.close()
    print(f"prefill: {events:,} events of {parcels:,} parcels stored in {seconds:.0f} s (with VACUUM ANALYZE)",
          flush=True)
    return prefilled(url)
