"""Evidence packages of the merchant dashboard: one order's PDF (WeasyPrint) and JSON, and the
bulk export of a selection as a streamed zip with a SHA-256 manifest."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from claims.selectors.dossier import OrderDossier
from yinzunda.masking import mask_free_text, mask_location

# Rendering resolves relative URLs against this base; only the dossier's own photos are read.
PDF_BASE_URL = "https://evidence.invalid/"


def _photo_files(dossier: OrderDossier) -> dict[str, str]:
    """The dossier's complaint photos: their dashboard URL → their file in private storage."""
    return {
        reverse("dashboard:photo", args=[photo.pk]): photo.image.path
        for complaint in dossier.complaints
        for photo in complaint.photos.all()
    }


class _OnlyTheseFiles(URLFetcher):
    """A WeasyPrint URL fetcher that reads a URL only when it is one of the dossier's photos:
    nothing is ever fetched over the network while rendering (a proof URL comes from a carrier
    and must not be requested) and no other local file is read."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__(allowed_protocols=())
        self.files = files

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = url[len(PDF_BASE_URL) - 1:] if url.startswith(PDF_BASE_URL) else None
        target = self.files.get(path) if path else None
        if target is None:
            raise ValueError(f"not fetched while rendering evidence: {url[:80]}")
        return URLFetcherResponse(url, body=Path(target).read_bytes())


def _only_these_files(files: dict[str, str]) -> _OnlyTheseFiles:
    return _OnlyTheseFiles(files)


def evidence_pdf(*, context: dict, request=None) -> bytes:
    """The evidence package as PDF: text wraps in its cells, long texts and URLs break, and the
    CJK font is embedded (subset) so every viewer shows the same characters."""
    html = render_to_string("orders/dashboard/evidence_pdf.html", context, request=request)
    fetcher = _only_these_files(_photo_files(context["d"]))
    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher).write_pdf()


def _at(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def evidence_json(dossier: OrderDossier) -> dict:
    """The same facts as the PDF, machine-readable: codes beside their labels, times with offsets."""
    order, waybill = dossier.order, dossier.waybill
    return {
        "order": {
            "order_number": order.order_number,
            "created_at": _at(order.created_at),
            "amount": str(order.amount),
            "currency": "CNY",
            "recipient": {"name": order.masked_name, "phone": order.masked_phone, "address": order.masked_address},
        },
        "waybill": None if waybill is None else {
            "number": waybill.number,
            "carrier": {"code": waybill.carrier.code, "name": waybill.carrier.name},
            "platform_issued": waybill.is_platform_issued,
            "service_codes": list(waybill.service_codes),
            "status": waybill.status,
            "status_label": str(waybill.get_status_display()),
            "delivery_method": waybill.delivery_method or None,
            "delivered_at": _at(waybill.delivered_at),
        },
        "purchases": [
            {"status": p.status, "fee": str(p.fee), "purchased_at": _at(p.purchased_at), "cancelled_at": _at(p.cancelled_at)}
            for p in dossier.purchases
        ],
        "events": [
            {
                "event_id": e.event_id, "code": e.code, "label": str(e.get_code_display()), "occurred_at": _at(e.occurred_at),
                "location": mask_location(e.location), "delivery_method": e.delivery_method or None,
                "proof_type": e.proof_type or None, "proof_url": e.proof_url or None, "note": mask_free_text(e.note),
            }
            for e in dossier.events
        ],
        "complaints": [
            {
                "reference": c.reference, "created_at": _at(c.created_at), "complaint_type": c.complaint_type,
                "complaint_type_label": str(c.get_complaint_type_display()), "description": mask_free_text(c.description),
                "status": c.status, "status_label": str(c.get_status_display()), "decision_reason": c.decision_reason_text(),
                "photos": len(c.photos.all()),
            }
            for c in dossier.complaints
        ],
        "claims": [
            {
                "id": c.pk, "carrier": c.carrier.code, "complaint_type": c.complaint_type, "amount": str(c.amount),
                "status": c.status, "status_label": str(c.get_status_display()),
                "settlement": c.settlement.reference if c.settlement else None,
                "transitions": [
                    {"at": _at(t.created_at), "to": t.to_status, "actor": t.actor, "reason": mask_free_text(t.reason_text()), "evidence": t.evidence}
                    for t in c.transitions.all()
                ],
            }
            for c in dossier.claims
        ],
    }


class _Sink(io.RawIOBase):
    """An unseekable file for ZipFile: what was written since the last drain is handed on."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def evidence_zip(*, packages: Iterable[tuple[str, bytes, dict]]) -> Iterator[bytes]:
    """Stream a zip of (order number, PDF, JSON) packages, one order at a time, then the
    manifest: `SHA256SUMS` (one "<hex>  <name>" line per file, `sha256sum -c` checks it)."""
    sink = _Sink()
    sums: list[str] = []
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, pdf, data in packages:
            for name, content in (
                (f"{number}/evidence-{number}.pdf", pdf),
                (f"{number}/evidence-{number}.json", json.dumps(data, ensure_ascii=False, indent=1).encode()),
            ):
                archive.writestr(name, content)
                sums.append(f"{hashlib.sha256(content).hexdigest()}  {name}")
            yield sink.drain()
        archive.writestr("SHA256SUMS", ("\n".join(sums) + "\n").encode())
    yield sink.drain()
