"""Issue 14 for merchants, below the browser: the after-sales queue, dispute answers, the purchase
preview, the htmx login redirect, overview figures, inbox links, e-mails and the daily digest."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimMerchantAnswer, Complaint, Notification
from claims.services.claims import claim_dispute
from claims.services.complaints import complaint_route
from claims.services.watcher import promises_watch
from claims.tasks import notification_digests_send
from orders.models import LedgerEntry, YinzundaPurchase
from tests.factories import ComplaintFactory, MerchantUserFactory
from tests.orders.world import buy, deliver, open_claim, paid_claim, shipped_order

pytestmark = pytest.mark.django_db


def _forwarded(shop, zto, **kwargs) -> Complaint:
    order = shipped_order(merchant=shop, carrier=zto)
    complaint = ComplaintFactory(order=order, waybill=order.waybill, complaint_type="damaged", **kwargs)
    complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.FORWARDED
    return complaint


# --- after-sales queue ------------------------------------------------------------------------


def test_forwarded_complaint_is_queued_new_with_a_target_time_and_an_inbox_link(merchant_client, shop, zto):
    complaint = _forwarded(shop, zto)
    page = merchant_client.get(reverse("dashboard:aftersales")).content.decode()
    assert complaint.reference in page and "待处理" in page
    target = timezone.localtime(complaint.routed_at + timedelta(hours=48))
    assert f"{target:%Y-%m-%d %H:%M}" in page
    note = Notification.objects.get(complaint=complaint)
    assert note.link_path() == reverse("dashboard:aftersales_detail", args=[complaint.reference])
    inbox = merchant_client.get(reverse("dashboard:inbox")).content.decode()
    assert note.link_path() in inbox


def test_reply_changes_state_and_the_buyer_reads_it(merchant_client, client, shop, zto):
    complaint = _forwarded(shop, zto)
    url = reverse("dashboard:aftersales_detail", args=[complaint.reference])
    response = merchant_client.post(url, {"state": "handling", "reply": "已安排补发"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.aftersales_state == "handling" and complaint.merchant_reply == "已安排补发"
    assert complaint.merchant_replied_at is not None
    # filters: by state
    assert complaint.reference in merchant_client.get(reverse("dashboard:aftersales"), {"state": "handling"}).content.decode()
    assert complaint.reference not in merchant_client.get(reverse("dashboard:aftersales"), {"state": "new"}).content.decode()


def test_reply_with_a_bad_state_is_a_400_naming_the_field(merchant_client, shop, zto):
    complaint = _forwarded(shop, zto)
    url = reverse("dashboard:aftersales_detail", args=[complaint.reference])
    response = merchant_client.post(url, {"state": "bogus", "reply": "x"})
    assert response.status_code == 400
    assert response.context["form"].errors["state"]
    complaint.refresh_from_db()
    assert complaint.aftersales_state == "new" and complaint.merchant_reply == ""


def test_another_merchants_complaint_is_a_404(merchant_client, zto):
    other = MerchantUserFactory().merchant
    complaint = _forwarded(other, zto)
    url = reverse("dashboard:aftersales_detail", args=[complaint.reference])
    assert merchant_client.get(url).status_code == 404
    assert merchant_client.post(url, {"state": "resolved"}).status_code == 404


def test_complaint_with_a_claim_is_not_in_the_queue(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    claim = open_claim(order=order)
    url = reverse("dashboard:aftersales_detail", args=[claim.complaint.reference])
    assert merchant_client.get(url).status_code == 404


def test_queue_filter_with_bad_values_is_a_400(merchant_client):
    response = merchant_client.get(reverse("dashboard:aftersales"), {"state": "nope"})
    assert response.status_code == 400


# --- dispute answers ---------------------------------------------------------------------------


def _disputed(shop, zto) -> Claim:
    order = shipped_order(merchant=shop, carrier=zto)
    claim = open_claim(order=order)
    return claim_dispute(claim_id=claim.pk, carrier=zto, reason="已上门", evidence=[{"type": "photo", "url": "https://p.example/1.jpg"}])


def test_merchant_answers_a_disputed_claim_and_staff_sees_it(merchant_client, client, shop, zto, django_user_model):
    claim = _disputed(shop, zto)
    url = reverse("dashboard:claim_detail", args=[claim.pk])
    response = merchant_client.post(url, {"note": "买家在驿站取件", "evidence_url": "https://shop.example/sms.png"})
    assert response.status_code == 302
    answer = ClaimMerchantAnswer.objects.get(claim=claim)
    assert answer.note == "买家在驿站取件"
    staff = django_user_model.objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    page = client.get(reverse("staff:claim_detail", args=[claim.pk])).content.decode()
    assert 'id="merchant-side"' in page and "买家在驿站取件" in page and 'id="carrier-side"' in page


def test_answer_needs_a_note_and_a_disputed_claim(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    url = reverse("dashboard:claim_detail", args=[claim.pk])
    response = merchant_client.post(url, {"note": ""})
    assert response.status_code == 400 and response.context["form"].errors["note"]
    open_one = open_claim(order=shipped_order(merchant=shop, carrier=zto))
    response = merchant_client.post(reverse("dashboard:claim_detail", args=[open_one.pk]), {"note": "x"})
    assert response.status_code == 409
    assert not ClaimMerchantAnswer.objects.exists()


def test_complaints_that_joined_a_tracking_claim_are_listed_for_staff_and_merchant(
    merchant_client, shop, zto, django_user_model
):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="station")
    (claim_id,) = promises_watch(waybill_ids=[order.waybill.pk])
    complaint = ComplaintFactory(order=order, waybill=order.waybill, description="放驿站了，没打电话")
    complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    assert complaint.joined_claim_id == claim_id
    merchant_page = merchant_client.get(reverse("dashboard:claim_detail", args=[claim_id])).content.decode()
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("op", password="x", is_staff=True))
    staff_page = staff.get(reverse("staff:claim_detail", args=[claim_id])).content.decode()
    assert "新建 → 待快递答复" in staff_page and "∅" not in staff_page  # the claim's first transition
    for page in (staff_page, merchant_page):
        assert complaint.reference in page and "放驿站了，没打电话" in page and "未送货上门" in page
        assert "无买家投诉" not in page


def test_another_merchants_claim_is_a_404(merchant_client, zto):
    other = MerchantUserFactory().merchant
    claim = _disputed(other, zto)
    url = reverse("dashboard:claim_detail", args=[claim.pk])
    assert merchant_client.get(url).status_code == 404
    assert merchant_client.post(url, {"note": "x"}).status_code == 404


# --- buying with the price in view ------------------------------------------------------------


def test_preview_shows_fee_total_and_quota_and_writes_nothing(merchant_client, shop, zto):
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(2)]
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    response = merchant_client.post(
        reverse("dashboard:purchase_preview"), {"orders": [o.pk for o in orders] + [delivered.pk]}
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.total == Decimal("1.60") and len(preview.buyable) == 2
    assert preview.used_after == 2
    page = response.content.decode()
    assert "¥1.60" in page and "包裹已签收或已退回" in page
    assert not YinzundaPurchase.objects.exists() and not LedgerEntry.objects.exists()


def test_enforced_quota_is_shown_in_the_preview(merchant_client, shop, zto):
    shop.quota_mode = "enforce"
    shop.quota_percent = Decimal("1")
    shop.save()
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(3)]
    preview = merchant_client.post(reverse("dashboard:purchase_preview"), {"orders": [o.pk for o in orders]}).context["preview"]
    assert len(preview.buyable) == 1
    assert all("超出今日配额" in line.reason for line in preview.refused)


def test_purchase_that_bought_nothing_says_so(merchant_client, shop, zto):
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    page = merchant_client.post(reverse("dashboard:purchase_create"), {"orders": [delivered.pk]}, HTTP_HX_REQUEST="true").content.decode()
    assert "没有购买任何订单，未扣费" in page and "已从账户扣除" not in page


def test_htmx_purchase_refreshes_the_quota_line_out_of_band(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    page = merchant_client.post(reverse("dashboard:purchase_create"), {"orders": [order.pk]}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="quota-line"' in page and 'hx-swap-oob="true"' in page and 'data-used="1"' in page


def test_order_page_offers_the_tier_only_where_it_can_be_bought(merchant_client, shop, zto):
    fresh = shipped_order(merchant=shop, carrier=zto)
    page = merchant_client.get(reverse("dashboard:order_detail", args=[fresh.pk])).content.decode()
    assert 'id="buy-this"' in page and "¥0.80" in page
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    page = merchant_client.get(reverse("dashboard:order_detail", args=[delivered.pk])).content.decode()
    assert 'id="buy-this"' not in page and "不能购买音尊达" in page


def test_negative_balance_is_explained_as_what_is_owed(merchant_client, shop, zto):
    buy(shipped_order(merchant=shop, carrier=zto))
    page = merchant_client.get(reverse("dashboard:ledger")).content.decode()
    assert 'id="balance-owed"' in page and "您欠平台 ¥0.80" in page


# --- session expiry under htmx ----------------------------------------------------------------


def test_htmx_request_without_session_gets_hx_redirect_to_login(client):
    response = client.get(
        reverse("dashboard:orders"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/dashboard/orders/?q=1"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=")
    assert "%2Fdashboard%2Forders%2F%3Fq%3D1" in response["HX-Redirect"]
    plain = client.get(reverse("dashboard:orders"))
    assert plain.status_code == 302 and "HX-Redirect" not in plain


# --- overview figures ---------------------------------------------------------------------------


def test_overview_period_summary_and_carrier_table_count_the_same_money(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="station")
    claim = paid_claim(order=order)
    # the claim was opened 10 days ago and paid today: both figures count it (credited today)
    Claim.objects.filter(pk=claim.pk).update(opened_at=timezone.now() - timedelta(days=10))
    response = merchant_client.get(reverse("dashboard:overview"))
    assert response.context["money_period"].compensation_received == Decimal("5.00")
    assert [s.paid for s in response.context["stats"]] == [Decimal("5.00")]
    assert "实际到账" in response.content.decode()


# --- e-mail and the daily digest ----------------------------------------------------------------


def test_notification_email_carries_details_and_a_link(shop, zto, settings, django_capture_on_commit_callbacks):
    settings.YINZUNDA_SITE_URL = "https://portal.example"
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _forwarded(shop, zto, description="瓶子碎了")
    message = mail.outbox[-1]
    assert "瓶子碎了" in message.body
    assert f"https://portal.example/dashboard/aftersales/{complaint.reference}/" in message.body


def test_digest_merchants_get_one_daily_email_instead(merchant_client, shop, zto, django_capture_on_commit_callbacks):
    response = merchant_client.post(reverse("dashboard:settings"), {"email_digest": "on", "email_language": "zh-hans"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.email_digest
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first, second = _forwarded(shop, zto), _forwarded(shop, zto)
    assert mail.outbox == []  # no single e-mails
    assert notification_digests_send() == 1
    (digest,) = mail.outbox
    assert first.reference in digest.body and second.reference in digest.body
    assert "/dashboard/aftersales/" in digest.body
    assert notification_digests_send() == 0  # nothing new: no second e-mail


def test_a_merchant_chooses_english_e_mails_and_both_kinds_arrive_in_english(
    merchant_client, shop, zto, django_capture_on_commit_callbacks
):
    # the settings page offers the language; a value that is not one is a form error
    page = merchant_client.get(reverse("dashboard:settings")).content.decode()
    assert 'name="email_language"' in page and "English" in page
    bad = merchant_client.post(reverse("dashboard:settings"), {"email_language": "fr"})
    assert bad.status_code == 200 and 'role="alert"' in bad.content.decode()
    shop.refresh_from_db()
    assert shop.email_language == "zh-hans"
    # when: English is chosen, one e-mail per event
    assert merchant_client.post(reverse("dashboard:settings"), {"email_language": "en"}).status_code == 302
    shop.refresh_from_db()
    assert shop.email_language == "en" and not shop.email_digest
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        complaint = _forwarded(shop, zto, description="瓶子碎了")
    (message,) = mail.outbox
    # then the subject and the platform's words are English; the buyer's words stay as written
    assert message.subject.startswith("[Yinzunda] ") and not re.search(r"[\u4e00-\u9fff]", message.subject)
    assert "瓶子碎了" in message.body and complaint.reference in message.body
    assert "查看详情" not in message.body and "Details:" in message.body
    # and the daily digest too
    merchant_client.post(reverse("dashboard:settings"), {"email_digest": "on", "email_language": "en"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _forwarded(shop, zto)
    assert notification_digests_send() == 1
    assert mail.outbox[0].subject == "[Yinzunda] Daily digest: 1 new messages"


# --- English -------------------------------------------------------------------------------------


def test_csv_exports_carry_labels_and_codes_in_their_own_columns(merchant_client, shop, zto):
    import csv
    import io

    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="station")
    paid_claim(order=order)
    def rows(name):
        text = b"".join(merchant_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").streaming_content).decode("utf-8-sig")
        *rows, end = list(csv.reader(io.StringIO(text)))
        assert end[0] == "#END" and f"{len(rows) - 1} rows" in end[1], end  # in English too
        return rows
    orders = rows("dashboard:export_orders")
    assert orders[0][-2:] == ["Tracking status code", "Delivery method code"]
    assert orders[1][-2:] == ["delivered", "station"] and orders[1][8] != "station"
    claims = rows("dashboard:export_claims")
    assert claims[1][-2:] == ["not_to_door", "settled"] and claims[1][5] != "not_to_door"
    ledger = rows("dashboard:export_ledger")
    assert ledger[0][-1] == "Kind code" and {r[-1] for r in ledger[1:]} == {"fee", "compensation"}
    memos = {r[-1]: r[7] for r in ledger[1:]}  # stored in Chinese, exported in the reader's language
    assert memos["fee"] == f"Yinzunda service fee for {order.order_number}"
    assert memos["compensation"].startswith("Compensation for claim #") and zto.name in memos["compensation"]


def test_english_pages_show_decision_reasons_and_ledger_in_english(merchant_client, client, shop, zto):
    complaint = _forwarded(shop, zto)
    url = reverse("dashboard:aftersales_detail", args=[complaint.reference])
    page = merchant_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert complaint.decision_reason not in page  # stored in Chinese, shown translated
    buy(shipped_order(merchant=shop, carrier=zto))
    ledger = merchant_client.get(reverse("dashboard:ledger"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "音尊达服务费" not in ledger
