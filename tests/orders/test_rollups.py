"""The dashboard's rollups (orders.MerchantDay, claims.MerchantCarrierDay) equal the full
computation after every kind of write, including concurrent ones; pages read them."""

from __future__ import annotations

import dataclasses
import importlib
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Case, Count, Q, Sum, Value, When
from django.utils import timezone

from claims.models import Claim, Complaint, MerchantCarrierDay
from claims.selectors.money import money_summary
from claims.selectors.stats import carrier_stats, carrier_stats_rollup
from claims.services.claims import claim_dispute, claim_ruling
from claims.services.rollups import rollups_compact
from orders.models import LedgerEntry, MerchantDay, Order
from orders.selectors.rollups import ledger_totals, orders_since, rollup_split
from orders.services import ledger_reverse, merchant_quota, purchase_cancel
from tests.factories import (
    CarrierFactory,
    ComplaintFactory,
    MerchantFactory,
    OrderFactory,
    UserFactory,
)
from tests.orders.world import buy, deliver, open_claim, paid_claim, shipped_order
from waybills.models import Waybill

pytestmark = pytest.mark.django_db

MIGRATIONS = {
    "claims": ("claims.migrations.0015_merchant_carrier_day_rollup", MerchantCarrierDay),
    "orders": ("orders.migrations.0007_merchant_day_rollup", MerchantDay),
}


def _recomputed(app: str) -> set[tuple]:
    """The rollup recomputed from scratch by the migration's backfill into a scratch table."""
    module, model = MIGRATIONS[app]
    rollup = importlib.import_module(module).ROLLUP
    scratch = dataclasses.replace(rollup, table=f"scratch_{app}_rollup")
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {scratch.table} (LIKE {rollup.table} INCLUDING ALL)")
        cur.execute(scratch.backfill_sql())
        columns = ", ".join((*rollup.keys, *rollup.sums))
        cur.execute(f"SELECT {columns} FROM {scratch.table}")  # noqa: S608 - constant names
        rows = set(cur.fetchall())
        cur.execute(f"DROP TABLE {scratch.table}")
    return rows


def _rollup_rows(app: str) -> set[tuple]:
    """The rollup as the triggers left it, each key's delta rows summed, without the keys whose
    figures all came back to zero."""
    module, model = MIGRATIONS[app]
    rollup = importlib.import_module(module).ROLLUP
    rows = model.objects.values_list(*rollup.keys).order_by().annotate(*(Sum(s) for s in rollup.sums))
    return {row for row in rows if any(row[len(rollup.keys):])}


def assert_rollups_exact(*merchants) -> None:
    for app in MIGRATIONS:
        assert _rollup_rows(app) == _recomputed(app), app
    _assert_windows_exact(*merchants)
    # folding the delta rows changes no figure and leaves one row per key
    rollups_compact()
    for app in MIGRATIONS:
        assert _rollup_rows(app) == _recomputed(app), app
        module, model = MIGRATIONS[app]
        keys = importlib.import_module(module).ROLLUP.keys
        assert model.objects.count() == model.objects.values(*keys).distinct().count()
    _assert_windows_exact(*merchants)


