"""The operator console: each carrier's onboarding checklist gates going live; alerts name what
needs a human (claims near their deadline, disputes past target, failing endpoints, breach jumps,
a ledger that does not balance)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carriers.models import Carrier, CarrierToken, WebhookDelivery
from carriers.services import carrier_token_create
from carriers.webhooks import PostResult
from claims.models import CarrierWeekScore, Claim
from claims.selectors.console import carrier_checklist, console_alerts
from claims.services.scorecard import week_start_of
from orders.models import YinzundaPurchase
from tests.claims.test_views import disputed_claim
from tests.factories import CarrierFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True, username="op-zhao"))
    return client


@pytest.fixture
def newcomer():
    """A carrier being onboarded: a tariff paying every promise, nothing else yet."""
    return CarrierFactory(code="JTX", name="极兔", is_partner=False, webhook_url="https://hooks.jitu.example/yz")


def _answered(status=200):
    return mock.patch("carriers.webhooks.post_signed", return_value=PostResult(status, "", 12))


def test_a_new_carrier_is_not_ready_and_cannot_go_live(operator, newcomer):
    checklist = carrier_checklist(carrier=newcomer)
    assert not checklist.ready
    assert [item.ok for item in checklist.items] == [True, False, False, False, False]
    response = operator.post(reverse("staff:carrier_go_live", args=[newcomer.pk]), follow=True)
    assert "上线检查清单尚未全部通过" in response.content.decode()
    assert not Carrier.objects.get(pk=newcomer.pk).is_partner


def test_all_green_then_go_live(operator, newcomer):
    carrier_token_create(carrier=newcomer)
    sandbox, _raw = carrier_token_create(carrier=newcomer)
    CarrierToken.objects.filter(pk=sandbox.pk).update(prefix="yzd_test_abc", last_used_at=timezone.now())
    with _answered(204) as sent:
        page = operator.post(reverse("staff:carrier_ping", args=[newcomer.pk]), follow=True)
    assert sent.call_args.kwargs["url"] == newcomer.webhook_url
    assert sent.call_args.kwargs["payload"]["type"] == "ping"
    assert "测试回调已送达" in page.content.decode()
    Carrier.objects.filter(pk=newcomer.pk).update(last_scan_at=timezone.now())
    newcomer.refresh_from_db()
    assert carrier_checklist(carrier=newcomer).ready
    operator.post(reverse("staff:carrier_go_live", args=[newcomer.pk]))
    newcomer.refresh_from_db()
    assert newcomer.is_partner and newcomer.live_since is not None
    assert newcomer.history.order_by("-history_date").first().history_user.username == "op-zhao"


def test_a_failed_ping_says_what_came_back_and_a_changed_url_needs_a_new_ping(operator, newcomer):
    with _answered(500):
        page = operator.post(reverse("staff:carrier_ping", args=[newcomer.pk]), follow=True)
    assert "测试回调未成功" in page.content.decode() and "HTTP 500" in page.content.decode()
    assert not Carrier.objects.get(pk=newcomer.pk).webhook_is_verified()
    with _answered(200):
        operator.post(reverse("staff:carrier_ping", args=[newcomer.pk]))
    assert Carrier.objects.get(pk=newcomer.pk).webhook_is_verified()
    Carrier.objects.filter(pk=newcomer.pk).update(webhook_url="https://elsewhere.example/yz")
    assert not Carrier.objects.get(pk=newcomer.pk).webhook_is_verified()


def test_admin_cannot_tick_partner_for_a_carrier_not_yet_live(client, newcomer):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/carriers/carrier/{newcomer.pk}/change/")
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    created = timezone.localtime(newcomer.created_at)
    data.update({
        "is_partner": "on", "created_at_0": created.strftime("%Y-%m-%d"), "created_at_1": created.strftime("%H:%M:%S"),
        "tokens-TOTAL_FORMS": "0", "tokens-INITIAL_FORMS": "0",
    })
    response = client.post(f"/admin/carriers/carrier/{newcomer.pk}/change/", data)
    assert response.status_code == 200
    assert "is_partner" in response.context["adminform"].form.errors
    assert not Carrier.objects.get(pk=newcomer.pk).is_partner


def test_alerts_name_what_needs_a_human(operator):
    cache.delete("console:ledger-problem")
    soon = disputed_claim()
    Claim.objects.filter(pk=soon.pk).update(status=Claim.Status.OPEN, deadline_at=timezone.now() + timedelta(hours=2))
    late = disputed_claim()
    Claim.objects.filter(pk=late.pk).update(updated_at=timezone.now() - timedelta(hours=72))
    WebhookDelivery.objects.create(
        carrier=late.carrier, event_id="evt_x", sequence=1000, event_type="claim.opened", payload={}, attempt_count=4,
        next_attempt_at=timezone.now(),
    )
    week = week_start_of(timezone.now())
    CarrierWeekScore.objects.create(carrier=late.carrier, week_start=week, parcels=100, breaches={"not_to_door": 3})
    CarrierWeekScore.objects.create(carrier=late.carrier, week_start=week - timedelta(weeks=1), parcels=100)
    # a purchase whose fee never reached the ledger: the books disagree
    order = OrderFactory()
    YinzundaPurchase.objects.create(order=order, merchant=order.merchant, tariff=late.tariff, fee=Decimal("0.80"))
    alerts = console_alerts()
    assert [c.pk for c in alerts.near_deadline] == [soon.pk]
    assert alerts.disputes_over_target == 1
    assert [f["carrier_id"] for f in alerts.failing_endpoints] == [late.carrier_id]
    assert [r.carrier.pk for r in alerts.breach_jumps] == [late.carrier_id]
    page = operator.get(reverse("staff:console")).content.decode()
    assert "即将超时" in page and "仲裁超时" in page and "回调失败" in page and "违约上升" in page
    assert "账本不平" in page and "fees_ledger" in alerts.ledger_problem


def test_console_pages_need_staff(client, newcomer):
    assert client.get(reverse("staff:console")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("staff:carrier_onboarding", args=[newcomer.pk])).status_code == 403
    assert client.post(reverse("staff:carrier_go_live", args=[newcomer.pk])).status_code == 403


def test_console_home_query_count_does_not_grow_with_carriers(operator):
    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert operator.get(reverse("staff:console")).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        carrier_token_create(carrier=CarrierFactory())
    few = queries()
    for _ in range(6):
        carrier_token_create(carrier=CarrierFactory())
    assert queries() == few
