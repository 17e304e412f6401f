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


LIMITS = {
    # + compensation credited per carrier in the period (issue 14 §7); + the per-carrier rollup,
    # the partial first day of the 30-day quota count and of the period's money summary, and
    # restoring the join settings after the index look-ups (issue 14 §10): constant
    "overview": 23,
    # + setting and restoring index look-ups only around the page's query, in a savepoint of its
    # own (issue 14 §10)
    "orders": 12,
    "orders_filtered": 13,
    "orders_search": 14,
    # + the current tariff (the buy button's price); + the parcel's consent history and its
    # tariff's payouts (the promise clocks): constant. Both read the order's voided waybill numbers
    # (its shipping timeline): one more, constant
    "order_detail": 14,
    "evidence": 14,
    "claims": 12,  # + the partial first day of the week's money summary (rollup, issue 14 §10)
    "ledger": 7,
    "inbox": 7,
}


def _urls(orders, carriers) -> dict[str, str]:
    return {
        "overview": reverse("dashboard:overview"),
        "orders": reverse("dashboard:orders"),
        "orders_filtered": reverse("dashboard:orders") + f"?carrier={carriers[0].pk}&yinzunda=yes",
        "orders_search": reverse("dashboard:orders") + f"?q={orders[0].order_number}",
        "order_detail": reverse("dashboard:order_detail", args=[orders[0].pk]),
        "evidence": reverse("dashboard:evidence", args=[orders[0].pk]),
        "claims": reverse("dashboard:claims"),
        "ledger": reverse("dashboard:ledger"),
        "inbox": reverse("dashboard:inbox"),
    }


def _counts(client, urls: dict[str, str], assert_max) -> dict[str, int]:
    from django.core.cache import cache

    counts = {}
    for name, url in urls.items():
        cache.clear()  # the overview's stats cache would hide its queries on the second pass
        with assert_max(LIMITS[name]) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[name] = len(captured)
    return counts


@pytest.fixture
def local_cache(settings):
    # A private cache, so clearing it never touches the shared Redis of other tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_pages_query_count_does_not_grow_with_data(
    merchant_client, shop, carriers, local_cache, django_assert_max_num_queries
):
    # given a small shop
    orders = _build(shop, carriers, 16)
    small = _counts(merchant_client, _urls(orders, carriers), django_assert_max_num_queries)
    # when it grows fivefold (more orders, purchases, claims, settlements, notifications)
    more = _build(shop, carriers, 64)
    large = _counts(merchant_client, _urls(more, carriers), django_assert_max_num_queries)
    # then every page runs exactly as many queries as before
    assert large == small
