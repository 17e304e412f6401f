"""CSV exports (streamed, filtered, scoped) and the evidence package (printable page and PDF)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from pypdf import PdfReader

from claims.services.watcher import promises_watch
from tests.factories import CarrierFactory, MerchantUserFactory
from tests.orders.world import buy, deliver, paid_claim, shipped_order
from waybills.models import DeliveryConsent

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    """The header and data rows; the file must end with the line saying it is whole."""
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    *rows, end = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert end[0] == "#END" and f"共 {len(rows) - 1} 行" in end[1], end
    return rows


def test_exports_read_in_keyset_pages_and_end_with_the_count(merchant_client, shop, zto, monkeypatch):
    monkeypatch.setattr("orders.dashboard.exports.CHUNK", 2)  # five pages for nine orders
    orders = [shipped_order(merchant=shop, carrier=zto) for _ in range(9)]
    rows = _rows(merchant_client.get(reverse("dashboard:export_orders")))
    newest_first = sorted(orders, key=lambda o: (o.created_at, o.pk), reverse=True)
    assert [r[0] for r in rows[1:]] == [o.order_number for o in newest_first]  # each once, in order


def test_orders_csv_is_streamed_filtered_and_masked(merchant_client, shop, zto):
    bought = shipped_order(merchant=shop, carrier=zto)
    buy(bought)
    plain = shipped_order(merchant=shop, carrier=zto)
    response = merchant_client.get(reverse("dashboard:export_orders"), {"yinzunda": "yes"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0][0] == "订单号"
    assert [r[0] for r in rows[1:]] == [bought.order_number]
    assert (
        rows[1][3] == bought.masked_phone
        and rows[1][6] == bought.waybill.number
        and rows[1][10] == "是"
    )
    assert plain.order_number not in {r[0] for r in rows}


def test_orders_csv_with_bad_filter_is_400(merchant_client):
    response = merchant_client.get(reverse("dashboard:export_orders"), {"date_to": "yesterday"})
    assert response.status_code == 400
    assert "至" in response.content.decode()


def test_claims_csv_lists_only_mine_with_status(merchant_client, shop, zto):
    mine = paid_claim(order=shipped_order(merchant=shop, carrier=zto))
    paid_claim(
        order=shipped_order(merchant=MerchantUserFactory().merchant, carrier=CarrierFactory())
    )
    rows = _rows(merchant_client.get(reverse("dashboard:export_claims")))
    assert len(rows) == 2
    assert rows[1][0] == str(mine.pk) and rows[1][7] == "已赔付" and rows[1][6] == "5.00"


def test_ledger_csv_carries_a_running_balance_oldest_first(merchant_client, shop, zto):
    a, b = shipped_order(merchant=shop, carrier=zto), shipped_order(merchant=shop, carrier=zto)
    buy(a)
    buy(b)
    paid_claim(order=a, amount=Decimal("5.00"))
    rows = _rows(merchant_client.get(reverse("dashboard:export_ledger")))
    assert [r[4] for r in rows[1:]] == ["-0.80", "-1.60", "3.40"]
    assert [r[2] for r in rows[1:]] == ["音尊达服务费", "音尊达服务费", "快递赔付"]


def test_export_reads_through_a_chunked_iterator(
    merchant_client, shop, zto, django_assert_max_num_queries
):
    for _ in range(30):
        shipped_order(merchant=shop, carrier=zto)
    with django_assert_max_num_queries(8):
        rows = _rows(merchant_client.get(reverse("dashboard:export_orders")))
    assert len(rows) == 31


def _disputed_order(shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="door", proof_url="https://proof.example/door-123.jpg")
    claim = paid_claim(order=order)
    return order, claim


def test_evidence_page_has_waybill_timeline_proof_complaint_and_outcome(merchant_client, shop, zto):
    order, claim = _disputed_order(shop, zto)
    body = merchant_client.get(reverse("dashboard:evidence", args=[order.pk])).content.decode()
    for text in (
        "物流证据包",
        order.waybill.number,
        "平台电子面单",
        "https://proof.example/door-123.jpg",
        "送货上门",
        "未送货上门",
        f"索赔 #{claim.pk}",
        "已赔付",
        claim.settlement.payment_reference,
        "data-print",  # the print button (static/js/site.js: no inline handler under the CSP)
    ):
        assert text in body, text
    assert order.recipient_phone not in body


def test_evidence_pdf_renders_chinese_with_a_cjk_font(merchant_client, shop, zto):
    order, claim = _disputed_order(shop, zto)
    response = merchant_client.get(reverse("dashboard:evidence_pdf", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    # WeasyPrint embeds a subset of an installed CJK font (e.g. ABCDEF+WenQuanYi-Micro-Hei)
    assert any("Hei" in f or "CJK" in f or "Fallback" in f for f in fonts), fonts
    text = "".join(page.extract_text() for page in reader.pages)
    assert order.waybill.number in text and order.order_number in text
    assert "证据包" in text and "已赔付" in text


def test_evidence_pdf_embeds_the_complaint_photo_from_private_storage(merchant_client, shop, zto):
    from django.core.files.base import ContentFile
    from PIL import Image

    from claims.models import ComplaintPhoto

    order, claim = _disputed_order(shop, zto)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 16, 46)).save(buffer, format="PNG")
    photo = ComplaintPhoto(
        complaint=claim.complaint, content_type="image/png", size=len(buffer.getvalue())
    )
    photo.image.save("door.png", ContentFile(buffer.getvalue()), save=True)

    page = merchant_client.get(reverse("dashboard:evidence", args=[order.pk])).content.decode()
    assert reverse("dashboard:photo", args=[photo.pk]) in page
    response = merchant_client.get(reverse("dashboard:evidence_pdf", args=[order.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    images = [img for p in reader.pages for img in p.images]
    assert len(images) == 1


def test_pdf_resolves_only_the_dossiers_own_photos(settings, tmp_path):
    from orders.dashboard.evidence import PDF_BASE_URL, _only_these_files

    (tmp_path / "secret.txt").write_text("x")
    (tmp_path / "a.png").write_bytes(b"png")
    fetch = _only_these_files({"/dashboard/photos/1/": str(tmp_path / "a.png")})
    assert fetch(PDF_BASE_URL + "dashboard/photos/1/")
    for url in (
        PDF_BASE_URL + "dashboard/photos/2/",
        PDF_BASE_URL + "media/../secret.txt",
        "https://proof.example/p.jpg",
        "https://proof.example/dashboard/photos/1/",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetch(url)


def test_ledger_csv_from_a_date_starts_from_the_balance_carried_in(merchant_client, shop, zto):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import LedgerEntry, YinzundaPurchase

    tariff = zto.tariffs.first()
    for days_ago in (10, 1):
        order = shipped_order(merchant=shop, carrier=zto)
        purchase = YinzundaPurchase.objects.create(
            order=order, merchant=shop, tariff=tariff, fee=Decimal("0.80")
        )
        LedgerEntry.objects.create(
            merchant=shop,
            kind="fee",
            amount=Decimal("-0.80"),
            purchase=purchase,
            created_at=timezone.now() - timedelta(days=days_ago),
        )
    since = (timezone.localdate() - timedelta(days=3)).isoformat()
    rows = _rows(merchant_client.get(reverse("dashboard:export_ledger"), {"date_from": since}))
    assert len(rows) == 2
    assert rows[1][3] == "-0.80" and rows[1][4] == "-1.60"  # carried -0.80 in, then -0.80


def test_evidence_page_states_a_tracking_claims_clock_once_numbers_every_section_and_brackets_once(
    merchant_client, shop, zto
):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    DeliveryConsent.objects.create(waybill=order.waybill, kind="grant", method="locker", source="buyer",
                                   channel="buyer_page")
    deliver(order, method="station")
    assert len(promises_watch(waybill_ids=[order.waybill.pk])) == 1
    body = merchant_client.get(reverse("dashboard:evidence", args=[order.pk])).content.decode()
    assert body.count("放至驿站/代收点，买家未同意") == 2  # the promise list and the claim's history, once each
    assert "三、音尊达承诺与代收同意" in body and "四、买家投诉" in body and "五、索赔与结果" in body
    assert "）（" not in body and "买家（平台记录） · 买家页面" in body
