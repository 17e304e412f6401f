"""Waybill labels: one page each at the right size, a Code 128 a scanner reads, privacy layout, CJK fonts embedded."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from orders.dashboard.labels import labels_pdf
from orders.services import purchase_create
from orders.shipping import shipments_create
from tests.factories import OrderFactory
from waybills.models import Waybill

MM = 72 / 25.4


def _ship(shop, carrier, n=1, **order_kwargs):
    orders = [OrderFactory(merchant=shop, **order_kwargs) for _ in range(n)]
    results = shipments_create(merchant=shop, order_ids=[o.pk for o in orders], carrier_id=carrier.pk)
    return [r.waybill for r in results]


def _decode(pdf: bytes, tmp_path: Path) -> list[str]:
    """Render every page to PNG (poppler) and read the barcodes with zbar, as a scanner would."""
    assert shutil.which("pdftoppm") and shutil.which("zbarimg"), "make test installs poppler-utils and zbar-tools"
    (tmp_path / "l.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(tmp_path / "l.pdf"), str(tmp_path / "p")], check=True)
    found = []
    for png in sorted(tmp_path.glob("p-*.png")):
        out = subprocess.run(["zbarimg", "-q", "--raw", "-Scode128.enable", str(png)], capture_output=True, text=True)
        found.append(out.stdout.strip())
    return found


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor").get_object()
            if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                names.add(str(font["/BaseFont"]))
    return names


@pytest.mark.parametrize(("size", "width", "height"), [("76x130", 76, 130), ("100x180", 100, 180)])
def test_each_label_is_a_page_whose_barcode_a_scanner_reads(shop, zto, tmp_path, size, width, height):
    waybills = _ship(shop, zto, n=2)
    pdf = labels_pdf(waybills, size_key=size)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert round(float(box.width) / MM) == width and round(float(box.height) / MM) == height
    assert _decode(pdf, tmp_path) == [w.number for w in waybills]
    # the Chinese text is drawn with an embedded (subset) CJK font
    assert any("WenQuanYi" in name or "CJK" in name for name in _fonts(reader))


def test_the_label_masks_the_buyer_and_stops_at_the_district(shop, zto):
    (waybill,) = _ship(shop, zto, recipient_name="欧阳娜娜", recipient_phone="13812345678")
    text = PdfReader(io.BytesIO(labels_pdf([waybill]))).pages[0].extract_text()
    assert "欧***" in text and "138****5678" in text
    assert "欧阳娜娜" not in text and "13812345678" not in text
    assert "西湖区" in text and "文三路" not in text
    assert waybill.order.order_number in text and "中通快递" in text
    assert "音尊达 · 送货上门" not in text


def test_the_mark_shows_when_the_tier_is_bought(shop, zto):
    (waybill,) = _ship(shop, zto)
    purchase_create(merchant=shop, order_id=waybill.order_id)
    waybill.refresh_from_db()
    text = PdfReader(io.BytesIO(labels_pdf([waybill]))).pages[0].extract_text()
    assert "音尊达 · 送货上门" in text


def test_printing_records_it_and_a_later_tier_change_asks_for_a_reprint(merchant_client, shop, zto):
    (waybill,) = _ship(shop, zto)
    response = merchant_client.get(reverse("dashboard:labels"), {"orders": waybill.order_id, "size": "100x180"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    waybill.refresh_from_db()
    assert waybill.label_printed_at is not None and not waybill.needs_reprint
    # buying the tier after printing: the purchase result and the order page say reprint
    bought = merchant_client.post(reverse("dashboard:purchase_create"), {"orders": [waybill.order_id]})
    assert "请重新打印" in bought.content.decode()
    detail = merchant_client.get(reverse("dashboard:order_detail", args=[waybill.order_id]))
    assert 'id="reprint-warning"' in detail.content.decode()
    # printing again clears it; cancelling the tier asks again
    merchant_client.get(reverse("dashboard:labels"), {"orders": waybill.order_id})
    assert not Waybill.objects.get(pk=waybill.pk).needs_reprint
    purchase = waybill.order.purchases.get()
    response = merchant_client.post(reverse("dashboard:purchase_cancel", args=[purchase.pk]), follow=True)
    assert "请重新打印" in response.content.decode()
    assert Waybill.objects.get(pk=waybill.pk).needs_reprint


def test_labels_of_another_merchants_orders_are_not_found(merchant_client, zto):
    other = OrderFactory()
    shipments_create(merchant=other.merchant, order_ids=[other.pk], carrier_id=zto.pk)
    response = merchant_client.get(reverse("dashboard:labels"), {"orders": other.pk})
    assert response.status_code == 404


def test_a_bad_label_size_names_the_field(merchant_client, shop, zto):
    (waybill,) = _ship(shop, zto)
    response = merchant_client.get(reverse("dashboard:labels"), {"orders": waybill.order_id, "size": "A4"})
    assert response.status_code == 400
