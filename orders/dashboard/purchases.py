"""Merchant dashboard: buying the Yinzunda tier with the price in view (preview, confirm), cancelling."""
from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..errors import PurchaseRefused
from ..selectors import orders as order_selectors
from ..selectors.purchases import purchase_preview
from ..services import purchase_cancel, purchase_create_many
from .forms import PurchaseSelectionForm, ascii_id
from .views import _is_htmx, merchant_required


@require_POST
@merchant_required
def purchase_preview_view(request: HttpRequest) -> HttpResponse:
    """What the selection would cost and do to today's quota; nothing is bought here."""
    form = PurchaseSelectionForm(request.POST)
    template = (
        "orders/dashboard/_purchase_preview.html" if _is_htmx(request) else "orders/dashboard/purchase_preview.html"
    )
    if not form.is_valid():
        return render(request, template, {"form": form, "nav": "orders"}, status=400)
    preview = purchase_preview(merchant=request.merchant, order_ids=form.cleaned_data["orders"])
    return render(request, template, {"form": form, "preview": preview, "nav": "orders"})


@require_POST
@merchant_required
def purchase_buy(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    form = PurchaseSelectionForm(request.POST)
    template = (
        "orders/dashboard/_purchase_results.html" if _is_htmx(request) else "orders/dashboard/purchase_result.html"
    )
    if not form.is_valid():
        return render(request, template, {"form": form, "nav": "orders"}, status=400)
    results, quota = purchase_create_many(
        merchant=merchant, order_ids=form.cleaned_data["orders"], user=request.user
    )
    bought = [r for r in results if r.ok]
    context = {
        "form": form,
        "results": results,
        "bought": bought,
        "refused": [r for r in results if not r.ok],
        "fee_total": sum((r.purchase.fee for r in bought), Decimal("0.00")),
        "quota": quota,
        "over_quota": quota.used_today > quota.allowed_per_day,
        "nav": "orders",
    }
    response = render(request, template, context)
    if bought:
        response["HX-Trigger"] = "purchases-changed"  # the order table reloads to show the new badges
    return response


@require_POST
@merchant_required
def purchase_cancel_view(request: HttpRequest, purchase_id: int) -> HttpResponse:
    try:
        purchase = purchase_cancel(merchant=request.merchant, purchase_id=purchase_id)
    except PurchaseRefused as exc:
        messages.error(request, exc.message)
        # Back to the order page when `order` is an id; "²" or "١٢" pass isdigit() but no URL.
        try:
            target = reverse("dashboard:order_detail", args=[ascii_id(request.POST.get("order"))])
        except ValueError:
            target = reverse("dashboard:orders")
        return redirect(target)
    messages.success(
        request, _("已取消音尊达，服务费 %(fee)s 已退回账户") % {"fee": f"¥{purchase.fee}"}
    )
    waybill = order_selectors.order_waybill(order_id=purchase.order_id)
    if waybill is not None and waybill.needs_reprint:
        messages.warning(request, _("面单已打印，请重新打印并替换包裹上的旧面单（音尊达标识已取消）"))
    return redirect("dashboard:order_detail", order_id=purchase.order_id)
