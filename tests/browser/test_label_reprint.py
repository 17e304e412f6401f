"""Walkthrough leftovers in a real browser (Debian chromium), desktop and a 390 px phone: labels
reprinted from the order list for a selection, and the order page's shipping timeline (issued,
printed, voided numbers). Every page visited fits its viewport and passes axe-core."""
from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.shipping import shipment_void, shipments_create
from tests.browser.support import check_page
from tests.factories import CarrierFactory, MerchantFactory, MerchantUserFactory, OrderFactory
from tests.orders.world import PASSWORD
from waybills.models import Waybill

pytestmark = [pytest.mark.browser]


@pytest.fixture
def shop(transactional_db):
    merchant = MerchantFactory(name="音尊达测试旗舰店", quota_percent=Decimal("100"))
    member = MerchantUserFactory(merchant=merchant)
    zto = CarrierFactory(code="ZTO", name="中通快递", waybill_prefix="ZT")
    shipped = [OrderFactory(merchant=merchant) for _ in range(2)]
    shipments_create(merchant=merchant, order_ids=[o.pk for o in shipped], carrier_id=zto.pk)
    again = OrderFactory(merchant=merchant)
    shipments_create(merchant=merchant, order_ids=[again.pk], carrier_id=zto.pk)
    voided = shipment_void(merchant=merchant, order_id=again.pk)
    shipments_create(merchant=merchant, order_ids=[again.pk], carrier_id=zto.pk)
    return {"member": member, "shipped": shipped, "again": again, "voided": voided}


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_labels_are_reprinted_for_a_selection_and_the_timeline_tells_shipping(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/orders/")
    check_page(page, f"h4-orders-reprint-{size}")
    # nothing ticked: the page says what to do
    page.click("#print-selected")
    expect(page.locator("#print-none-selected")).to_be_visible()
    # two shipped orders ticked: one PDF of their labels opens in a new tab
    for order in shop["shipped"]:
        page.check(f'input[name="orders"][value="{order.pk}"]')
    with page.context.expect_event("response", lambda r: "labels.pdf" in r.url) as info:
        page.click("#print-selected-large")
    response = info.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert "size=100x180" in response.url
    expect(page.locator("#print-none-selected")).to_be_hidden()
    assert Waybill.objects.filter(order__in=shop["shipped"], label_printed_at__isnull=False).count() == 2
    # the order shipped twice: both numbers on its timeline, the first voided
    page.goto(f"{live_server.url}/dashboard/orders/{shop['again'].pk}/")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(f"面单 {shop['voided'].number} 已作废")
    expect(timeline).to_contain_text(f"发货：出具面单 {shop['again'].waybill.number}")
    check_page(page, f"h4-order-timeline-{size}")
