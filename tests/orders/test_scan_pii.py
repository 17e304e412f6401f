"""Attack (issue 9, reproduction 9): a carrier writes the buyer's street address, a locker
pickup code and a phone number into a scan's location and note. Merchants, the evidence page
and its PDF see the district and the station only, the codes and numbers masked; the staff
arbitration page keeps them, because arbitration needs them."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import UserFactory
from tests.orders.world import buy, open_claim, shipped_order
from waybills.models import TrackingEvent

pytestmark = pytest.mark.django_db

STREET = "文三路100号阳光花园3栋2单元501室"
LOCATION = f"浙江省杭州市西湖区{STREET} 菜鸟驿站 取件码 12-3-4567"
NOTE = "已放入丰巢快递柜，取件码:8821，快递员电话 13812345678"


@pytest.fixture
def scanned(shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    TrackingEvent.objects.create(
        carrier=zto, waybill=order.waybill, event_id="ev-pii", code="DELIVERED",
        occurred_at=timezone.now(), location=LOCATION, delivery_method="locker", note=NOTE,
    )
    return order


def _assert_masked(text: str) -> None:
    for secret in (STREET, "文三路", "12-3-4567", "8821", "13812345678"):
        assert secret not in text, secret


def test_merchant_timeline_shows_district_and_station_with_codes_masked(merchant_client, scanned):
    body = merchant_client.get(reverse("dashboard:order_detail", args=[scanned.pk])).content.decode()
    _assert_masked(body)
    assert "浙江省杭州市西湖区 菜鸟驿站" in body
    assert "取件码:****" in body and "138****5678" in body


def test_evidence_page_and_pdf_mask_the_scan_text(merchant_client, scanned):
    page = merchant_client.get(reverse("dashboard:evidence", args=[scanned.pk])).content.decode()
    _assert_masked(page)
    assert "浙江省杭州市西湖区 菜鸟驿站" in page
    pdf = merchant_client.get(reverse("dashboard:evidence_pdf", args=[scanned.pk])).content
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    _assert_masked(text.replace("\n", ""))
    assert "菜鸟驿站" in text


def test_staff_arbitration_keeps_the_full_location(client, scanned):
    claim = open_claim(order=scanned)
    client.force_login(UserFactory(is_staff=True))
    body = client.get(reverse("staff:claim_detail", args=[claim.pk])).content.decode()
    assert LOCATION in body
