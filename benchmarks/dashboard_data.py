"""The dashboard bench's world: merchants' orders, waybills, purchases, complaints, claims.

The measured merchant (BENCH_MERCHANT) is one of `merchants` shops of equal volume whose
orders interleave in time (order g belongs to merchant g % merchants), as on the platform:
another shop's rows are never conveniently kept apart on disk.

Runs inside the bench's child process (Django set up on the bench database; the runner process
imports this module before any Django setup, hence the model imports inside the functions). Bulk rows go in
with COPY (benchmarks._support.copy_rows) into each model's own table; the few dozen
settlements and the inbox go through the ORM, so model defaults fill any column added later.
"""
from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from benchmarks._support import copy_rows

BENCH_MERCHANT = "bench-dash"
BENCH_USER = "bench-dash-user"


def merchant_code(m: int) -> str:
    """Merchant m of the bench: 0 is the measured one."""
    return BENCH_MERCHANT if m == 0 else f"{BENCH_MERCHANT}-{m + 1:02d}"
CARRIERS = [
    ("BZTO", "中通快递", "BZ", True),
    ("BYTO", "圆通速递", "BY", True),
    ("BYUNDA", "韵达快递", "BD", True),
    ("BJT", "极兔速递", "BJ", False),
]
CLAIM_STATUSES = ["settled"] * 6 + ["accepted", "auto_accepted", "disputed", "dismissed", "open"]
DELIVERY_METHODS = ["door"] * 7 + ["station"] * 2 + ["locker"]


def _reference_data(now, merchants: int):
    """The four carriers with a tariff each, the bench merchants and the measured one's login."""
    from django.contrib.auth import get_user_model

    from carriers.choices import ComplaintType
    from carriers.models import Carrier, Tariff, TariffPayout
    from orders.models import Merchant, MerchantMember

    carriers = []
    for code, name, prefix, partner in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "waybill_prefix": prefix, "is_partner": partner}
        )
        tariff, created = Tariff.objects.get_or_create(
            carrier=carrier, version=1,
            defaults={"effective_from": now - timedelta(days=800), "fee_per_order": Decimal("0.80")},
        )
        if created:
            TariffPayout.objects.bulk_create(
                [TariffPayout(tariff=tariff, complaint_type=t, amount=Decimal("5.00")) for t in ComplaintType.values]
            )
        carriers.append((carrier, tariff))
    shops = [
        Merchant.objects.get_or_create(code=merchant_code(m), defaults={"name": f"压测店铺 {m + 1}"})[0]
        for m in range(merchants)
    ]
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    MerchantMember.objects.get_or_create(user=user, defaults={"merchant": shops[0]})
    return carriers, shops


def _next_id(cur, model) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608 - a model's table
    return cur.fetchone()[0] + 1