def _assert_windows_exact(*merchants) -> None:
    now = timezone.now()
    windows = [now - timedelta(days=d) for d in (7, 30, 400)] + [
        datetime.combine(timezone.now().astimezone(UTC).date() - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    ]
    for merchant in merchants:
        for since in windows:
            assert carrier_stats_rollup(merchant=merchant, since=since) == carrier_stats(merchant=merchant, since=since)
            assert orders_since(merchant=merchant, since=since) == Order.objects.filter(
                merchant=merchant, created_at__gte=since
            ).count()
            direct = dict(
                LedgerEntry.objects.filter(merchant=merchant, created_at__gte=since)
                .values_list("kind").annotate(Sum("amount"))
            )
            assert {k: v for k, v in ledger_totals(merchant=merchant, since=since).items() if v} == {
                k: v for k, v in direct.items() if v
            }


@pytest.fixture
def carriers(zto):
    return [zto, CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")]


def test_rollups_equal_the_full_computation_after_varied_writes(shop, carriers):
    # given two shops with orders over 40 days on two carriers, and some already in place
    other = MerchantFactory(quota_percent=Decimal("100"))
    now = timezone.now()
    orders = [
        shipped_order(merchant=m, carrier=carriers[i % 2], created_at=now - timedelta(hours=23 * i))
        for i in range(24)
        for m in (shop, other)
    ]
    unshipped = OrderFactory(merchant=shop, created_at=now - timedelta(days=2))
    assert_rollups_exact(shop, other)

    # when the tier is bought and one purchase cancelled (fee, refund), parcels are delivered
    for order in orders[:12]:
        buy(order)
    purchase_cancel(merchant=orders[0].merchant, purchase_id=orders[0].purchases.get().pk)
    for i, order in enumerate(orders[4:12]):
        deliver(order, method="door" if i % 2 else "locker")
    # claims open, are disputed, dismissed, accepted and paid in a settlement
    paid = [paid_claim(order=o) for o in orders[12:16]]
    disputed = open_claim(order=orders[16])
    claim_dispute(claim_id=disputed.pk, carrier=disputed.carrier, reason="有签收照片", evidence=[])
    dismissed = open_claim(order=orders[17])
    claim_dispute(claim_id=dismissed.pk, carrier=dismissed.carrier, reason="有签收照片", evidence=[])
    claim_ruling(claim_id=dismissed.pk, user=UserFactory(is_staff=True), uphold=False, reason="证据充分")
    open_claim(order=orders[18])
    # a complaint without a waybill, a reversal, a bulk update of waybills and of orders
    ComplaintFactory(order=unshipped, waybill=None)
    ledger_reverse(entry=LedgerEntry.objects.filter(claim=paid[0]).get(), memo="冲正")
    Waybill.objects.filter(order__in=orders[20:24]).update(
        delivered_at=now, delivery_method="door", status=Waybill.Status.DELIVERED
    )
    other_carrier = carriers[1] if orders[21].waybill.carrier_id == carriers[0].pk else carriers[0]
    Waybill.objects.filter(order=orders[21]).update(carrier=other_carrier)
    Order.objects.filter(pk__in=[orders[22].pk, orders[23].pk]).update(created_at=now - timedelta(days=35))
    Order.objects.filter(pk=orders[25].pk).update(merchant=shop)
    Complaint.objects.filter(order=unshipped).update(waybill=orders[30].waybill)
    Claim.objects.filter(pk=paid[1].pk).update(opened_at=now - timedelta(days=20))
    # a waybill voided (deleted) with nothing hanging on it
    Waybill.objects.filter(order=orders[40]).delete()

    # then every rollup row equals a recomputation, and every window's figures equal the full query
    assert_rollups_exact(shop, other)
    assert Claim.objects.count() == 7


def test_a_status_move_writes_no_rollup_row_and_a_mixed_update_counts_only_what_changed(shop, carriers):
    # given shipped parcels, some with complaints, their rollups in place
    now = timezone.now()
    orders = [shipped_order(merchant=shop, carrier=carriers[0], created_at=now - timedelta(days=1)) for _ in range(6)]
    ComplaintFactory(order=orders[0], waybill=orders[0].waybill)
    rows = MerchantCarrierDay.objects.count()
    # when a batch of scans only moves statuses (no watched column changes)
    Waybill.objects.filter(order__in=orders).update(status=Waybill.Status.IN_TRANSIT, status_at=now, updated_at=now)
    # then the trigger writes nothing
    assert MerchantCarrierDay.objects.count() == rows
    # when one statement moves every status and delivers two of the parcels (one with a complaint)
    delivered = Q(order__in=orders[:2])
    Waybill.objects.filter(order__in=orders).update(
        status=Case(When(delivered, then=Value(Waybill.Status.DELIVERED)), default=Value(Waybill.Status.OUT_FOR_DELIVERY)),
        status_at=now,
        delivered_at=Case(When(delivered, then=Value(now)), default=None),
        delivery_method=Case(When(delivered, then=Value("door")), default=Value("")),
    )
    # then the figures are exact, written by one delta row for the key
    assert MerchantCarrierDay.objects.count() == rows + 1
    assert_rollups_exact(shop)


def test_rollup_window_splits_at_the_first_utc_midnight():
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    assert rollup_split(midnight) == (midnight.date(), midnight)
    assert rollup_split(midnight + timedelta(seconds=1)) == (datetime(2026, 3, 2).date(), midnight + timedelta(days=1))
    # a Beijing-time `since` is split on UTC days: 08:00 +08:00 is UTC midnight
    beijing = timezone.make_aware(datetime(2026, 3, 1, 8, 0))
    assert rollup_split(beijing) == (midnight.date(), midnight)


def test_quota_and_money_summary_read_the_rollup(shop, zto, django_assert_max_num_queries):
    # given orders over the last 40 days and purchases today
    now = timezone.now()
    orders = [shipped_order(merchant=shop, carrier=zto, created_at=now - timedelta(hours=10 * i)) for i in range(96)]
    buy(orders[0])
    # when the rollup is the only source of the 30-day count (the rows themselves are hidden)
    expected = Order.objects.filter(merchant=shop, created_at__gte=now - timedelta(days=30)).count()
    quota = merchant_quota(merchant=shop, now=now)
    assert quota.daily_average == (Decimal(expected) / 30).quantize(Decimal("0.01"))
    assert quota.used_today == 1
    MerchantDay.objects.filter(merchant=shop).update(orders=0)
    assert merchant_quota(merchant=shop, now=now).daily_average < quota.daily_average
    # and the money summary is the ledger's
    summary = money_summary(merchant=shop)
    assert summary.fees_paid == Decimal("0.80") and summary.balance == Decimal("-0.80")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_keep_the_rollups_exact(carriers):
    # given one shop; four connections at once place orders, buy and cancel on the same day
    shop = MerchantFactory(quota_percent=Decimal("100"))
    now = timezone.now()
    orders = [shipped_order(merchant=shop, carrier=carriers[i % 2], created_at=now) for i in range(12)]
    for carrier in carriers:  # each carrier's first webhook creates its sequence row: not raced here
        buy(shipped_order(merchant=shop, carrier=carrier, created_at=now))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(k, 12, 4):
                OrderFactory(merchant=shop, created_at=now)
                purchase = buy(orders[i])
                if i % 3 == 0:
                    purchase_cancel(merchant=shop, purchase_id=purchase.pk)
                deliver(orders[i], method="door")
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then nothing failed and the rollups equal the full computation
    assert errors == []
    assert Order.objects.filter(merchant=shop).aggregate(n=Count("id"))["n"] == 26
    assert_rollups_exact(shop)
