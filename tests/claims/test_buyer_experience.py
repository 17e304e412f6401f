"""Issue 14 for buyers: several proven orders, a typed complaint surviving an expired proof, plain
errors, what 音尊达 means, no internal text, the platform contact; and the error pages."""
from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import path, reverse

from claims.buyer.views import PROOFS_SESSION_KEY
from claims.models import Complaint
from claims.services.complaints import complaint_route
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.claims.test_views import complaint_post, prove
from tests.factories import WaybillFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _file(client, waybill) -> Complaint:
    assert prove(client, waybill).status_code == 302
    response = complaint_post(client)
    assert response.status_code == 302
    return Complaint.objects.filter(order=waybill.order).latest("id")


def test_a_buyer_who_proved_two_orders_keeps_both(client):
    first, second = WaybillFactory(), WaybillFactory()
    complaint_one = _file(client, first)
    complaint_two = _file(client, second)
    for complaint in (complaint_one, complaint_two):
        response = client.get(reverse("buyer:complaint_status", args=[complaint.reference]))
        assert response.status_code == 200, complaint.reference
    # the complaint page lists the other proven order and can switch to it
    page = client.get(reverse("buyer:complaint_new")).content.decode()
    assert first.order.order_number in page and f"?order={first.order_id}" in page
    page = client.get(reverse("buyer:complaint_new"), {"order": first.order_id}).content.decode()
    assert complaint_one.reference in page


def test_an_order_not_proven_is_not_reachable_by_switching(client):
    mine, other = WaybillFactory(), WaybillFactory()
    prove(client, mine)
    page = client.get(reverse("buyer:complaint_new"), {"order": other.order_id}).content.decode()
    assert other.order.order_number not in page and mine.order.order_number in page


def test_the_typed_complaint_survives_an_expired_proof(client):
    waybill = WaybillFactory()
    prove(client, waybill)
    session = client.session
    session[PROOFS_SESSION_KEY] = {str(waybill.order_id): time.time() - 1}
    session.save()
    response = complaint_post(client, complaint_type="no_call", description="没有打电话就放驿站了，我一直在家。")
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert not Complaint.objects.exists()
    start = client.get(response["Location"]).content.decode()
    assert 'id="proof-expired"' in start
    # re-prove, then continue with the same text
    assert prove(client, waybill).status_code == 302
    page = client.get(reverse("buyer:complaint_new")).content.decode()
    assert "没有打电话就放驿站了，我一直在家。" in page and 'id="draft-restored"' in page
    assert "checked" in page.split('value="no_call"')[1].split(">")[0]


@pytest.mark.parametrize("last4", ["", "12", "12345", "abcd"])
def test_phone_digit_errors_are_plain_chinese(client, last4):
    waybill = WaybillFactory()
    response = client.post(reverse("buyer:complaint_start"), {"number": waybill.order.order_number, "phone_last4": last4})
    assert response.status_code == 400
    assert response.context["form"].errors["phone_last4"] == ["请输入手机号后 4 位数字"]


def test_buyer_is_told_what_yinzunda_is_and_never_sees_claim_ids(client, django_capture_on_commit_callbacks):
    waybill = yinzunda_waybill()
    deliver(waybill, method="station")
    assert prove(client, waybill).status_code == 302
    page = client.get(reverse("buyer:complaint_new")).content.decode()
    assert 'id="yinzunda-explained"' in page and "送货上门" in page
    with django_capture_on_commit_callbacks(execute=True):
        first = complaint_post(client)
    with django_capture_on_commit_callbacks(execute=True):
        second = complaint_post(client, submission_token=str(uuid.uuid4()))
    complaint = Complaint.objects.get(reference=second["Location"].rstrip("/").rsplit("/", 1)[-1])
    complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert "#" in complaint.decision_reason  # the merchant's text names the claim...
    body = client.get(second["Location"]).content.decode()
    assert "不重复赔付" not in body and "索赔 #" not in body  # ...the buyer's page does not
    assert first.status_code == 302


def test_platform_contact_is_a_setting_shown_to_the_buyer(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "客服电话 400-123-4567", "en": ""}
    waybill = WaybillFactory()
    complaint = _file(client, waybill)
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert "客服电话 400-123-4567" in body


def test_unrelated_order_without_yinzunda_gets_no_explanation(client):
    waybill = WaybillFactory()
    prove(client, waybill)
    assert 'id="yinzunda-explained"' not in client.get(reverse("buyer:complaint_new")).content.decode()


# --- error pages ---------------------------------------------------------------------------------


def test_404_page_leads_back_in_both_languages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'id="error-page"' in body and "页面不存在" in body and 'href="/"' in body
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page not found" in english


def test_403_page(client, django_user_model):
    user = django_user_model.objects.create_user("plain", password="x")
    client.force_login(user)
    response = client.get(reverse("staff:claim_list"))
    assert response.status_code == 403
    assert 'id="error-page"' in response.content.decode()


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]
handler500 = "yinzunda.views.server_error"  # as yinzunda/urls.py declares it


def test_500_page_is_bilingual_with_the_contact(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "客服电话 400-123-4567", "en": "Customer service 400-123-4567"}
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF=__name__):
        response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "服务暂时出错" in body and "Something went wrong" in body and "400-123-4567" in body


def test_500_page_carries_the_contact_in_both_languages(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "", "en": ""}
    settings.YINZUNDA_SUPPORT_PHONE, settings.YINZUNDA_SUPPORT_HOURS = "400-765-4321", "8:00–20:00"
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF=__name__):
        body = client.get("/boom/").content.decode()
    assert "平台客服热线 400-765-4321（每天 8:00–20:00）" in body
    assert "Platform customer service: 400-765-4321 (daily 8:00–20:00)" in body


# --- the platform's contact, per language (issue 14 item 14) ----------------------------------


def test_contact_is_worded_in_the_readers_language_from_phone_and_hours(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "", "en": ""}
    settings.YINZUNDA_SUPPORT_PHONE, settings.YINZUNDA_SUPPORT_HOURS = "400-765-4321", "8:00–20:00"
    complaint = _file(client, WaybillFactory())
    url = reverse("buyer:complaint_status", args=[complaint.reference])
    chinese = client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "平台客服热线 400-765-4321（每天 8:00–20:00）" in chinese
    assert "Platform customer service: 400-765-4321 (daily 8:00–20:00)" in english
    assert "平台客服" not in english and "（" not in english.split('id="support-contact"')[1].split("</p>")[0]


def test_a_whole_contact_line_per_language_wins(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "请拨打 95000 转 8", "en": "Call 95000, option 8 (24 h)"}
    complaint = _file(client, WaybillFactory())
    url = reverse("buyer:complaint_status", args=[complaint.reference])
    assert "请拨打 95000 转 8" in client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Call 95000, option 8 (24 h)" in english and "请拨打" not in english


def test_english_error_page_shows_the_english_contact(client, settings):
    settings.YINZUNDA_SUPPORT_CONTACT = {"zh-hans": "中文热线", "en": "English line 400-1"}
    body = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "English line 400-1" in body and "中文热线" not in body
