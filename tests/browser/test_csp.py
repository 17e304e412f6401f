"""Every kind of page renders and works under the strict Content-Security-Policy, and the
browser reports no violation (issue 9, reproduction 10): buyer pages with a photo upload, the
merchant dashboard with its photo, evidence page, select-all and print, the staff claim page,
the Django admin and the API docs."""
from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from PIL import Image
from playwright.sync_api import expect

from claims.models import Claim
from claims.services.complaints import complaint_file, complaint_route
from tests.browser import csp
from tests.browser.support import ARTIFACTS
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import MerchantUserFactory, UserFactory
from tests.orders.world import PASSWORD, shipped_order
from yinzunda.images import image_reencode

pytestmark = [pytest.mark.browser]


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.violations = csp.watch(context)
    # window.print would open a dialog: record that the button asked for it instead.
    context.add_init_script("window.print = function () { window.__printed = true; };")
    yield context
    context.close()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 16, 46)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def claim(transactional_db) -> Claim:
    cache.clear()
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = complaint_file(
        order=waybill.order, complaint_type="not_to_door", description="放驿站了",
        photos=[image_reencode(io.BytesIO(_png()))],
    )
    complaint_route(complaint_id=complaint.pk)
    return Claim.objects.select_related("order", "complaint").get(complaint=complaint)


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    page.wait_for_load_state("load")


def _images_loaded(page, selector: str) -> int:
    page.locator(selector).first.wait_for()
    return page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r})).filter(i => i.complete && i.naturalWidth > 0).length"
    )


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"csp-{name}.png"), full_page=True)


def _login(page, live_server, username: str, landing: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{landing}**")


def test_buyer_pages_under_the_policy(context, live_server, claim, tmp_path):
    page = context.new_page()
    for path in ("/", "/accounts/login/", "/complaint/"):
        _visit(page, live_server.url + path)
    page.fill("#id_number", claim.order.order_number)
    page.fill("#id_phone_last4", claim.order.recipient_phone[-4:])
    page.click("button[type=submit]")
    page.wait_for_url("**/complaint/new/")
    photo = tmp_path / "box_photo.png"
    photo.write_bytes(_png())
    page.check("input[name=complaint_type][value=not_to_door]")
    page.set_input_files("input[type=file]", str(photo))
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator("main")).to_contain_text("已上传 1 张照片")
    assert not context.violations, context.violations


def test_merchant_dashboard_under_the_policy(context, live_server, claim):
    member = MerchantUserFactory(merchant=claim.order.merchant)
    for _ in range(2):  # orders the tier can still be bought for: the table shows their checkboxes
        shipped_order(merchant=claim.order.merchant, carrier=claim.carrier)
    page = context.new_page()
    _login(page, live_server, member.user.username, "/dashboard/")
    base = live_server.url + "/dashboard/"
    for path in ("", "orders/", "claims/", "ledger/", "inbox/", f"orders/{claim.order_id}/"):
        _visit(page, base + path)
    # The complaint photo opens through the authorized view as an image.
    with context.expect_page() as opened:
        page.click("ol.timeline a[href*='/dashboard/photos/']")
    photo_page = opened.value
    photo_page.wait_for_load_state()
    assert photo_page.evaluate("document.images.length === 1 && document.images[0].naturalWidth === 64")
    photo_page.close()
    # The evidence page shows the photo inline and its print button works without inline script.
    _visit(page, base + f"orders/{claim.order_id}/evidence/")
    assert _images_loaded(page, "img.evidence-photo") == 1
    _shot(page, "evidence-photo")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed === true")
    # Select-all ticks every order's checkbox (site.js, not an inline handler).
    _visit(page, base + "orders/")
    boxes = page.locator("input[name=orders]")
    assert boxes.count() >= 2
    page.check("input[data-check-all=orders]")
    assert all(box.is_checked() for box in boxes.all())
    page.uncheck("input[data-check-all=orders]")
    assert not any(box.is_checked() for box in boxes.all())
    # The language switch submits on change (site.js).
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert not context.violations, context.violations


def test_staff_admin_and_api_docs_under_the_policy(context, live_server, claim, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    page = context.new_page()
    _login(page, live_server, "root", "/staff/claims/")
    _visit(page, f"{live_server.url}/staff/claims/?status=all")
    _visit(page, f"{live_server.url}/staff/claims/{claim.pk}/")
    assert _images_loaded(page, "img.complaint-photo") == 1
    _shot(page, "staff-claim")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "staff-claim-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    for path in ("/admin/", "/admin/claims/claim/", f"/admin/claims/complaint/{claim.complaint_id}/change/"):
        _visit(page, live_server.url + path)
    _visit(page, f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert not context.violations, context.violations


def test_a_plain_user_sees_no_photo_and_no_violation(context, live_server, claim):
    UserFactory(username="nobody")
    page = context.new_page()
    photo = claim.complaint.photos.get()
    response = page.goto(f"{live_server.url}/dashboard/photos/{photo.pk}/")
    assert response.status == 404
    assert not context.violations, context.violations
