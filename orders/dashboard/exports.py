"""Exports of the merchant dashboard: streamed CSV (orders, claims, ledger) and the evidence PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Claim
from waybills.models import Waybill
from yinzunda.masking import mask_name, mask_phone
from yinzunda.money import money

from ..models import LedgerEntry, Order

CHUNK = 2000


class _Echo:
    """csv.writer needs a file; this one hands each written line straight back."""

    def write(self, value: str) -> str:
        return value


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def stream_csv(*, filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """Rows are written one at a time from a server-side cursor, so memory stays flat."""
    writer = csv.writer(_Echo())

    def generate() -> Iterator[str]:
        yield "\ufeff"  # BOM: Excel then opens the UTF-8 Chinese text correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def order_rows(queryset: QuerySet[Order]) -> Iterator[list]:
    statuses = dict(Waybill.Status.choices)
    rows = queryset.order_by("-created_at", "-id").values_list(
        "order_number",
        "created_at",
        "recipient_name",
        "recipient_phone",
        "amount",
        "waybill__carrier__name",
        "waybill__number",
        "waybill__status",
        "waybill__delivery_method",
        "waybill__delivered_at",
        "has_yinzunda",
    )
    for (
        number,
        created,
        name,
        phone,
        amount,
        carrier,
        waybill,
        status,
        method,
        delivered,
        yz,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            number,
            _local(created),
            mask_name(name),
            mask_phone(phone),
            amount,
            carrier or "",
            waybill or "",
            str(statuses.get(status, status or "")),
            method or "",
            _local(delivered),
            _("是") if yz else _("否"),
        ]


def order_header() -> list[str]:
    return [
        _("订单号"),
        _("下单时间"),
        _("收件人"),
        _("收件电话"),
        _("订单金额"),
        _("快递"),
        _("面单号"),
        _("物流状态"),
        _("签收方式"),
        _("签收时间"),
        _("音尊达"),
    ]


def claim_rows(queryset: QuerySet[Claim]) -> Iterator[list]:
    statuses = dict(Claim.Status.choices)
    rows = queryset.order_by("-opened_at", "-id").values_list(
        "id",
        "opened_at",
        "order__order_number",
        "waybill__number",
        "carrier__name",
        "complaint_type",
        "amount",
        "status",
        "resolved_at",
        "settlement__reference",
        "settlement__paid_at",
    )
    for (
        cid,
        opened,
        order,
        waybill,
        carrier,
        ctype,
        amount,
        status,
        resolved,
        sref,
        paid,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            cid,
            _local(opened),
            order,
            waybill,
            carrier,
            ctype,
            amount,
            str(statuses.get(status, status)),
            _local(resolved),
            sref or "",
            _local(paid),
        ]


def claim_header() -> list[str]:
    return [
        _("索赔编号"),
        _("发起时间"),
        _("订单号"),
        _("面单号"),
        _("快递"),
        _("违约类型"),
        _("赔付金额"),
        _("状态"),
        _("结论时间"),
        _("结算单号"),
        _("到账时间"),
    ]


def ledger_rows(queryset: QuerySet[LedgerEntry], *, opening_balance: Decimal) -> Iterator[list]:
    """Oldest first, so the running balance is computed while streaming."""
    kinds = dict(LedgerEntry.Kind.choices)
    balance = opening_balance
    rows = queryset.order_by("created_at", "id").values_list(
        "id", "created_at", "kind", "amount", "memo", "purchase__order__order_number", "claim_id"
    )
    for eid, created, kind, amount, memo, order_number, claim_id in rows.iterator(chunk_size=CHUNK):
        balance = money(balance + amount)
        yield [
            eid,
            _local(created),
            str(kinds.get(kind, kind)),
            amount,
            balance,
            order_number or "",
            claim_id or "",
            memo,
        ]


def ledger_header() -> list[str]:
    return [
        _("流水号"),
        _("记账时间"),
        _("类型"),
        _("金额"),
        _("余额"),
        _("订单号"),
        _("索赔编号"),
        _("备注"),
    ]


def _photo_files(dossier) -> dict[str, str]:
    """The dossier's complaint photos: their dashboard URL → their file in private storage."""
    return {
        reverse("dashboard:photo", args=[photo.pk]): photo.image.path
        for complaint in dossier.complaints
        for photo in complaint.photos.all()
    }


def _only_these_files(files: dict[str, str]):
    """Resolve a URL in the PDF's HTML to a file only when it is one of the dossier's photos:
    nothing is ever fetched over the network while rendering (a proof URL comes from a carrier
    and must not be requested) and no other local file is read."""

    def link_callback(uri: str, rel: str | None = None) -> str:
        return files.get(uri, "")

    return link_callback


def evidence_pdf(*, context: dict, request=None) -> bytes:
    """The evidence package as PDF. Chinese is drawn with ReportLab's built-in CID font
    STSong-Light (the PDF viewer supplies the glyphs), so no font file has to ship."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    html = render_to_string("orders/dashboard/evidence_pdf.html", context, request=request)
    out = io.BytesIO()
    # No network at all, local reads only of the dossier's photos, and bounded work per document.
    policy = ResourceAccessPolicy(
        allow_remote=False,
        base_dir=Path(settings.PRIVATE_MEDIA_ROOT).resolve(),
        max_image_pixels=25_000_000,
        max_resources=60,
        max_local_bytes=20 * 1024 * 1024,
    )
    result = pisa.CreatePDF(
        html, dest=out, encoding="utf-8", link_callback=_only_these_files(_photo_files(context["d"])),
        resource_policy=policy,
    )
    if result.err:
        raise RuntimeError(f"PDF rendering failed with {result.err} errors")
    return out.getvalue()
