"""Issue 14, merchants in a real browser (Debian chromium) on a desktop and a 390 px phone:
the after-sales queue, dispute answers, buying with the price in view, session expiry under
htmx, overview figures, inbox links. Every page visited fits its viewport and passes axe-core."""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from claims.models import Complaint
from claims.services.claims import claim_dispute
from claims.services.complaints import complaint_route
from tests.browser.support import assert_fits, check_page, shot
from tests.factories import (
    CarrierFactory,
    ComplaintFactory,
    MerchantFactory,
    MerchantUserFactory,
    UserFactory,
)
from tests.orders.world import PASSWORD, buy, deliver, open_claim, paid_claim, shipped_order

pytestmark = [pytest.mark.browser]


@pytest.fixture
def shop(transactional_db):
    merchant = MerchantFactory(name="音尊达测试旗舰店", quota_percent=Decimal("100"))
    member = MerchantUserFactory(merchant=merchant)
    zto = CarrierFactory(code="ZTO", name="中通快递", waybill_prefix="ZT")
    fresh = [shipped_order(merchant=merchant, carrier=zto) for _ in range(3)]
    # A damaged parcel: not a Yinzunda promise, forwarded to the merchant by the routing.
    damaged = shipped_order(merchant=merchant, carrier=zto)
    forwarded = ComplaintFactory(
        order=damaged, waybill=damaged.waybill, complaint_type="damaged",
        description="外箱破损，里面的瓶子碎了。" * 20,
    )
    complaint_route(complaint_id=forwarded.pk)
    # A complaint filed long after the door delivery: refused with a reason (past the window).
    pending = shipped_order(merchant=merchant, carrier=zto)
    buy(pending)
    deliver(pending, method="door", at=timezone.now() - timedelta(days=10))
    refused = ComplaintFactory(order=pending, waybill=pending.waybill, complaint_type="not_to_door")
    complaint_route(complaint_id=refused.pk)
    # A claim the carrier disputes.
    disputed_order = shipped_order(merchant=merchant, carrier=zto)
    buy(disputed_order)
    deliver(disputed_order, method="door", proof_url="https://proof.example/door-photo-very-long-name-" + "x" * 80 + ".jpg")
    claim = open_claim(order=disputed_order)
    claim_dispute(claim_id=claim.pk, carrier=zto, reason="快递员已送货上门，有门口照片为证。", evidence=[{"type": "photo", "url": "https://proof.example/door.jpg"}])
    # A paid claim on a delivered Yinzunda order: money on the overview.
    paid_order = shipped_order(merchant=merchant, carrier=zto)
    buy(paid_order)
    deliver(paid_order, method="station")
    paid_claim(order=paid_order)
    forwarded.refresh_from_db()
    refused.refresh_from_db()
    return {
        "member": member, "merchant": merchant, "zto": zto, "fresh": fresh, "forwarded": forwarded,
        "refused": refused, "claim": claim, "paid_order": paid_order,
    }


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")


