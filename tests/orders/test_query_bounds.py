"""Every dashboard page runs a bounded number of queries whatever the number of orders and claims."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Notification
from tests.factories import CarrierFactory
from tests.orders.world import buy, deliver, open_claim, paid_claim, shipped_order

pytestmark = pytest.mark.django_db


def _build(shop, carriers, n):
    orders = []
    for i in range(n):
        order = shipped_order(
            merchant=shop,
            carrier=carriers[i % len(carriers)],
            created_at=timezone.now() - timedelta(hours=i),
        )
        orders.append(order)
    for order in orders[: n // 2]:
        buy(order)
    for order in orders[: n // 4]:
        deliver(order, method="door" if order.pk % 2 else "station")
    for order in orders[: n // 8]:
        paid_claim(order=order, amount=Decimal("5.00"))
    for order in orders[n // 2 : n // 2 + n // 8]:
        open_claim(order=order)
    for i in range(12):
        Notification.objects.create(merchant=shop, title=f"消息 {i}")
    return orders


@pytest.fixture
def carriers(zto):
    return [zto, CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")]


@pytest.mark.parametrize("n", [16, 64])
def test_pages_query_count_does_not_grow_with_data(
    merchant_client, shop, carriers, n, django_assert_max_num_queries
):
    orders = _build(shop, carriers, n)
    pages = [
        (reverse("dashboard:overview"), 19),
        (reverse("dashboard:orders"), 10),
        (reverse("dashboard:orders") + f"?carrier={carriers[0].pk}&yinzunda=yes", 10),
        (reverse("dashboard:orders") + f"?q={orders[0].order_number}", 12),
        (reverse("dashboard:order_detail", args=[orders[0].pk]), 12),
        (reverse("dashboard:evidence", args=[orders[0].pk]), 12),
        (reverse("dashboard:claims"), 12),
        (reverse("dashboard:ledger"), 8),
        (reverse("dashboard:inbox"), 8),
    ]
    for url, limit in pages:
        with django_assert_max_num_queries(limit):
            response = merchant_client.get(url)
        assert response.status_code == 200, url
