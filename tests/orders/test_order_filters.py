"""The order list's Yinzunda filters: right rows, and plans driven by this merchant's orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.selectors.orders import order_list
from tests.factories import CarrierFactory, MerchantFactory
from tests.orders.world import buy, deliver, shipped_order
from yinzunda.db import index_lookups_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shop, zto):
    now = timezone.now()
    jt = CarrierFactory(code="JT", name="极兔速递", waybill_prefix="JT", is_partner=False)
    other = MerchantFactory()
    orders = {
        name: shipped_order(merchant=shop, carrier=carrier, created_at=now - timedelta(hours=i))
        for i, (name, carrier) in enumerate(
            [("bought", zto), ("open", zto), ("delivered", zto), ("not_partner", jt), ("bought_delivered", zto)]
        )
    }
    buy(orders["bought"])
    buy(orders["bought_delivered"])
    deliver(orders["delivered"])
    deliver(orders["bought_delivered"])
    # another merchant's parcels, bought and eligible: never in this merchant's lists
    for i in range(3):
        order = shipped_order(merchant=other, carrier=zto, created_at=now - timedelta(minutes=i))
        if i:
            buy(order)
    return orders


def _page(shop, yinzunda: str) -> set[int]:
    return {o.pk for o in order_list(merchant=shop, filters={"yinzunda": yinzunda}).items}


def test_yinzunda_filters_return_this_merchants_matching_orders(shop, world):
    assert _page(shop, "yes") == {world["bought"].pk, world["bought_delivered"].pk}
    assert _page(shop, "no") == {world["open"].pk, world["delivered"].pk, world["not_partner"].pk}
    assert _page(shop, "eligible") == {world["open"].pk}


@pytest.mark.parametrize(
    ("yinzunda", "index"),
    [("yes", "purchase_one_active_per_order"), ("no", "purchase_one_active_per_order"), ("eligible", "waybill_buyable")],
)
def test_yinzunda_filters_walk_the_merchants_orders_and_probe_by_key(shop, world, yinzunda, index):
    # given the page's query as the dashboard runs it
    with CaptureQueriesContext(connection) as captured:
        order_list(merchant=shop, filters={"yinzunda": yinzunda})
    (sql,) = [q["sql"] for q in captured.captured_queries if 'FROM "orders_order"' in q["sql"] and "LIMIT" in q["sql"]]
    # when it is planned with index look-ups only (and, on these few rows, sequential scans
    # priced out, as they would be on a platform's worth of rows)
    with index_lookups_only(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("SET LOCAL enable_seqscan = on")
    # then the merchant's orders drive the plan, the purchase or waybill is probed by its key,
    # and no table is hashed whole
    assert "order_merchant_recent" in plan, plan
    assert index in plan, plan
    assert "Hash" not in plan and "Seq Scan" not in plan, plan
    lines = plan.splitlines()
    probes = [i for i, line in enumerate(lines) if " on orders_yinzundapurchase" in line or " on waybills_waybill" in line]
    assert probes and all("order_id = orders_order.id" in lines[i + 1] for i in probes), plan
