"""Shipping from the dashboard: issue for a selection with reasons, idempotent per order, void, reprint."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from carriers.models import WebhookDelivery
from carriers.sandbox import carrier_sandbox_ensure
from carriers.selectors import carriers_for_shipping
from orders.services import purchase_cancel, purchase_create
from orders.shipping import sandbox_waybills_create, shipment_void, shipments_create
from tests.factories import CarrierFactory, OrderFactory
from waybills.models import TrackingEvent, VoidedWaybill, Waybill, WaybillServiceChange
from waybills.numbers import validate_waybill_number
from yinzunda.errors import DomainError

SVC = "SVC-WBHOMEDELIVERY"


def test_a_selection_ships_and_refused_orders_say_why(shop, zto):
    # given an open order, a cancelled one, a shipped one and another merchant's order
    fresh = OrderFactory(merchant=shop, recipient_address="上海市浦东新区张江路 1 号")
    cancelled = OrderFactory(merchant=shop, cancelled_at=timezone.now())
    shipped = OrderFactory(merchant=shop)
    first = shipments_create(merchant=shop, order_ids=[shipped.pk], carrier_id=zto.pk)[0].waybill
    foreign = OrderFactory()
    # when
    results = shipments_create(
        merchant=shop, order_ids=[fresh.pk, cancelled.pk, shipped.pk, foreign.pk, fresh.pk], carrier_id=zto.pk
    )
    # then one result per distinct order, in the selection's order
    assert [r.order_id for r in results] == [fresh.pk, cancelled.pk, shipped.pk, foreign.pk]
    ok = results[0].waybill
    assert validate_waybill_number(ok.number) == ok.number and ok.number.startswith("ZT")
    assert (ok.dest_province, ok.dest_city, ok.dest_district) == ("上海市", "上海市", "浦东新区")
    assert results[1].reason == "订单已取消"
    assert results[2].reason == f"订单已发货（面单号 {first.number}）"
    assert results[3].reason == "订单不存在"
    assert Waybill.objects.filter(order__merchant=shop).count() == 2


def test_an_inactive_carrier_ships_nothing(shop):
    stopped = CarrierFactory(code="STOP", name="停运快递", is_active=False)
    order = OrderFactory(merchant=shop)
    (result,) = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=stopped.pk)
    assert not result.ok and result.reason == "停运快递 已停用，不能发货"
    assert not Waybill.objects.filter(order=order).exists()


def test_a_real_order_never_ships_with_a_sandbox_carrier(shop, zto):
    twin = carrier_sandbox_ensure(carrier=zto)
    order = OrderFactory(merchant=shop)
    (result,) = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=twin.pk)  # even if posted by hand
    assert not result.ok and "沙箱" in result.reason
    assert not Waybill.objects.filter(order=order).exists()
    assert twin not in list(carriers_for_shipping())  # nor is it offered
    assert sandbox_waybills_create(carrier=twin, count=1, with_tier=True, now=timezone.now())  # its own test merchant can


def test_issue_tells_the_carrier(shop):
    carrier = CarrierFactory(code="HOOK", webhook_url="https://hooks.example.com/yz")
    order = OrderFactory(merchant=shop)
    (result,) = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=carrier.pk)
    delivery = WebhookDelivery.objects.get(carrier=carrier, event_type="waybill.issued")
    data = delivery.payload["data"]
    assert data["waybill_number"] == result.waybill.number
    assert data["destination"] == {"province": "浙江省", "city": "杭州市", "district": "西湖区"}
    assert "文三路" not in str(delivery.payload)  # the street never leaves the platform


def test_buying_and_cancelling_the_tier_records_and_tells_each_change(shop):
    carrier = CarrierFactory(code="HOOK", webhook_url="https://hooks.example.com/yz")
    order = OrderFactory(merchant=shop)
    (result,) = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=carrier.pk)
    purchase = purchase_create(merchant=shop, order_id=order.pk)
    purchase_cancel(merchant=shop, purchase_id=purchase.pk)
    waybill = Waybill.objects.get(pk=result.waybill.pk)
    assert waybill.service_codes == []
    assert list(WaybillServiceChange.objects.filter(waybill=waybill).values_list("action", "code")) == [
        ("added", SVC), ("removed", SVC),
    ]
    types = list(
        WebhookDelivery.objects.filter(carrier=carrier).order_by("created_at", "id").values_list("event_type", flat=True)
    )
    assert types == ["waybill.issued", "waybill.service_added", "waybill.service_removed"]
    assert waybill.updated_at >= purchase.purchased_at


def test_void_before_pickup_frees_the_order_and_never_reuses_the_number(shop, zto):
    order = OrderFactory(merchant=shop)
    first = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=zto.pk)[0].waybill
    voided = shipment_void(merchant=shop, order_id=order.pk)
    assert voided.number == first.number and VoidedWaybill.objects.filter(order=order).count() == 1
    second = shipments_create(merchant=shop, order_ids=[order.pk], carrier_id=zto.pk)[0].waybill
    assert second.number != first.number


def test_void_is_refused_after_pickup_and_while_the_tier_is_bought(shop, zto):
    picked, bought = OrderFactory(merchant=shop), OrderFactory(merchant=shop)
    results = shipments_create(merchant=shop, order_ids=[picked.pk, bought.pk], carrier_id=zto.pk)
    waybill = results[0].waybill
    TrackingEvent.objects.create(carrier=zto, waybill=waybill, event_id="e1", code="PICKED_UP", occurred_at=timezone.now())
    Waybill.objects.filter(pk=waybill.pk).update(status="picked_up")
    purchase_create(merchant=shop, order_id=bought.pk)
    with pytest.raises(DomainError, match="已揽收"):
        shipment_void(merchant=shop, order_id=picked.pk)
    with pytest.raises(DomainError, match="先取消音尊达"):
        shipment_void(merchant=shop, order_id=bought.pk)
    assert Waybill.objects.filter(order__in=[picked, bought]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_issues_one_number():
    # given one order, shipped by eight requests at once
    carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    order = OrderFactory()
    barrier = threading.Barrier(8)
    results, lock = [], threading.Lock()

    def run():
        try:
            barrier.wait()
            (r,) = shipments_create(merchant=order.merchant, order_ids=[order.pk], carrier_id=carrier.pk)
        finally:
            connection.close()
        with lock:
            results.append(r)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then exactly one number, the others told the order is shipped
    assert Waybill.objects.filter(order=order).count() == 1
    assert sum(r.ok for r in results) == 1
    assert all(r.reason.startswith("订单已发货") for r in results if not r.ok)


# --- pages ----------------------------------------------------------------------------------------


def test_ship_without_a_carrier_offers_partners_first_with_price(merchant_client, shop, zto):
    CarrierFactory(code="EMS", name="邮政", is_partner=False, tariff=None)
    CarrierFactory(code="OFF", name="停运", is_active=False)
    order = OrderFactory(merchant=shop)
    response = merchant_client.post(reverse("dashboard:ship"), {"orders": [order.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('data-carrier="ZTO"') < html.index('data-carrier="EMS"')
    assert "停运" not in html and "¥0.80" in html


def test_ship_page_issues_and_links_the_labels(merchant_client, shop, zto):
    order = OrderFactory(merchant=shop)
    response = merchant_client.post(
        reverse("dashboard:ship"), {"orders": [order.pk], "carrier": zto.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "purchases-changed"
    waybill = Waybill.objects.get(order=order)
    assert waybill.number in response.content.decode()
    assert f"orders={order.pk}" in response.content.decode()


def test_void_page_refuses_another_merchants_order(merchant_client, zto):
    other = OrderFactory()
    response = merchant_client.post(reverse("dashboard:void", args=[other.pk]))
    assert response.status_code == 404
