"""Merchant dashboard pages: login, scoping, orders, purchases, claims, ledger, inbox."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, Notification
from orders.models import LedgerEntry, YinzundaPurchase
from tests.factories import CarrierFactory, MerchantUserFactory, OrderFactory, UserFactory
from tests.orders.world import PASSWORD, buy, deliver, open_claim, paid_claim, shipped_order

pytestmark = pytest.mark.django_db


# --- login, lockout, scoping -------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("dashboard:orders"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_merchant_logs_in_lands_on_dashboard_and_logs_out(client, member):
    response = client.post(
        reverse("login"), {"username": member.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/dashboard/").status_code == 302


def test_five_wrong_passwords_lock_the_login_even_with_the_right_one(client, member):
    for _ in range(5):
        response = client.post(
            reverse("login"), {"username": member.user.username, "password": "wrong"}
        )
    assert response.status_code == 429
    response = client.post(
        reverse("login"), {"username": member.user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_user_without_merchant_gets_friendly_404(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 404
    assert "该账号未绑定商家" in response.content.decode()


def test_other_merchants_order_is_404_everywhere(merchant_client, zto):
    other = shipped_order(merchant=MerchantUserFactory().merchant, carrier=zto)
    for name in ("order_detail", "evidence", "evidence_pdf"):
        assert merchant_client.get(reverse(f"dashboard:{name}", args=[other.pk])).status_code == 404


def test_other_merchants_orders_never_listed_nor_exported(merchant_client, shop, zto):
    mine = shipped_order(merchant=shop, carrier=zto)
    theirs = shipped_order(merchant=MerchantUserFactory().merchant, carrier=zto)
    page = merchant_client.get(reverse("dashboard:orders")).content.decode()
    assert mine.order_number in page and theirs.order_number not in page
    csv_text = b"".join(
        merchant_client.get(reverse("dashboard:export_orders")).streaming_content
    ).decode()
    assert mine.order_number in csv_text and theirs.order_number not in csv_text


def test_cancelling_another_merchants_purchase_is_404_and_changes_nothing(merchant_client, zto):
    other_order = shipped_order(merchant=MerchantUserFactory().merchant, carrier=zto)
    purchase = buy(other_order)
    response = merchant_client.post(reverse("dashboard:purchase_cancel", args=[purchase.pk]))
    assert response.status_code == 404
    purchase.refresh_from_db()
    assert purchase.status == YinzundaPurchase.Status.ACTIVE


def test_marking_another_merchants_notification_read_is_404(merchant_client):
    note = Notification.objects.create(merchant=MerchantUserFactory().merchant, title="x")
    assert merchant_client.post(reverse("dashboard:inbox_read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


# --- orders list -------------------------------------------------------------------------------


def test_order_list_shows_carrier_waybill_status_badge_and_masked_recipient(
    merchant_client, shop, zto
):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    page = merchant_client.get(reverse("dashboard:orders")).content.decode()
    assert order.waybill.number in page and "中通快递" in page and "已下单" in page
    assert 'class="badge ok">音尊达' in page
    assert order.recipient_phone not in page and order.masked_phone in page


def test_order_filters_by_carrier_yinzunda_and_date(merchant_client, shop, zto):
    yto = CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")
    old = shipped_order(merchant=shop, carrier=zto, created_at=timezone.now() - timedelta(days=20))
    bought = shipped_order(merchant=shop, carrier=zto)
    buy(bought)
    other_carrier = shipped_order(merchant=shop, carrier=yto)
    url = reverse("dashboard:orders")

    page = merchant_client.get(url, {"carrier": zto.pk}).content.decode()
    assert (
        bought.order_number in page
        and old.order_number in page
        and other_carrier.order_number not in page
    )

    page = merchant_client.get(url, {"yinzunda": "yes"}).content.decode()
    assert bought.order_number in page and old.order_number not in page

    page = merchant_client.get(url, {"yinzunda": "no"}).content.decode()
    assert bought.order_number not in page and old.order_number in page

    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    page = merchant_client.get(url, {"date_from": since}).content.decode()
    assert old.order_number not in page and bought.order_number in page


def test_eligible_filter_lists_exactly_the_orders_the_purchase_rule_accepts(
    merchant_client, shop, zto
):
    ok = shipped_order(merchant=shop, carrier=zto)
    not_partner = shipped_order(merchant=shop, carrier=CarrierFactory(is_partner=False))
    foreign_waybill = shipped_order(merchant=shop, carrier=zto, is_platform_issued=False)
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    bought = shipped_order(merchant=shop, carrier=zto)
    buy(bought)
    unshipped = OrderFactory(merchant=shop)
    page = merchant_client.get(
        reverse("dashboard:orders"), {"yinzunda": "eligible"}
    ).content.decode()
    assert ok.order_number in page
    for order in (not_partner, foreign_waybill, delivered, bought, unshipped):
        assert order.order_number not in page


def test_order_filter_by_status_and_unshipped(merchant_client, shop, zto):
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    pending = shipped_order(merchant=shop, carrier=zto)
    unshipped = OrderFactory(merchant=shop)
    page = merchant_client.get(
        reverse("dashboard:orders"), {"status": "delivered"}
    ).content.decode()
    assert delivered.order_number in page and pending.order_number not in page
    page = merchant_client.get(reverse("dashboard:orders"), {"status": "none"}).content.decode()
    assert unshipped.order_number in page and pending.order_number not in page


def test_search_finds_by_order_number_or_waybill_number(merchant_client, shop, zto):
    a = shipped_order(merchant=shop, carrier=zto)
    b = shipped_order(merchant=shop, carrier=zto)
    page = merchant_client.get(reverse("dashboard:orders"), {"q": a.order_number}).content.decode()
    assert a.order_number in page and b.order_number not in page
    page = merchant_client.get(
        reverse("dashboard:orders"), {"q": b.waybill.number.lower()}
    ).content.decode()
    assert b.order_number in page and a.order_number not in page


def test_bad_filter_is_a_400_naming_the_field(merchant_client):
    response = merchant_client.get(
        reverse("dashboard:orders"), {"date_from": "2026-13-45", "carrier": "abc"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field="date_from"' in body and 'data-field="carrier"' in body


def test_bad_filter_through_htmx_returns_the_table_with_the_errors(merchant_client):
    response = merchant_client.get(
        reverse("dashboard:orders"), {"date_from": "nope"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.startswith('<div id="order-table"') and 'data-field="date_from"' in body


def test_date_range_backwards_is_a_400_on_date_to(merchant_client):
    response = merchant_client.get(
        reverse("dashboard:orders"), {"date_from": "2026-11-20", "date_to": "2026-11-01"}
    )
    assert response.status_code == 400
    assert 'data-field="date_to"' in response.content.decode()


def test_cursor_pagination_walks_forward_and_back_without_gaps(merchant_client, shop, zto):
    now = timezone.now()
    orders = [
        shipped_order(merchant=shop, carrier=zto, created_at=now - timedelta(minutes=i // 2))
        for i in range(120)
    ]
    from orders.selectors.orders import order_list

    seen, cursor, pages = [], None, []
    while True:
        page = order_list(merchant=shop, cursor=cursor)
        pages.append(page)
        seen += [o.pk for o in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(o.pk for o in orders) and len(seen) == len(set(seen))
    assert len(pages) == 3
    back = order_list(merchant=shop, cursor=pages[2].prev_cursor)
    assert [o.pk for o in back.items] == [o.pk for o in pages[1].items]


def test_garbage_cursor_shows_first_page(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    response = merchant_client.get(reverse("dashboard:orders"), {"cursor": "!!not-a-cursor"})
    assert response.status_code == 200 and order.order_number in response.content.decode()


def test_htmx_filter_returns_only_the_table(merchant_client, shop, zto):
    shipped_order(merchant=shop, carrier=zto)
    response = merchant_client.get(reverse("dashboard:orders"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<div id="order-table"') and "<html" not in body


# --- buying the tier -----------------------------------------------------------------------------


def test_buying_ten_orders_at_once_charges_each_fee_to_the_ledger(merchant_client, shop, zto):
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(10)]
    response = merchant_client.post(
        reverse("dashboard:purchase_create"), {"orders": [o.pk for o in orders]}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="bought"') == 10 and "¥8.00" in body
    assert YinzundaPurchase.objects.filter(merchant=shop, status="active").count() == 10
    fees = LedgerEntry.objects.filter(merchant=shop, kind="fee")
    assert fees.count() == 10 and sum(e.amount for e in fees) == Decimal("-8.00")


def test_each_refused_order_says_why_and_the_rest_are_bought(merchant_client, shop, zto):
    ok = shipped_order(merchant=shop, carrier=zto)
    not_partner = shipped_order(
        merchant=shop, carrier=CarrierFactory(is_partner=False, name="某快递")
    )
    foreign_waybill = shipped_order(merchant=shop, carrier=zto, is_platform_issued=False)
    delivered = shipped_order(merchant=shop, carrier=zto)
    deliver(delivered)
    already = shipped_order(merchant=shop, carrier=zto)
    buy(already)
    unshipped = OrderFactory(merchant=shop)
    foreign = shipped_order(merchant=MerchantUserFactory().merchant, carrier=zto)
    ids = [
        ok.pk,
        not_partner.pk,
        foreign_waybill.pk,
        delivered.pk,
        already.pk,
        unshipped.pk,
        foreign.pk,
    ]

    response = merchant_client.post(
        reverse("dashboard:purchase_create"), {"orders": ids}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.count('class="bought"') == 1 and body.count('class="refused"') == 6
    for reason in (
        "不是音尊达合作快递",
        "未使用平台电子面单",
        "包裹已签收或已退回",
        "已购买音尊达",
        "订单尚未发货",
        "订单不存在",
    ):
        assert reason in body
    assert not YinzundaPurchase.objects.filter(order=foreign).exists()
    assert YinzundaPurchase.objects.filter(merchant=shop, status="active").count() == 2


@pytest.mark.parametrize("payload", [{}, {"orders": ["abc"]}, {"orders": ["-3"]}])
def test_bad_selection_is_a_400_naming_orders_and_buys_nothing(merchant_client, payload):
    response = merchant_client.post(reverse("dashboard:purchase_create"), payload)
    assert response.status_code == 400
    assert 'data-field="orders"' in response.content.decode()
    assert not YinzundaPurchase.objects.exists()


def test_enforced_quota_refuses_past_the_daily_share(merchant_client, shop, zto):
    # given 100 orders in the trailing 30 days at 3%: ~3.33/day → 0.1 allowed, floored to 1
    shop.quota_percent, shop.quota_mode = Decimal("3"), "enforce"
    shop.save()
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(3)]
    response = merchant_client.post(
        reverse("dashboard:purchase_create"), {"orders": [o.pk for o in orders]}
    )
    body = response.content.decode()
    assert body.count('class="bought"') == 1 and body.count("已达今日配额") == 2


def test_warn_quota_buys_but_warns(merchant_client, shop, zto):
    shop.quota_percent = Decimal("3")
    shop.save()
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(3)]
    body = merchant_client.post(
        reverse("dashboard:purchase_create"), {"orders": [o.pk for o in orders]}
    ).content.decode()
    assert body.count('class="bought"') == 3 and "超过建议配额" in body


def test_cancel_before_pickup_refunds_the_fee(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    purchase = buy(order)
    response = merchant_client.post(
        reverse("dashboard:purchase_cancel", args=[purchase.pk]), {"order": order.pk}
    )
    assert response.status_code == 302
    refund = LedgerEntry.objects.get(merchant=shop, kind="fee_refund")
    assert refund.amount == Decimal("0.80")
    page = merchant_client.get(response.url).content.decode()
    assert "服务费已退回" in page


def test_cancel_after_pickup_is_refused_with_a_message(merchant_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto, status="picked_up")
    purchase = buy(order)
    response = merchant_client.post(
        reverse("dashboard:purchase_cancel", args=[purchase.pk]), {"order": order.pk}, follow=True
    )
    assert "包裹已揽收，不能取消" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="fee_refund").exists()


# --- order page, claims, ledger, inbox -------------------------------------------------------------


def test_order_page_shows_one_timeline_with_proof_purchase_complaint_claim_and_settlement(
    merchant_client, shop, zto
):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="station", proof_url="https://proof.example/station.jpg")
    claim = paid_claim(order=order)
    body = merchant_client.get(reverse("dashboard:order_detail", args=[order.pk])).content.decode()
    for text in (
        "购买音尊达",
        "已签收",
        "驿站/代收点",
        "https://proof.example/station.jpg",
        "买家投诉",
        f"索赔 #{claim.pk}",
        "快递已接受",
        "已赔付",
        "快递赔付",
        f"结算单 {claim.settlement.reference} 已出具",
        f"结算单 {claim.settlement.reference} 已付款",
    ):
        assert text in body, text
    assert order.recipient_phone not in body
    # one timeline, oldest first: bought before delivered before the complaint before the payment
    timeline = body[body.index('<ol class="timeline">') :]
    positions = [timeline.index(t) for t in ("购买音尊达", "驿站/代收点", "买家投诉", "已付款")]
    assert positions == sorted(positions)


def test_claims_page_shows_states_money_and_net_benefit(merchant_client, shop, zto):
    paid_order, open_order = (
        shipped_order(merchant=shop, carrier=zto),
        shipped_order(merchant=shop, carrier=zto),
    )
    buy(paid_order)
    buy(open_order)
    paid_claim(order=paid_order, amount=Decimal("5.00"))
    open_claim(order=open_order)
    response = merchant_client.get(reverse("dashboard:claims"))
    body = response.content.decode()
    assert response.status_code == 200
    # net benefit = ¥5.00 received − 2 × ¥0.80 fees
    assert "¥3.40" in body and "¥1.60" in body and "¥5.00" in body
    settled_only = merchant_client.get(
        reverse("dashboard:claims"), {"status": "settled"}
    ).content.decode()
    assert paid_order.order_number in settled_only and open_order.order_number not in settled_only


def test_last_weeks_paid_claims_link_lists_only_settled_claims_of_the_week(
    merchant_client, shop, zto
):
    recent = paid_claim(order=shipped_order(merchant=shop, carrier=zto))
    old = paid_claim(order=shipped_order(merchant=shop, carrier=zto))
    Claim.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=20))
    pending = open_claim(order=shipped_order(merchant=shop, carrier=zto))
    page = merchant_client.get(reverse("dashboard:claims")).content.decode()
    link = re.search(r'href="\?([^"]+)" id="last-week-paid"', page).group(1).replace("&amp;", "&")
    body = merchant_client.get(reverse("dashboard:claims") + "?" + link).content.decode()
    assert f'data-claim="{recent.pk}"' in body
    assert f'data-claim="{old.pk}"' not in body and f'data-claim="{pending.pk}"' not in body


def test_ledger_shows_running_balance(merchant_client, shop, zto):
    a, b = shipped_order(merchant=shop, carrier=zto), shipped_order(merchant=shop, carrier=zto)
    buy(a)
    buy(b)
    paid_claim(order=a, amount=Decimal("5.00"))
    body = merchant_client.get(reverse("dashboard:ledger")).content.decode()
    # newest first: +5.00 → 3.40, −0.80 → −1.60, −0.80 → −0.80
    assert body.index("¥3.40") < body.index("-¥1.60") < body.rindex("-¥0.80")


def test_overview_shows_rates_per_carrier_and_charts(merchant_client, shop, zto):
    door, station = (
        shipped_order(merchant=shop, carrier=zto),
        shipped_order(merchant=shop, carrier=zto),
    )
    buy(door)
    deliver(door, method="door")
    deliver(station, method="station")
    paid_claim(order=station)
    response = merchant_client.get(reverse("dashboard:overview"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "中通快递" in body and "50.0%" in body  # door-delivery rate 1 of 2
    assert "50.00%" in body  # complaint rate 1 of 2
    # two charts, each drawn for a wide screen and for a phone (site.css shows one of each pair)
    assert body.count("<svg") == 4
    assert body.count('class="chart-narrow"') == 2


def test_inbox_mark_read_with_htmx_returns_the_row(merchant_client, shop):
    note = Notification.objects.create(merchant=shop, title="索赔已接受")
    response = merchant_client.post(
        reverse("dashboard:inbox_read", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "已读" in response.content.decode()
    note.refresh_from_db()
    assert note.read_at is not None


def test_inbox_mark_all_read(merchant_client, shop):
    for i in range(3):
        Notification.objects.create(merchant=shop, title=f"n{i}")
    merchant_client.post(reverse("dashboard:inbox_read_all"))
    assert not Notification.objects.filter(merchant=shop, read_at__isnull=True).exists()


def test_pages_render_in_english(merchant_client, shop, zto):
    shipped_order(merchant=shop, carrier=zto)
    merchant_client.cookies["django_language"] = "en"
    response = merchant_client.get(reverse("dashboard:orders"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"


def test_a_cancelled_order_says_so_in_the_list_and_on_its_page(merchant_client, shop):
    order = OrderFactory(merchant=shop, cancelled_at=timezone.now())
    listing = merchant_client.get(reverse("dashboard:orders")).content.decode()
    assert "订单已取消" in listing
    page = merchant_client.get(reverse("dashboard:order_detail", args=[order.pk])).content.decode()
    assert "订单已取消" in page
