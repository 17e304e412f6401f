"""Issue 14 §4: the evidence PDF reads (WeasyPrint, embedded CJK font, wrapped text, nothing lost)
and the bulk export of a selection is a streamed zip with one PDF and one JSON per order and a
SHA-256 manifest."""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from claims.services.claims import claim_dispute
from tests.factories import MerchantUserFactory
from tests.orders.world import buy, deliver, open_claim, shipped_order

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

LONG_URL = "https://proof.example/" + "/".join(f"segment{i:03d}" for i in range(40)) + "/door-photo.jpg"
# 2,000 characters of Chinese with the middle dot that xhtml2pdf printed as U+FFFD.
COMPLAINT = ("快递员没有送货上门·直接放在驿站，我打了三次电话都没人接。" * 80)[:2000]


def _text(pdf: bytes) -> str:
    """The text of every page without its "n / N" page counter (a long complaint runs over pages)."""
    pages = (page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(re.sub(r"\s*\d+\s*/\s*\d+\s*$", "", text) for text in pages)


def _fonts(pdf: bytes) -> list[dict]:
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [font.get("/FontDescriptor")] + [
                d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])
            ]
            embedded = any(
                d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            fonts.append({"name": str(font.get("/BaseFont")), "embedded": embedded})
    return fonts


def _order_with_everything(shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    deliver(order, method="door", proof_url=LONG_URL)
    claim = open_claim(order=order)
    complaint = claim.complaint
    complaint.description = COMPLAINT
    complaint.save(update_fields=["description"])
    claim_dispute(claim_id=claim.pk, carrier=zto, reason="快递员已送货上门·有照片" * 10, evidence=[{"type": "photo", "url": LONG_URL}])
    return order, complaint


def test_evidence_pdf_keeps_the_whole_complaint_with_embedded_cjk_fonts(merchant_client, shop, zto):
    order, _complaint = _order_with_everything(shop, zto)
    response = merchant_client.get(reverse("dashboard:evidence_pdf", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "evidence-long-complaint.pdf").write_bytes(response.content)  # to look at
    text = _text(response.content)
    assert "\ufffd" not in text
    flat = "".join(text.split())
    assert "".join(COMPLAINT.split()) in flat  # all 2,000 characters, in order
    assert "".join(LONG_URL.split()) in flat  # the long URL is there, broken across lines
    assert order.order_number in flat and "物流证据包" in flat
    fonts = _fonts(response.content)
    assert fonts and all(f["embedded"] for f in fonts), fonts


def test_evidence_pdf_wraps_long_text_over_several_lines_not_one(merchant_client, shop, zto):
    order, _complaint = _order_with_everything(shop, zto)
    text = _text(merchant_client.get(reverse("dashboard:evidence_pdf", args=[order.pk])).content)
    longest = max(len(line) for line in text.splitlines())
    assert longest < 120, longest  # an A4 line holds ~50 CJK characters; 2,000 on one line overprint


def test_bulk_evidence_export_streams_a_zip_with_a_manifest(merchant_client, shop, zto):
    orders = [_order_with_everything(shop, zto)[0] for _ in range(2)] + [shipped_order(merchant=shop, carrier=zto)]
    page = merchant_client.get(reverse("dashboard:evidence_export")).content.decode()
    assert 'id="evidence-count"' in page and "3" in page
    response = merchant_client.get(reverse("dashboard:evidence_export_zip"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names[-1] == "SHA256SUMS"
    for order in orders:
        number = order.order_number
        assert f"{number}/evidence-{number}.pdf" in names and f"{number}/evidence-{number}.json" in names
        data = json.loads(archive.read(f"{number}/evidence-{number}.json"))
        assert data["order"]["order_number"] == number
        assert order.recipient_phone not in json.dumps(data, ensure_ascii=False)  # masked
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest


def test_bulk_export_takes_ticked_orders_and_only_the_merchants_own(merchant_client, shop, zto):
    mine = shipped_order(merchant=shop, carrier=zto)
    theirs = shipped_order(merchant=MerchantUserFactory().merchant, carrier=zto)
    response = merchant_client.get(reverse("dashboard:evidence_export_zip"), {"orders": [mine.pk, theirs.pk]})
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert any(mine.order_number in n for n in names)
    assert not any(theirs.order_number in n for n in names)


def test_bulk_export_with_bad_input_is_a_400(merchant_client):
    assert merchant_client.get(reverse("dashboard:evidence_export_zip"), {"orders": "abc"}).status_code == 400
    assert merchant_client.get(reverse("dashboard:evidence_export"), {"date_from": "nope"}).status_code == 400
