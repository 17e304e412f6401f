"""The console bench's world: five carriers, N waybills over eight weeks, one in five with the
tier, a claim on half of those (a complaint each), 5 % of claims disputed.

Runs inside the bench's child process (Django set up on the bench database; the runner imports
this module before Django is set up, hence the model imports inside the functions). Bulk rows
go in with COPY (benchmarks._support.copy_rows) into each model's own table.
"""
from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from benchmarks._support import copy_rows

BENCH_MERCHANT = "bench-console"
CARRIERS = [("CZTO", "中通快递", "CZ"), ("CYTO", "圆通速递", "CY"), ("CYD", "韵达快递", "CD"),
            ("CJT", "极兔速递", "CJ"), ("CSTO", "申通快递", "CS")]
CITIES = ["浙江省杭州市西湖区", "广东省深圳市南山区", "上海市浦东新区", "北京市朝阳区", "四川省成都市武侯区",
          "湖北省武汉市洪山区", "江苏省南京市鼓楼区", "陕西省西安市雁塔区"]
METHODS = ["door"] * 8 + ["station", "locker"]
CLAIM_STATUSES = ["accepted"] * 13 + ["auto_accepted"] * 3 + ["disputed", "upheld", "dismissed", "open"]
TYPES = ["not_to_door", "locker_without_consent", "no_call", "return_pickup_missed"]
WEEKS = 8


def _reference_data(now):
    from carriers.choices import ComplaintType
    from carriers.models import Carrier, Tariff, TariffPayout
    from orders.models import Merchant

    carriers = []
    for code, name, prefix in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(code=code, defaults={"name": name, "waybill_prefix": prefix, "is_partner": True})
        tariff, created = Tariff.objects.get_or_create(
            carrier=carrier, version=1, defaults={"effective_from": now - timedelta(days=400), "fee_per_order": Decimal("0.80")}
        )
        if created:
            TariffPayout.objects.bulk_create(
                [TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00")) for t in ComplaintType.values]
            )
        carriers.append((carrier, tariff))
    merchant, _ = Merchant.objects.get_or_create(code=BENCH_MERCHANT, defaults={"name": "控制台压测店铺"})
    return carriers, merchant


def build(n_waybills: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from claims.models import Claim, ClaimTransition, Complaint
    from orders.models import Order, YinzundaPurchase
    from waybills.models import Waybill
    from waybills.numbers import format_waybill_number

    now = timezone.now()
    started = time.perf_counter()
    carriers, merchant = _reference_data(now)
    span = timedelta(weeks=WEEKS) / n_waybills
    timings = {}

    def at(i: int):
        return now - span * i

    def progress(what: str) -> None:
        timings[what] = round(time.perf_counter() - started, 1)
        print(f"  {what} in {timings[what]:.0f}s", flush=True)

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM orders_order")
        base = cur.fetchone()[0] + 1
        copy_rows(cur, Order._meta.db_table,
                  ["id", "merchant_id", "order_number", "recipient_name", "recipient_phone", "recipient_address",
                   "amount", "created_at"],
                  ((base + i, merchant.pk, f"CO{base + i:012d}", "李四", f"138{i % 100_000_000:08d}",
                    f"{CITIES[i % len(CITIES)]}某路 {i % 300} 号", "59.00", (at(i) - timedelta(days=3)).isoformat())
                   for i in range(n_waybills)))
        progress("orders")

        def waybills():
            for i in range(n_waybills):
                carrier, _ = carriers[(i // 7) % len(carriers)]
                method = METHODS[(i // 3) % len(METHODS)]
                delivered = at(i).isoformat()
                yield (base + i, format_waybill_number(carrier.waybill_prefix, base + i), carrier.pk, base + i, "t",
                       '["SVC-WBHOMEDELIVERY"]' if i % 5 == 0 else "[]", "delivered", delivered, method, delivered,
                       (at(i) - timedelta(days=3)).isoformat())

        copy_rows(cur, Waybill._meta.db_table,
                  ["id", "number", "carrier_id", "order_id", "is_platform_issued", "service_codes", "status",
                   "status_at", "delivery_method", "delivered_at", "created_at"], waybills())
        progress("waybills")
        tier = range(0, n_waybills, 5)
        copy_rows(cur, YinzundaPurchase._meta.db_table,
                  ["id", "order_id", "merchant_id", "tariff_id", "fee", "status", "purchased_at", "cancelled_at"],
                  ((base + i, base + i, merchant.pk, carriers[(i // 7) % len(carriers)][1].pk, "0.80", "active",
                    (at(i) - timedelta(days=3)).isoformat(), None) for i in tier))
        progress("purchases")
        claimed = range(0, n_waybills, 10)  # half of the tier parcels
        copy_rows(cur, Complaint._meta.db_table,
                  ["id", "reference", "order_id", "waybill_id", "complaint_type", "description", "status",
                   "decision_reason", "created_at", "routed_at"],
                  ((base + i, f"CT{base + i:012d}", base + i, base + i, TYPES[(i // 10) % len(TYPES)], "", "claim_opened",
                    "", (at(i) + timedelta(hours=2)).isoformat(), (at(i) + timedelta(hours=2)).isoformat())
                   for i in claimed))
        progress("complaints")

        def claims():
            for k, i in enumerate(claimed):
                carrier, tariff = carriers[(i // 7) % len(carriers)]
                opened = at(i) + timedelta(hours=2)
                status = CLAIM_STATUSES[k % len(CLAIM_STATUSES)]
                resolved = None if status in ("open", "disputed") else opened + timedelta(hours=6 + k % 40)
                updated = resolved or (opened + timedelta(hours=1) if status == "disputed" else opened)
                yield (base + i, base + i, "complaint", base + i, carrier.pk, merchant.pk, base + i,
                       TYPES[(i // 10) % len(TYPES)], tariff.pk, "5.00", status,
                       (opened + timedelta(hours=48)).isoformat(), opened.isoformat(), updated.isoformat(),
                       resolved.isoformat() if resolved else None, None, "", "{}")

        copy_rows(cur, Claim._meta.db_table,
                  ["id", "complaint_id", "trigger", "waybill_id", "carrier_id", "merchant_id", "order_id",
                   "complaint_type", "tariff_id", "amount", "status", "deadline_at", "opened_at", "updated_at",
                   "resolved_at", "settlement_id", "promise", "breach"], claims())
        progress("claims")

        def transitions():
            for k, i in enumerate(claimed):
                opened = at(i) + timedelta(hours=2)
                yield (base + i, "", "open", "system", "", "[]", opened.isoformat())
                status = CLAIM_STATUSES[k % len(CLAIM_STATUSES)]
                if status != "open":
                    actor = "carrier" if status in ("accepted", "disputed") else "system"
                    yield (base + i, "open", status, actor, "", "[]", (opened + timedelta(hours=6 + k % 40)).isoformat())

        copy_rows(cur, ClaimTransition._meta.db_table,
                  ["claim_id", "from_status", "to_status", "actor", "reason", "evidence", "created_at"], transitions())
        progress("transitions")
        for model in (Order, Waybill, YinzundaPurchase, Complaint, Claim, ClaimTransition):
            table = model._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608
        cur.execute("ANALYZE")
        progress("analyzed")
    return timings
