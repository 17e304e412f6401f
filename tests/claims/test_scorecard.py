"""The operator's carrier scorecard: the weekly rollup, ranking, drill-down by place, CSV, freshness."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import CarrierWeekScore, Claim
from claims.selectors.scorecard import scorecard_week
from claims.services.claims import claim_accept
from claims.services.scorecard import scorecard_refresh, week_start_of
from claims.services.watcher import promises_watch
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import ComplaintFactory, OrderFactory, UserFactory
from waybills.models import TrackingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def _station_breach(carrier=None, address="浙江省杭州市西湖区文三路 100 号"):
    """A Yinzunda parcel left at a station: the tracking evidence opens the claim by itself."""
    extra = {"carrier": carrier} if carrier is not None else {}
    waybill = yinzunda_waybill(order=OrderFactory(recipient_address=address), **extra)
    event = deliver(waybill, "station")
    TrackingEvent.objects.filter(pk=event.pk).update(location="浙江省杭州市西湖区文三路 100 号 菜鸟驿站（文三店）")
    assert promises_watch(waybill_ids=[waybill.pk])
    return waybill


def test_rollup_counts_parcels_door_rate_breaches_and_claim_outcomes():
    door = yinzunda_waybill()
    deliver(door, "door")
    carrier = door.carrier
    _station_breach(carrier=carrier)
    claim = Claim.objects.get(waybill__carrier=carrier)
    claim_accept(claim_id=claim.pk, carrier=carrier)
    assert scorecard_refresh() >= 1
    score = CarrierWeekScore.objects.get(carrier=carrier, week_start=week_start_of(timezone.now()))
    assert (score.parcels, score.door) == (2, 1)
    assert score.breaches == {"locker_without_consent": 1}
    assert (score.claims_opened, score.claims_accepted) == (1, 1)
    assert score.response_p50_hours is not None and score.response_p50_hours >= 0
    assert score.places["city"] == {"杭州市": 1}
    assert list(score.places["station"]) == ["浙江省杭州市西湖区 菜鸟驿站（文三店）"]
    (row,) = scorecard_week(week_start=score.week_start)
    assert row.door_rate == 50.0 and row.door_breach_rate == 500.0
    scorecard_refresh()  # re-running rewrites the same rows
    assert CarrierWeekScore.objects.filter(carrier=carrier).count() == 1


def test_ranking_puts_the_carrier_breaking_the_door_promise_most_first_with_its_trend(operator):
    good = yinzunda_waybill()
    deliver(good, "door")
    bad = _station_breach()
    scorecard_refresh()
    # last week the bad carrier did better: the trend shows it getting worse
    CarrierWeekScore.objects.create(
        carrier=bad.carrier, week_start=week_start_of(timezone.now()) - timedelta(weeks=1), parcels=10, door=10
    )
    page = operator.get(reverse("staff:scorecard"))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [r.carrier.pk for r in rows] == [bad.carrier_id, good.carrier_id]
    assert rows[0].trend == 1000.0
    text = page.content.decode()
    assert bad.carrier.name in text and "比上周上升" in text and "<svg" in text and "数据更新于" in text


def test_drill_down_by_city_and_station(operator):
    waybill = _station_breach()
    scorecard_refresh()
    page = operator.get(reverse("staff:scorecard_carrier", args=[waybill.carrier_id]))
    assert page.status_code == 200
    assert page.context["cities"] == [("杭州市", 1)]
    assert "菜鸟驿站（文三店）" in page.content.decode()
    assert "文三路" not in page.content.decode()  # the street address stays masked
    assert operator.get(reverse("staff:scorecard_carrier", args=[999999])).status_code == 404


def test_csv_export_has_one_row_per_carrier_and_week(operator):
    waybill = _station_breach()
    scorecard_refresh()
    response = operator.get(reverse("staff:scorecard_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, *data = rows
    assert "送货上门率 %" in header
    assert [r[1] for r in data] == [waybill.carrier.code]


def test_empty_week_and_bad_week_parameter_are_handled(operator):
    page = operator.get(reverse("staff:scorecard"), {"week": "9999-99-99"})
    assert page.status_code == 200 and page.context["week"] == week_start_of(timezone.now())
    assert "还没有评分数据" in page.content.decode()


def test_scorecard_needs_staff_and_refresh_recomputes(client, django_capture_on_commit_callbacks):
    assert client.get(reverse("staff:scorecard")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("staff:scorecard")).status_code == 403
    client.force_login(UserFactory(is_staff=True, username="op"))
    _station_breach()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:scorecard_refresh"))
    assert response.status_code == 302
    assert CarrierWeekScore.objects.exists()  # eager in tests: the task ran


def test_scorecard_query_count_does_not_grow_with_carriers(operator, django_assert_max_num_queries):
    for _ in range(2):
        _station_breach()
    scorecard_refresh()
    with django_assert_max_num_queries(10):
        operator.get(reverse("staff:scorecard"))
    for _ in range(4):
        _station_breach()
    ComplaintFactory()
    scorecard_refresh()
    with django_assert_max_num_queries(10):
        operator.get(reverse("staff:scorecard"))
