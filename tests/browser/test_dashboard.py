"""The merchant dashboard in a real browser: Debian chromium driven by Playwright against live_server.

Screenshots go to test-artifacts/ (gitignored; CI uploads them).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import csp
from tests.browser.support import ARTIFACTS
from tests.factories import CarrierFactory, MerchantFactory, MerchantUserFactory
from tests.orders.world import PASSWORD, buy, deliver, paid_claim, shipped_order

pytestmark = [pytest.mark.browser]

# (the Playwright browser, launched on Debian chromium, is the `browser` fixture of conftest.py)


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="zh-CN", accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    violations = csp.watch(context)
    page = context.new_page()
    yield page
    page.wait_for_timeout(100)  # a late report still arrives
    context.close()
    assert not violations, violations


@pytest.fixture
def world(transactional_db):
    merchant = MerchantFactory(name="音尊达测试旗舰店", quota_percent=Decimal("100"))
    member = MerchantUserFactory(merchant=merchant)
    zto = CarrierFactory(code="ZTO", name="中通快递", waybill_prefix="ZT")
    yto = CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")
    fresh = [shipped_order(merchant=merchant, carrier=zto) for _ in range(10)]
    others = [shipped_order(merchant=merchant, carrier=yto) for _ in range(3)]
    disputed = shipped_order(merchant=merchant, carrier=yto)
    buy(disputed)
    deliver(disputed, method="station", proof_url="https://proof.example/station-photo.jpg")
    paid_claim(order=disputed)
    return {"member": member, "zto": zto, "fresh": fresh, "others": others, "disputed": disputed}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_merchant_logs_in_filters_orders_and_buys_the_tier_for_ten(page, live_server, world):
    _login(page, live_server, world["member"].user.username)
    assert page.locator("[data-testid=net-benefit]").is_visible()
    _shot(page, "overview")

    page.click("nav >> text=订单")
    page.select_option("#id_carrier", str(world["zto"].pk))
    page.click("#order-filters button[type=submit]")
    page.wait_for_url("**carrier=*")
    rows = page.locator("#order-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 10
    assert world["others"][0].order_number not in page.content()

    # nothing selected: the error names the field instead of failing silently
    page.click("#buy-selected")
    page.locator("#purchase-results [data-field=orders]").wait_for()

    for checkbox in page.locator("input[name=orders]").all():
        checkbox.check()
    page.click("#buy-selected")
    # the price comes first: ten orders at ¥0.80, then the merchant confirms
    expect(page.locator("[data-testid=preview-total]")).to_contain_text("¥8.00")
    page.click("#confirm-purchase")
    result = page.locator("#purchase-result-card")
    expect(result).to_contain_text("已购买 10 单")
    assert result.locator("tr.bought").count() == 10
    assert "¥8.00" in result.inner_text()
    # the table reloads itself (htmx event) and shows the badge on every bought order
    # A locator, not wait_for_function: that evaluates a string, which the page's CSP refuses.
    expect(page.locator("#order-table tbody .badge.ok")).to_have_count(10)
    _shot(page, "bought-ten")


def test_order_timeline_evidence_and_csv_download(page, live_server, world):
    disputed = world["disputed"]
    _login(page, live_server, world["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/orders/")
    page.click(f"text={disputed.order_number}")
    timeline = page.locator("ol.timeline")
    timeline.wait_for()
    text = timeline.inner_text()
    for expected in ("购买音尊达", "驿站/代收点", "买家投诉", "已赔付"):
        assert expected in text
    _shot(page, "order-timeline")

    page.click("text=证据包（打印）")
    page.wait_for_url("**/evidence/")
    assert "物流证据包" in page.content()
    _shot(page, "evidence")

    page.goto(f"{live_server.url}/dashboard/orders/")
    with page.expect_download() as info:
        page.click("#export-orders")
    path = info.value.path()
    content = Path(path).read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("订单号")
    assert disputed.order_number in content and world["fresh"][0].order_number in content
    assert content.splitlines()[-1].startswith("#END,")  # the downloaded file is whole


def test_dashboard_renders_in_english_too(page, live_server, world):
    _login(page, live_server, world["member"].user.username)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")  # the form submits on change
    page.goto(f"{live_server.url}/dashboard/orders/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#order-table tbody tr").count() == 14
    _shot(page, "orders-en")
