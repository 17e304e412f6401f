"""Walkthrough leftovers: the order page's timeline tells shipping (waybill issued, label printed,
voided numbers), and labels are reprinted later from the order list for a selection."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from orders.shipping import shipment_void, shipments_create
from tests.factories import OrderFactory
from waybills.models import Waybill

pytestmark = pytest.mark.django_db


def test_order_timeline_shows_issue_print_and_the_voided_number(merchant_client, shop, zto):
    # given an order shipped, voided, shipped again and its label printed
    order = OrderFactory(merchant=shop)
    first = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=zto.pk)[0].waybill
    shipment_void(merchant=shop, order_id=order.pk)
    second = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=zto.pk)[0].waybill
    assert merchant_client.get(reverse("dashboard:labels"), {"orders": order.pk}).status_code == 200
    # when the merchant opens the order page
    body = merchant_client.get(reverse("dashboard:order_detail", args=[order.pk])).content.decode()
    # then
    assert f"发货：出具面单 {first.number}" in body and f"面单 {first.number} 已作废" in body
    assert f"发货：出具面单 {second.number}" in body and f"打印面单 {second.number}" in body
    assert body.index(f"发货：出具面单 {first.number}") < body.index(f"面单 {first.number} 已作废") < body.index(
        f"发货：出具面单 {second.number}")
    english = merchant_client.get(reverse("dashboard:order_detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = english.content.decode()
    assert f"Waybill {first.number} voided" in text and f"Label printed for waybill {second.number}" in text


def test_order_list_offers_printing_the_selection(merchant_client, shop, zto):
    OrderFactory(merchant=shop)
    body = merchant_client.get(reverse("dashboard:orders")).content.decode()
    assert 'id="print-selected"' in body and f'data-print-labels="{reverse("dashboard:labels")}"' in body


def test_reprint_of_a_selection_prints_only_issued_waybills_of_the_merchant(merchant_client, shop, zto):
    # given two shipped orders, one not shipped, and another merchant's shipped order
    shipped = [OrderFactory(merchant=shop) for _ in range(2)]
    shipments_create(merchant=shop, order_ids=[o.pk for o in shipped], carrier_id=zto.pk)
    unshipped = OrderFactory(merchant=shop)
    foreign = OrderFactory()
    shipments_create(merchant=foreign.merchant, order_ids=[foreign.pk], carrier_id=zto.pk)
    Waybill.objects.update(label_printed_at=None)
    # when the selection is printed again from the list
    response = merchant_client.get(
        reverse("dashboard:labels"), {"orders": [shipped[0].pk, unshipped.pk, foreign.pk, shipped[1].pk], "size": "100x180"}
    )
    # then one page per own issued waybill, each recorded as printed; the foreign one untouched
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 2
    assert Waybill.objects.filter(order__in=shipped, label_printed_at__isnull=False).count() == 2
    assert Waybill.objects.get(order=foreign).label_printed_at is None


def test_reprint_of_only_unshipped_or_foreign_orders_says_so(merchant_client, shop, zto):
    foreign = OrderFactory()
    shipments_create(merchant=foreign.merchant, order_ids=[foreign.pk], carrier_id=zto.pk)
    response = merchant_client.get(reverse("dashboard:labels"), {"orders": [OrderFactory(merchant=shop).pk, foreign.pk]})
    assert response.status_code == 404
    assert 'id="labels-none"' in response.content.decode()


@pytest.mark.parametrize("query", [{"orders": "abc"}, {"orders": "1", "size": "A4"}, {}, {"orders": str(2**63)}])
def test_reprint_with_bad_input_is_a_400(merchant_client, query):
    assert merchant_client.get(reverse("dashboard:labels"), query).status_code == 400
