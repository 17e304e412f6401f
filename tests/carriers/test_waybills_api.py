"""Waybill sync for carriers: their own platform waybills, service flags with times, scans, masked destination."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from carriers.api.waybills import WaybillDetailOutput, WaybillOutput
from orders.services import purchase_cancel, purchase_create
from orders.shipping import shipments_create
from tests.factories import MerchantFactory, OrderFactory
from waybills.models import EventCode, Waybill
from waybills.selectors import carrier_waybill_detail, carrier_waybills_list

from .conftest import event

pytestmark = pytest.mark.django_db
SVC = "SVC-WBHOMEDELIVERY"


def _ship(carrier, n=1, merchant=None):
    merchant = merchant or MerchantFactory()
    orders = [OrderFactory(merchant=merchant) for _ in range(n)]
    # issued two hours ago: scans dated before the issue are refused (DESIGN §3a scan integrity)
    return [r.waybill for r in shipments_create(merchant=merchant, order_ids=[o.pk for o in orders], carrier_id=carrier.pk,
                                                now=timezone.now() - timedelta(hours=2))]


def test_list_shows_only_own_waybills_with_masked_destination(client_a, carrier_a, carrier_b):
    (mine,) = _ship(carrier_a)
    _ship(carrier_b)
    body = client_a.get("/api/v1/carrier/waybills").json()
    assert [w["number"] for w in body["results"]] == [mine.number]
    item = body["results"][0]
    assert item["destination"] == {"province": "浙江省", "city": "杭州市", "district": "西湖区"}
    assert item["status"] == "created" and item["delivery_method"] is None
    assert item["service_codes"] == [] and item["services"] == []
    assert "文三路" not in str(body) and "张三" not in str(body)
    assert body["next_cursor"] is None


def test_tier_changes_show_with_their_times_and_move_the_sync_cursor(client_a, carrier_a):
    (waybill,) = _ship(carrier_a)
    merchant = waybill.order.merchant
    first = client_a.get("/api/v1/carrier/waybills").json()["results"][0]
    purchase = purchase_create(merchant=merchant, order_id=waybill.order_id)
    since = first["updated_at"]
    bought = client_a.get("/api/v1/carrier/waybills", {"updated_since": since, "service": SVC}).json()["results"]
    assert [w["number"] for w in bought] == [waybill.number]
    (service,) = bought[0]["services"]
    assert service["code"] == SVC and service["active"] is True and service["removed_at"] is None
    assert service["added_at"] is not None and bought[0]["updated_at"] > since
    purchase_cancel(merchant=merchant, purchase_id=purchase.pk)
    after = client_a.get("/api/v1/carrier/waybills", {"updated_since": bought[0]["updated_at"]}).json()["results"]
    (service,) = after[0]["services"]
    assert service["active"] is False and service["removed_at"] is not None
    assert client_a.get("/api/v1/carrier/waybills", {"service": SVC}).json()["results"] == []


def test_scans_move_the_waybill_in_the_sync(client_a, carrier_a):
    (waybill,) = _ship(carrier_a)
    before = client_a.get("/api/v1/carrier/waybills").json()["results"][0]["updated_at"]
    assert client_a.push([event(waybill, "PICKED_UP", minutes_ago=5)]).json()["accepted"] == 1
    rows = client_a.get("/api/v1/carrier/waybills", {"updated_since": before}).json()["results"]
    assert rows[0]["status"] == "picked_up" and rows[0]["updated_at"] > before


def test_the_cursor_walks_every_waybill_once(client_a, carrier_a):
    waybills = _ship(carrier_a, n=5)
    seen, url = [], "/api/v1/carrier/waybills?page_size=2"
    while url:
        body = client_a.get(url).json()
        seen += [w["number"] for w in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(w.number for w in waybills) and len(seen) == 5


def test_detail_has_scans_as_stored_and_another_carriers_waybill_is_not_found(client_a, client_b, carrier_a):
    (waybill,) = _ship(carrier_a)
    client_a.push([event(waybill, "PICKED_UP", minutes_ago=30, location="杭州西湖网点")])
    body = client_a.get(f"/api/v1/carrier/waybills/{waybill.number}").json()
    assert body["number"] == waybill.number
    (scan,) = body["scans"]
    assert scan["code"] == "PICKED_UP" and scan["location"] == "杭州西湖网点" and scan["delivery_method"] is None
    other = client_b.get(f"/api/v1/carrier/waybills/{waybill.number}")
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    # a number no waybill can have is bad input, named as such (a valid one not yours stays a 404)
    bad = client_a.get("/api/v1/carrier/waybills/NOT-A-NUMBER")
    assert bad.status_code == 400 and "格式" in bad.json()["error"]["fields"]["number"][0]
    typo = waybill.number[:-1] + str((int(waybill.number[-1]) + 1) % 10)
    wrong = client_a.get(f"/api/v1/carrier/waybills/{typo}")
    assert wrong.status_code == 400 and "校验位" in wrong.json()["error"]["fields"]["number"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [("service=SVC-OTHER", "service"), ("updated_since=yesterday", "updated_since"), ("status=lost", "status"),
     ("cursor=%%%", "cursor"), ("page_size=0", "page_size")],
)
def test_bad_filters_name_the_field(client_a, query, field):
    response = client_a.get(f"/api/v1/carrier/waybills?{query}")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_the_list_costs_a_fixed_number_of_queries(client_a, carrier_a, django_assert_max_num_queries):
    merchant = MerchantFactory()
    for waybill in _ship(carrier_a, n=6, merchant=merchant):
        purchase_create(merchant=merchant, order_id=waybill.order_id, now=timezone.now() - timedelta(seconds=1))
    with django_assert_max_num_queries(6):
        assert len(client_a.get("/api/v1/carrier/waybills").json()["results"]) == 6


def test_the_schema_enums_are_the_models_vocabularies(settings):
    overrides = settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
    assert import_string(overrides["WaybillStatusEnum"]) == Waybill.Status.values
    assert import_string(overrides["EventCodeEnum"]) == EventCode.values
    assert import_string(overrides["ServiceCodeEnum"]) == [settings.YINZUNDA_SERVICE_CODE]


def test_the_hand_written_answers_match_the_documented_serializers(client_a, carrier_a):
    (waybill,) = _ship(carrier_a)
    purchase_create(merchant=waybill.order.merchant, order_id=waybill.order_id)
    client_a.push([event(waybill, "PICKED_UP", minutes_ago=5)])
    listed = client_a.get("/api/v1/carrier/waybills").json()["results"]
    assert listed == WaybillOutput(carrier_waybills_list(carrier=carrier_a), many=True).data
    detail = client_a.get(f"/api/v1/carrier/waybills/{waybill.number}").json()
    assert detail == WaybillDetailOutput(carrier_waybill_detail(carrier=carrier_a, number=waybill.number)).data
