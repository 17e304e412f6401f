"""A buyer on a phone files a complaint in a real browser (Debian chromium via Playwright).

Screenshots go to test-artifacts/ (gitignored; CI uploads them).
"""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from claims.models import Claim, Complaint
from tests.browser import csp
from tests.claims.test_routing import deliver, yinzunda_waybill

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def phone():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
            has_touch=True,
        )
        context.set_default_timeout(15_000)
        violations = csp.watch(context)
        page = context.new_page()
        yield page
        page.wait_for_timeout(100)  # a late report still arrives
        context.close()
        browser.close()
        assert not violations, violations


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_buyer_files_a_station_complaint_and_sees_the_claim(phone, live_server, transactional_db, tmp_path):
    cache.clear()
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    photo = tmp_path / "door.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buffer, "PNG")
    photo.write_bytes(buffer.getvalue())
    ARTIFACTS.mkdir(exist_ok=True)

    page = phone
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="投诉 / 查询进度").click()
    page.get_by_label("订单号或快递单号").fill(waybill.number)
    page.get_by_label("收件手机号后四位").fill(waybill.order.recipient_phone[-4:])
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "buyer-1-prove.png"), full_page=True)
    page.get_by_role("button", name="核验订单").click()

    expect(page.get_by_text(waybill.order.masked_phone)).to_be_visible()
    page.get_by_label("未经同意放快递柜/驿站").check()
    page.get_by_label("问题描述").fill("没有打电话，直接放在驿站。")
    page.set_input_files("input[type=file]", str(photo))
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "buyer-2-complaint.png"), full_page=True)
    page.get_by_role("button", name="提交投诉").click()

    complaint = Complaint.objects.get()
    expect(page.get_by_role("heading", name=f"投诉编号 {complaint.reference}")).to_be_visible()
    page.reload()  # routing ran on commit (eager in tests); the page now shows the claim
    expect(page.get_by_role("link", name="国家邮政局邮政业用户申诉")).to_be_visible()
    claim = Claim.objects.get()
    expect(page.get_by_text(claim.carrier.name).first).to_be_visible()
    assert fits_the_screen(page)
    page.screenshot(path=str(ARTIFACTS / "buyer-3-status.png"), full_page=True)
    assert complaint.photos.count() == 1
