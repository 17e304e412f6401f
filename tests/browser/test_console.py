"""An operator in a real browser: the scorecard with a drill-down and CSV, the arbitration queue,
a ruling and a late second ruling, a new tariff version that leaves old claims on theirs."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from carriers.models import Tariff
from claims.models import Claim
from claims.services.scorecard import scorecard_refresh
from tests.browser.conftest import fits_the_screen, shot
from tests.claims.test_scorecard import _station_breach
from tests.claims.test_views import disputed_claim
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]
PASSWORD = "pass-word-123"


@pytest.fixture
def world(transactional_db):
    operators = [UserFactory(username=name, is_staff=True, is_superuser=True) for name in ("op-chen", "op-liu")]
    breach = _station_breach()
    disputed = disputed_claim()
    scorecard_refresh()
    return {"operators": operators, "breach": breach, "disputed": disputed}


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_operator_reads_the_scorecard_drills_into_a_carrier_and_a_city_and_exports(desk_page, live_server, world):
    page = desk_page
    _login(page, live_server, "op-chen")
    page.goto(f"{live_server.url}/staff/scorecard/")
    expect(page.locator("h1")).to_contain_text("快递公司评分")
    expect(page.locator("body")).to_contain_text("本周谁最常违反送货上门承诺")
    assert page.locator("svg.chart").count() == 1
    shot(page, "console-scorecard")
    page.click(f"table >> text={world['breach'].carrier.name}")
    expect(page.locator("body")).to_contain_text("违约按收件城市")
    expect(page.locator("body")).to_contain_text("杭州市")
    shot(page, "console-scorecard-carrier")
    page.goto(f"{live_server.url}/staff/scorecard/")
    with page.expect_download() as info:
        page.click("text=导出 CSV（近 8 周）")
    content = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert world["breach"].carrier.code in content


def test_operator_rules_and_a_late_second_operator_is_told_who_ruled(chromium, live_server, world):
    claim = world["disputed"]
    pages = []
    for username in ("op-chen", "op-liu"):
        context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _login(page, live_server, username)
        page.goto(f"{live_server.url}/staff/claims/")
        expect(page.locator("body")).to_contain_text(claim.waybill.number)
        page.click(f"a[href='/staff/claims/{claim.pk}/']")
        page.wait_for_url(f"**/staff/claims/{claim.pk}/")
        pages.append(page)
    first, late = pages
    for page, decision, reason in ((first, "dismiss", "门口照片清晰，驳回"), (late, "uphold", "支持赔付")):
        page.check(f"input[name=decision][value={decision}]")
        page.fill("textarea[name=reason]", reason)
        page.check("input[name=confirm]")
    first.click("text=提交仲裁")
    expect(first.locator("body")).to_contain_text("裁定已提交")
    late.click("text=提交仲裁")
    expect(late.locator("body")).to_contain_text("该索赔已有结论")
    expect(late.locator("body")).to_contain_text("op-chen")
    shot(late, "console-late-ruling")
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.DISMISSED
    for page in pages:
        page.context.close()


def test_operator_creates_a_tariff_version_and_old_claims_keep_theirs(desk_page, live_server, world):
    page = desk_page
    claim = world["disputed"]
    old = claim.tariff
    _login(page, live_server, "op-chen")
    page.goto(f"{live_server.url}/admin/carriers/tariff/{old.pk}/change/")
    expect(page.locator("body")).to_contain_text("不能修改")
    page.goto(f"{live_server.url}/admin/carriers/tariff/?carrier__id__exact={old.carrier_id}")
    page.check(f"input[name=_selected_action][value='{old.pk}']")
    page.select_option("select[name=action]", "new_version")
    page.click("button[name=index]")
    expect(page.locator("body")).to_contain_text(f"v{old.version + 1}")
    shot(page, "console-tariff-version")
    assert Tariff.objects.filter(carrier=old.carrier, version=old.version + 1).exists()
    assert Claim.objects.get(pk=claim.pk).tariff_id == old.pk


def test_console_pages_fit_a_phone(phone_page, live_server, world):
    page = phone_page
    _login(page, live_server, "op-chen")
    for path, name in (("/staff/", "console-home"), ("/staff/claims/", "console-queue"), ("/staff/scorecard/", "console-scorecard")):
        page.goto(live_server.url + path)
        assert fits_the_screen(page), path
        shot(page, f"{name}-390")