def test_every_merchant_page_fits_and_is_accessible(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    pages = {
        "overview": "/dashboard/",
        "orders": "/dashboard/orders/",
        "order": f"/dashboard/orders/{shop['paid_order'].pk}/",
        "evidence": f"/dashboard/orders/{shop['paid_order'].pk}/evidence/",
        "claims": "/dashboard/claims/",
        "claim": f"/dashboard/claims/{shop['claim'].pk}/",
        "aftersales": "/dashboard/aftersales/",
        "aftersales-detail": f"/dashboard/aftersales/{shop['forwarded'].reference}/",
        "ledger": "/dashboard/ledger/",
        "inbox": "/dashboard/inbox/",
        "settings": "/dashboard/settings/",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        check_page(page, f"merchant-{name}-{size}")


def test_aftersales_queue_reply_reaches_the_buyer(page, live_server, shop, size):
    forwarded, refused = shop["forwarded"], shop["refused"]
    assert forwarded.status == Complaint.Status.FORWARDED and refused.status == Complaint.Status.REJECTED
    _login(page, live_server, shop["member"].user.username)
    # the inbox line of the forwarded complaint leads to it
    page.goto(f"{live_server.url}/dashboard/inbox/")
    page.click("text=处理售后")
    page.wait_for_url(f"**/dashboard/aftersales/{forwarded.reference}/")
    page.goto(f"{live_server.url}/dashboard/aftersales/")
    table = page.locator("#aftersales-table")
    expect(table).to_contain_text(forwarded.reference)
    expect(table).to_contain_text(refused.reference)  # refused complaints are visible too
    expect(page.locator("[data-state=new]")).to_have_text("2")
    page.select_option("#id_kind", "rejected")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**kind=rejected*")
    assert forwarded.reference not in page.locator("main").inner_text()
    page.goto(f"{live_server.url}/dashboard/aftersales/{forwarded.reference}/")
    page.select_option("#id_state", "resolved")
    page.fill("#id_reply", "非常抱歉，已为您补发一瓶，单号稍后短信通知。")
    page.click("#save-reply")
    expect(page.locator("#aftersales-state")).to_have_text("已解决")
    check_page(page, f"aftersales-replied-{size}")
    forwarded.refresh_from_db()
    assert forwarded.aftersales_state == "resolved" and forwarded.merchant_reply.startswith("非常抱歉")

    # the buyer proves the order and reads the reply on the status page
    order = forwarded.order
    page.goto(f"{live_server.url}/complaint/")
    page.fill("#id_number", order.order_number)
    page.fill("#id_phone_last4", order.recipient_phone[-4:])
    page.click("main button[type=submit]")
    page.wait_for_url("**/complaint/new/")
    page.goto(f"{live_server.url}/complaint/{forwarded.reference}/")
    expect(page.locator("#merchant-reply")).to_contain_text("已为您补发")
    check_page(page, f"buyer-sees-reply-{size}")


def _screenshot(name: str) -> dict:
    """A phone screenshot as the file chooser would hand it over (portrait, so it tests the layout)."""
    buffer = io.BytesIO()
    Image.new("RGB", (360, 780), (240, 240, 240)).save(buffer, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def test_merchant_answers_a_dispute_and_the_operator_sees_both(page, live_server, shop, size):
    claim = shop["claim"]
    _login(page, live_server, shop["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/claims/")
    page.click(f"tr[data-claim='{claim.pk}'] a")
    expect(page.locator("#carrier-dispute")).to_contain_text("门口照片")
    page.fill("#id_note", "买家当天在驿站取的件，附驿站取件短信截图。")
    page.fill("#id_evidence_url", "https://shop.example/sms-screenshot.png")
    page.set_input_files("#id_photos", [_screenshot(f"sms-{i}.png") for i in range(3)])
    page.click("#submit-answer")
    expect(page.locator("#merchant-answers")).to_contain_text("驿站取件短信")
    expect(page.locator("#merchant-answers img")).to_have_count(3)
    check_page(page, f"claim-answered-{size}")

    staff = UserFactory(username="operator", is_staff=True)
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/**")
    page.goto(f"{live_server.url}/staff/claims/{claim.pk}/")
    expect(page.locator("#carrier-side")).to_contain_text("门口照片")
    expect(page.locator("#merchant-side")).to_contain_text("驿站取件短信")
    expect(page.locator("#merchant-side img")).to_have_count(3)
    shot(page, f"staff-claim-both-sides-{size}")
    assert_fits(page)


def test_buying_shows_the_price_first_and_the_quota_line_follows(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/orders/")
    used_before = int(page.locator("#quota-line").get_attribute("data-used"))
    for order in shop["fresh"]:
        page.check(f"tr[data-order='{order.order_number}'] input[name=orders]")
    page.check(f"tr[data-order='{shop['paid_order'].order_number}'] input[name=orders]")  # delivered: refused
    page.click("#buy-selected")
    preview = page.locator("#purchase-preview-card")
    expect(preview.locator("[data-testid=preview-total]")).to_contain_text("¥2.40")
    expect(preview.locator("[data-testid=preview-quota]")).to_contain_text(f"购买后 {used_before + 3} 单")
    expect(preview.locator("tr.refused")).to_contain_text("包裹已签收或已退回")
    check_page(page, f"purchase-preview-{size}")
    page.click("#confirm-purchase")
    result = page.locator("#purchase-result-card")
    expect(result).to_contain_text("已购买 3 单")
    expect(result).to_contain_text("¥2.40")
    # the quota line above the table refreshed itself (hx-swap-oob)
    expect(page.locator("#quota-line")).to_have_attribute("data-used", str(used_before + 3))
    check_page(page, f"purchase-done-{size}")

    # buying nothing says so, and charges nothing
    page.goto(f"{live_server.url}/dashboard/orders/")
    page.check(f"tr[data-order='{shop['paid_order'].order_number}'] input[name=orders]")
    page.click("#buy-selected")
    expect(page.locator("[data-testid=preview-nothing]")).to_contain_text("不会扣费")
    assert page.locator("#confirm-purchase").count() == 0

    # the order page offers the tier only where it can be bought
    page.goto(f"{live_server.url}/dashboard/orders/{shop['paid_order'].pk}/")
    assert page.locator("#buy-this").count() == 0
    fresh = shipped_order(merchant=shop["merchant"], carrier=shop["zto"])
    page.goto(f"{live_server.url}/dashboard/orders/{fresh.pk}/")
    expect(page.locator("#buy-this")).to_contain_text("¥0.80")
    page.click("#buy-this")
    expect(page.locator("#confirm-purchase")).to_contain_text("¥0.80")
    page.click("#confirm-purchase")
    expect(page.locator("#purchase-result-card")).to_contain_text("已购买 1 单")

    # fees exceed compensation: the balance is negative and explained as what is owed
    page.goto(f"{live_server.url}/dashboard/ledger/")
    expect(page.locator("#balance-owed")).to_contain_text("您欠平台")


def test_htmx_request_after_session_expiry_loads_the_login_page(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/orders/")
    page.context.clear_cookies()  # the session is gone
    page.select_option("#id_yinzunda", "no")
    page.click("#order-filters button[type=submit]")
    page.wait_for_url("**/accounts/login/?next=*")
    assert page.locator("#order-table").count() == 0  # not a login form nested in the table
    assert page.locator("form #id_username").count() == 1
    shot(page, f"session-expired-{size}")


def test_overview_figures_agree_and_say_what_they_count(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    expect(page.locator("[data-testid=period-money]")).to_contain_text("赔付到账 ¥5.00")
    row = page.locator("table tbody tr", has_text="中通快递")
    expect(row.locator("td").last).to_have_text("¥5.00")
    expect(page.locator("#stats-scope")).to_contain_text("实际到账")
    check_page(page, f"overview-{size}")
    assert timezone.now()


def test_bulk_evidence_export_shows_progress_and_downloads_the_zip(page, live_server, shop, size):
    _login(page, live_server, shop["member"].user.username)
    page.goto(f"{live_server.url}/dashboard/orders/")
    page.click("#export-evidence")
    page.wait_for_url("**/dashboard/exports/evidence/**")
    count = shop["merchant"].orders.count()
    expect(page.locator("#evidence-count")).to_contain_text(str(count))
    check_page(page, f"evidence-export-{size}")
    with page.expect_download() as info:
        page.click("#evidence-download")
    expect(page.locator("#evidence-progress-label")).to_have_text("已完成，文件已保存")
    assert page.locator("#evidence-progress").evaluate("e => e.value") == 2 * count + 1
    data = Path(info.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[-1] == "SHA256SUMS" and len(names) == 2 * count + 1
    shot(page, f"evidence-export-done-{size}")
