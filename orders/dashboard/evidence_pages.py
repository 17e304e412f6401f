"""Merchant dashboard: the bulk evidence export of a selection (filters or ticked orders)."""
from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from claims.selectors import dossier as dossier_selectors
from orders.selectors import orders as order_selectors
from yinzunda.pagination import query_without_cursor

from .evidence import evidence_json, evidence_pdf, evidence_zip
from .forms import OrderFilterForm, ascii_id
from .views import merchant_required

MAX_EVIDENCE_ORDERS = 200


def _selection(request: HttpRequest) -> tuple[OrderFilterForm, list[int] | None]:
    """The order ids to export: the ticked `orders`, else the filtered list; None if the input is bad."""
    form = OrderFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    picked = request.GET.getlist("orders")
    queryset = order_selectors.order_queryset(
        merchant=request.merchant, filters=form.cleaned_data if form.is_bound else {}
    )
    if picked:
        try:
            ids = {ascii_id(value) for value in picked}
        except ValueError:
            form.add_error(None, _("订单编号无效"))
            return form, None
        queryset = queryset.filter(pk__in=ids)
    ids = list(queryset.order_by("-created_at", "-id").values_list("pk", flat=True)[: MAX_EVIDENCE_ORDERS + 1])
    return form, ids


@require_GET
@merchant_required
def evidence_export(request: HttpRequest) -> HttpResponse:
    form, ids = _selection(request)
    if ids is None:
        return render(request, "orders/dashboard/export_error.html", {"form": form}, status=400)
    context = {
        "count": min(len(ids), MAX_EVIDENCE_ORDERS),
        "too_many": len(ids) > MAX_EVIDENCE_ORDERS,
        "limit": MAX_EVIDENCE_ORDERS,
        "query": query_without_cursor(request.GET),
        "filename": _filename(request),
        "nav": "orders",
    }
    context["files"] = 2 * context["count"] + 1
    return render(request, "orders/dashboard/evidence_export.html", context)


def _filename(request: HttpRequest) -> str:
    return f"evidence-{request.merchant.code}-{timezone.localtime():%Y%m%d-%H%M}.zip"


@require_GET
@merchant_required
def evidence_export_zip(request: HttpRequest) -> HttpResponse:
    form, ids = _selection(request)
    if ids is None:
        return render(request, "orders/dashboard/export_error.html", {"form": form}, status=400)
    merchant, generated_at = request.merchant, timezone.now()

    def packages() -> Iterator[tuple[str, bytes, dict]]:
        for order_id in ids[:MAX_EVIDENCE_ORDERS]:
            dossier = dossier_selectors.order_dossier(merchant=merchant, order_id=order_id)
            context = {"d": dossier, "merchant": merchant, "generated_at": generated_at}
            yield dossier.order.order_number, evidence_pdf(context=context), evidence_json(dossier)

    response = StreamingHttpResponse(evidence_zip(packages=packages()), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{_filename(request)}"'
    response["Cache-Control"] = "no-store"
    response["X-Evidence-Orders"] = str(min(len(ids), MAX_EVIDENCE_ORDERS))
    return response
