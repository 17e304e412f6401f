"""Exports of the merchant dashboard: streamed CSV (orders, claims, ledger); the evidence PDF is in evidence.py."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from carriers.choices import ComplaintType
from claims.models import Claim
from waybills.models import DeliveryMethod, Waybill
from yinzunda.masking import mask_name, mask_phone
from yinzunda.money import money

from ..models import LedgerEntry, Order, ledger_memo_text

CHUNK = 2000
END_MARK = "#END"  # first cell of the last line of every export: the file is whole


class _Echo:
    """csv.writer needs a file; this one hands each written line straight back."""

    def write(self, value: str) -> str:
        return value


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else ""


def keyset_batches(queryset: QuerySet, *, key: str, descending: bool, fields: tuple[str, ...]) -> Iterator[tuple]:
    """Rows of `fields` (ending with `key`, then "id") in pages of CHUNK, each page its own short
    query after the last row of the one before: no cursor or transaction is held while the
    client downloads, whatever the size (a held server-side cursor spools the whole result
    first and pins a connection for minutes)."""
    order = (f"-{key}", "-id") if descending else (key, "id")
    page = queryset.order_by(*order).values_list(*fields, key, "id")
    after = None
    while True:
        if after is None:
            rows = list(page[:CHUNK])
        else:
            value, pk = after
            newer = Q(**{f"{key}__lt" if descending else f"{key}__gt": value}) | Q(**{key: value}) & Q(
                **{"id__lt" if descending else "id__gt": pk}
            )
            rows = list(page.filter(newer)[:CHUNK])
        for row in rows:
            yield row[:-2]
        if len(rows) < CHUNK:
            return
        after = rows[-1][-2:]


def stream_csv(*, filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """Rows are written as they are read, a page at a time, so memory stays flat. The last line
    says the export is complete and how many rows it holds: a file cut off on the way (a
    dropped connection, a killed worker) lacks it and cannot pass for a whole one."""
    writer = csv.writer(_Echo())

    def generate() -> Iterator[str]:
        yield "\ufeff"  # BOM: Excel then opens the UTF-8 Chinese text correctly
        yield writer.writerow(header)
        count = 0
        for row in rows:
            count += 1
            yield writer.writerow(row)
        yield writer.writerow([END_MARK, _("共 %(n)d 行，导出完整") % {"n": count}])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def order_rows(queryset: QuerySet[Order]) -> Iterator[list]:
    statuses = dict(Waybill.Status.choices)
    methods = dict(DeliveryMethod.choices)
    rows = keyset_batches(queryset, key="created_at", descending=True, fields=(
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
    ))
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
    ) in rows:
        yield [
            number,
            _local(created),
            mask_name(name),
            mask_phone(phone),
            amount,
            carrier or "",
            waybill or "",
            str(statuses.get(status, status or "")),
            str(methods.get(method, method or "")),
            _local(delivered),
            _("是") if yz else _("否"),
            # The codes in their own columns (stable for spreadsheets and scripts; the labels follow the language).
            status or "",
            method or "",
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
        _("物流状态代码"),
        _("签收方式代码"),
    ]


def claim_rows(queryset: QuerySet[Claim]) -> Iterator[list]:
    statuses = dict(Claim.Status.choices)
    types = dict(ComplaintType.choices)
    rows = keyset_batches(queryset, key="opened_at", descending=True, fields=(
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
    ))
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
    ) in rows:
        yield [
            cid,
            _local(opened),
            order,
            waybill,
            carrier,
            str(types.get(ctype, ctype)),
            amount,
            str(statuses.get(status, status)),
            _local(resolved),
            sref or "",
            _local(paid),
            ctype,
            status,
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
        _("违约类型代码"),
        _("状态代码"),
    ]


def ledger_rows(queryset: QuerySet[LedgerEntry], *, opening_balance: Decimal) -> Iterator[list]:
    """Oldest first, so the running balance is computed while streaming."""
    kinds = dict(LedgerEntry.Kind.choices)
    balance = opening_balance
    rows = keyset_batches(queryset, key="created_at", descending=False, fields=(
        "id", "created_at", "kind", "amount", "memo", "purchase__order__order_number", "claim_id", "claim__carrier__name"
    ))
    for eid, created, kind, amount, memo, order_number, claim_id, carrier_name in rows:
        memo = ledger_memo_text(kind=kind, memo=memo, order_number=order_number or "", claim_id=claim_id,
                                carrier_name=carrier_name or "")
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
            kind,
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
        _("类型代码"),
    ]
