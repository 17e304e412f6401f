"""Issue 14, buyers and error pages in a real browser (Debian chromium), desktop and 390 px:
two proven orders, a typed complaint surviving an expired proof, plain errors and the rate limit,
what 音尊达 means, the 404/429 pages. Every page fits its viewport and passes axe-core."""
from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from claims.buyer.views import PROOFS_SESSION_KEY
from tests.browser.support import check_page
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import WaybillFactory

pytestmark = [pytest.mark.browser]


def _prove(page, live_server, waybill, last4=None):
    page.goto(f"{live_server.url}/complaint/")
    page.fill("#id_number", waybill.order.order_number)
    page.fill("#id_phone_last4", last4 or waybill.order.recipient_phone[-4:])
    page.click("main button[type=submit]")


def _file(page, text):
    page.check("input[name=complaint_type][value=no_call]")
    page.fill("#id_description", text)
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url("**/complaint/TS*/")
    return page.url


def test_two_proven_orders_both_stay_reachable(page, live_server, transactional_db, size):
    first, second = yinzunda_waybill(), WaybillFactory()
    deliver(first, method="door")
    _prove(page, live_server, first)
    page.wait_for_url("**/complaint/new/")
    expect(page.locator("#yinzunda-explained")).to_contain_text("送货上门")  # what 音尊达 is
    assert page.title().startswith("提交投诉") and "<" not in page.title()
    check_page(page, f"buyer-yinzunda-explained-{size}")
    first_status = _file(page, "没有打电话。")
    _prove(page, live_server, second)
    page.wait_for_url("**/complaint/new/")
    assert page.locator("#yinzunda-explained").count() == 0
    expect(page.locator("#other-orders")).to_contain_text(first.order.order_number)
    _file(page, "也没有打电话。")
    page.goto(first_status)  # the first complaint's status page still opens
    expect(page.locator("h1")).to_contain_text("TS")
    assert "不重复赔付" not in page.content()
    expect(page.locator("#support-contact")).to_contain_text("400")
    check_page(page, f"buyer-first-status-after-second-{size}")


def test_typed_complaint_survives_an_expired_proof(page, live_server, transactional_db, size):
    waybill = WaybillFactory()
    _prove(page, live_server, waybill)
    page.wait_for_url("**/complaint/new/")
    page.check("input[name=complaint_type][value=no_call]")
    page.fill("#id_description", "快递员没打电话就放驿站了，我一直在家等。")
    # the proof expires while the buyer types
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = Session.objects.get(session_key=key)
    data = session.get_decoded()
    data[PROOFS_SESSION_KEY] = {str(waybill.order_id): time.time() - 1}
    Session.objects.filter(pk=key).update(session_data=Session.objects.encode(data))
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url("**expired=1*")
    expect(page.locator("#proof-expired")).to_be_visible()
    check_page(page, f"buyer-proof-expired-{size}")
    page.fill("#id_number", waybill.order.order_number)
    page.fill("#id_phone_last4", waybill.order.recipient_phone[-4:])
    page.click("main button[type=submit]")
    page.wait_for_url("**/complaint/new/")
    expect(page.locator("#id_description")).to_have_value("快递员没打电话就放驿站了，我一直在家等。")
    expect(page.locator("input[name=complaint_type][value=no_call]")).to_be_checked()
    check_page(page, f"buyer-draft-restored-{size}")


def test_plain_errors_and_a_rate_limit_that_says_so(page, live_server, transactional_db, size):
    waybill = WaybillFactory()
    _prove(page, live_server, waybill, last4="12")
    expect(page.locator("main")).to_contain_text("请输入手机号后 4 位数字")
    check_page(page, f"buyer-digit-error-{size}")
    wrong = "0000" if waybill.order.recipient_phone[-4:] != "0000" else "1111"
    for _ in range(12):
        _prove(page, live_server, waybill, last4=wrong)
        if page.locator("#error-page").count():
            break
    expect(page.locator("#error-page")).to_have_attribute("data-status", "429")
    expect(page.locator("main")).to_contain_text("这不是说您输入的号码有误")
    check_page(page, f"buyer-rate-limited-{size}")


def test_404_page_leads_back_and_fits(page, live_server, transactional_db, size):
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.locator("#error-page")).to_have_attribute("data-status", "404")
    assert page.locator("#error-page a[href='/']").count() == 1
    check_page(page, f"error-404-{size}")
