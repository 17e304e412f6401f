"""Hostile input to the dashboard's filters and ids: a 400 naming the field or a 404, never a 500
(issue 9, reproduction 6)."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from orders.models import LedgerEntry, YinzundaPurchase
from tests.orders.world import buy, shipped_order

pytestmark = pytest.mark.django_db

FILTER_PAGES = ("dashboard:orders", "dashboard:claims")
EXPORTS = ("dashboard:export_orders", "dashboard:export_claims", "dashboard:export_ledger")


@pytest.mark.parametrize("name", FILTER_PAGES + EXPORTS)
@pytest.mark.parametrize("field", ["date_to", "date_from"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "١٩٩٩-١٢-٣١"])
def test_a_date_past_the_platforms_range_is_a_400_naming_the_field(merchant_client, shop, name, field, day):
    # when: the attacker's far-future (or far-past) day, where "the day after" overflows
    response = merchant_client.get(reverse(name), {field: day})
    # then: a form error on that field, not a 500
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_the_last_day_of_the_range_still_filters(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    response = merchant_client.get(reverse("dashboard:orders"), {"date_to": "2099-12-31"})
    assert response.status_code == 200 and order.order_number in response.content.decode()


@pytest.mark.parametrize("order_param", ["²", "١٢", "１２", "-1", "99999999999999999999999", ""])
def test_refused_cancel_with_a_non_ascii_order_id_redirects_to_the_order_list(merchant_client, shop, zto, order_param):
    # given: a purchase the service refuses to cancel (the parcel was picked up)
    order = shipped_order(merchant=shop, carrier=zto, status="picked_up")
    purchase = buy(order)
    # when
    response = merchant_client.post(reverse("dashboard:purchase_cancel", args=[purchase.pk]), {"order": order_param})
    # then: back to the list with the message; nothing refunded
    assert response.status_code == 302 and response.url == reverse("dashboard:orders")
    assert not LedgerEntry.objects.filter(kind="fee_refund").exists()


def test_refused_cancel_with_an_ascii_order_id_returns_to_the_order(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto, status="picked_up")
    purchase = buy(order)
    response = merchant_client.post(reverse("dashboard:purchase_cancel", args=[purchase.pk]), {"order": str(order.pk)})
    assert response.status_code == 302 and response.url == reverse("dashboard:order_detail", args=[order.pk])


@pytest.mark.parametrize("digits", ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹"])
def test_purchase_selection_with_non_ascii_digits_is_a_400_and_buys_nothing(merchant_client, shop, zto, digits):
    # given: the merchant's own order, its id written in other digits (int() would read some)
    order = shipped_order(merchant=shop, carrier=zto)
    value = str(order.pk).translate(str.maketrans("0123456789", digits))
    # when
    response = merchant_client.post(reverse("dashboard:purchase_create"), {"orders": [value]})
    # then
    assert response.status_code == 400 and 'data-field="orders"' in response.content.decode()
    assert not YinzundaPurchase.objects.exists()


@pytest.mark.parametrize("name", FILTER_PAGES + ("dashboard:export_orders", "dashboard:export_claims"))
@pytest.mark.parametrize("digits", ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９"])
def test_a_carrier_filter_in_non_ascii_digits_is_a_400_naming_carrier(merchant_client, shop, zto, name, digits):
    response = merchant_client.get(reverse(name), {"carrier": str(zto.pk).translate(str.maketrans("0123456789", digits))})
    assert response.status_code == 400 and 'data-field="carrier"' in response.content.decode()
    assert merchant_client.get(reverse(name), {"carrier": str(zto.pk)}).status_code == 200


@pytest.mark.parametrize("days", ["٣٠", "30.0", "99999999999999999999", "-7"])
def test_overview_period_outside_the_offered_ones_falls_back_to_seven_days(merchant_client, shop, days):
    response = merchant_client.get(reverse("dashboard:overview"), {"days": days})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name", ["dashboard:order_detail", "dashboard:evidence", "dashboard:evidence_pdf", "dashboard:claim_detail", "dashboard:photo"]
)
def test_an_id_past_bigint_is_a_404(merchant_client, shop, name):
    assert merchant_client.get(reverse(name, args=[10**25])).status_code == 404


def test_an_id_past_bigint_on_post_routes_is_a_404(merchant_client, shop):
    assert merchant_client.post(reverse("dashboard:purchase_cancel", args=[10**25])).status_code == 404
    assert merchant_client.post(reverse("dashboard:inbox_read", args=[10**25])).status_code == 404


def _cursor(at: str, pk) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, pk, "next"]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("9999-12-31T23:00:00-14:00", 1),
        _cursor("0001-01-01T00:00:00+14:00", 1),
        _cursor("2026-01-01T00:00:00", 1),
        _cursor("2026-01-01T00:00:00+08:00", 10**25),
    ],
)
@pytest.mark.parametrize("name", ["dashboard:orders", "dashboard:claims", "dashboard:inbox", "dashboard:ledger"])
def test_a_forged_cursor_is_never_a_500(merchant_client, shop, zto, cursor, name):
    shipped_order(merchant=shop, carrier=zto)
    assert merchant_client.get(reverse(name), {"cursor": cursor}).status_code == 200