def build(n_orders: int, merchants: int = 1) -> None:
    """n_orders orders per merchant over 365 days; 2 % unshipped; Yinzunda on 1 in 33;
    complaints and claims. Every merchant gets the same mix; their orders interleave in time."""
    from django.db import connection
    from django.utils import timezone

    from claims.models import Claim, Complaint, Notification, Settlement
    from orders.models import LedgerEntry, Order, YinzundaPurchase
    from waybills.models import Waybill
    from waybills.numbers import format_waybill_number

    now = timezone.now()
    started = time.perf_counter()
    carriers, shops = _reference_data(now, merchants)
    total = n_orders * merchants
    step = timedelta(days=365) / total

    # Global row g is order i = g // merchants of merchant m = g % merchants; g = 0 is the newest.
    def created_at(g: int):
        return now - step * g

    def progress(what: str) -> None:
        print(f"  {what} in {time.perf_counter() - started:.0f}s", flush=True)

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        order_base, waybill_base = _next_id(cur, Order), _next_id(cur, Waybill)
        purchase_base, complaint_base = _next_id(cur, YinzundaPurchase), _next_id(cur, Complaint)

        orders = (
            (order_base + g, shops[g % merchants].pk, f"BD{order_base + g:012d}", "张三",
             f"139{g % 100_000_000:08d}", "浙江省杭州市西湖区文三路 100 号", "99.00", created_at(g).isoformat())
            for g in range(total)
        )
        n = copy_rows(cur, Order._meta.db_table, ["id", "merchant_id", "order_number", "recipient_name",
                                                   "recipient_phone", "recipient_address", "amount", "created_at"],
                      orders)
        progress(f"orders: {n}")

        def waybills():
            for g in range(total):
                i = g // merchants
                if i % 50 == 49:
                    continue  # 2% not shipped yet
                carrier, _ = carriers[i % len(carriers)]
                at = created_at(g)
                if now - at > timedelta(days=4):
                    method = DELIVERY_METHODS[i % len(DELIVERY_METHODS)]
                    status, delivered = "delivered", (at + timedelta(days=3)).isoformat()
                else:
                    method, status, delivered = "", ["created", "picked_up", "in_transit", "out_for_delivery"][i % 4], None
                services = '["SVC-WBHOMEDELIVERY"]' if i % 33 == 0 and carrier.is_partner else "[]"
                yield (waybill_base + g, format_waybill_number(carrier.waybill_prefix, waybill_base + g), carrier.pk,
                       order_base + g, "t", services, status, delivered, method, delivered, at.isoformat())

        n = copy_rows(cur, Waybill._meta.db_table, ["id", "number", "carrier_id", "order_id", "is_platform_issued",
                                                     "service_codes", "status", "status_at", "delivery_method",
                                                     "delivered_at", "created_at"], waybills())
        progress(f"waybills: {n}")

        purchased = [
            g for g in range(total)
            if (i := g // merchants) % 33 == 0 and i % 50 != 49 and carriers[i % len(carriers)][0].is_partner
        ]

        def carrier_of(g: int):
            return carriers[(g // merchants) % len(carriers)]

        purchases = (
            (purchase_base + k, order_base + g, shops[g % merchants].pk, carrier_of(g)[1].pk, "0.80", "active",
             created_at(g).isoformat(), None)
            for k, g in enumerate(purchased)
        )
        n = copy_rows(cur, YinzundaPurchase._meta.db_table, ["id", "order_id", "merchant_id", "tariff_id", "fee",
                                                              "status", "purchased_at", "cancelled_at"], purchases)
        fees = (
            (shops[g % merchants].pk, "fee", "-0.80", purchase_base + k, "音尊达服务费", created_at(g).isoformat())
            for k, g in enumerate(purchased)
        )
        copy_rows(cur, LedgerEntry._meta.db_table,
                  ["merchant_id", "kind", "amount", "purchase_id", "memo", "created_at"], fees)
        progress(f"purchases + fees: {n}")

        # Complaints on 1 in 5 Yinzunda orders older than 4 days (of each merchant); each opens a claim.
        complained = [g for g in purchased if created_at(g) < now - timedelta(days=4)][:: 5]
        complaints = (
            (complaint_base + k, f"BT{complaint_base + k:010d}", order_base + g, waybill_base + g, "not_to_door", "",
             "claim_opened", "", (created_at(g) + timedelta(days=4)).isoformat(),
             (created_at(g) + timedelta(days=4)).isoformat())
            for k, g in enumerate(complained)
        )
        copy_rows(cur, Complaint._meta.db_table, ["id", "reference", "order_id", "waybill_id", "complaint_type",
                                                   "description", "status", "decision_reason", "created_at",
                                                   "routed_at"], complaints)

        # Settlements: one per carrier per 30 days, made with the ORM (a few dozen rows).
        settlements: dict[tuple[int, int], Settlement] = {}
        claim_rows = []
        claim_base = _next_id(cur, Claim)
        for k, g in enumerate(complained):
            carrier, tariff = carrier_of(g)
            opened = created_at(g) + timedelta(days=4)
            status = CLAIM_STATUSES[k % len(CLAIM_STATUSES)] if opened < now - timedelta(days=2) else "open"
            resolved = None if status in ("open", "disputed") else opened + timedelta(days=1)
            settlement_key = None
            if status == "settled":
                bucket = int((now - opened) / timedelta(days=30))
                settlement_key = (carrier.pk, bucket)
                if settlement_key not in settlements:
                    end = now - timedelta(days=30 * bucket) + timedelta(seconds=1)
                    settlements[settlement_key] = Settlement(
                        carrier=carrier, reference=f"STB{carrier.code}{bucket:04d}",
                        period_start=end - timedelta(days=30), period_end=end, claim_count=0,
                        total_amount=Decimal("0"), status="paid", paid_at=end, payment_reference=f"PAYB{bucket}",
                    )
                settlements[settlement_key].claim_count += 1
                settlements[settlement_key].total_amount += Decimal("5.00")
            claim_rows.append((
                claim_base + k, complaint_base + k, "complaint", waybill_base + g, carrier.pk, shops[g % merchants].pk,
                order_base + g, "not_to_door", tariff.pk, "5.00", status, opened + timedelta(hours=48), opened,
                resolved or opened, resolved, settlement_key,
            ))
        Settlement.objects.bulk_create(settlements.values())
        ids = {key: s.pk for key, s in settlements.items()}
        copy_rows(cur, Claim._meta.db_table,
                  ["id", "complaint_id", "trigger", "waybill_id", "carrier_id", "merchant_id", "order_id",
                   "complaint_type", "tariff_id", "amount", "status", "deadline_at", "opened_at", "updated_at",
                   "resolved_at", "settlement_id", "promise", "breach"],
                  ((*row[:-1], ids.get(row[-1]), "door_delivery", "{}") for row in claim_rows))
        compensations = [
            (row[5], "compensation", "5.00", row[0], ids[row[-1]], "索赔赔付", row[14])
            for row in claim_rows if row[10] == "settled"
        ]
        copy_rows(cur, LedgerEntry._meta.db_table,
                  ["merchant_id", "kind", "amount", "claim_id", "settlement_id", "memo", "created_at"],
                  compensations)
        Notification.objects.bulk_create([
            Notification(merchant_id=row[5], claim_id=row[0], title=f"索赔 #{row[0]} 状态更新",
                         title_template="索赔 #%(claim)s 状态更新", params={"claim": row[0]}, created_at=row[12])
            for shop in shops
            for row in [r for r in claim_rows if r[5] == shop.pk][-300:]
        ])
        for model in (Order, Waybill, YinzundaPurchase, Complaint, Claim, LedgerEntry, Notification, Settlement):
            table = model._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608 - a model's table
            )
        progress(f"claims: {len(claim_rows)}, settled: {len(compensations)}; built")
        cur.execute("ANALYZE")
