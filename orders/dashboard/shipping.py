"""Dashboard pages for shipping: pick a carrier for a selection, issue waybills, void, print labels."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carriers.models import Carrier
from carriers.selectors import carriers_for_shipping, tariff_current
from claims.selectors import stats as stats_selectors
from orders.selectors import orders as order_selectors
from yinzunda.errors import DomainError, NotFound

from ..shipping import labels_mark_printed, shipment_void, shipments_create
from .forms import LabelForm, ShipForm
from .labels import DEFAULT_SIZE, labels_pdf
from .views import _is_htmx, merchant_required

DOOR_RECORD_DAYS = 30


@dataclass(frozen=True)
class CarrierOption:
    carrier: Carrier
    fee: Decimal | None  # the tier's price per order today, None when no tariff
    door_rate: Decimal | None  # % of this merchant's deliveries by the carrier brought to the door
    delivered: int


def carrier_options(*, merchant) -> list[CarrierOption]:
    """Partners first, each with the tier's price and this merchant's door-delivery record."""
    now = timezone.now()
    stats = {s.carrier_id: s for s in stats_selectors.carrier_stats_cached(merchant=merchant, days=DOOR_RECORD_DAYS, now=now)}
    options = []
    for carrier in carriers_for_shipping():
        tariff = tariff_current(carrier=carrier, at=now) if carrier.is_partner else None
        s = stats.get(carrier.pk)
        options.append(CarrierOption(
            carrier=carrier, fee=tariff.fee_per_order if tariff else None,
            door_rate=s.door_rate if s else None, delivered=s.delivered if s else 0,
        ))
    return options


@require_POST
@merchant_required
def ship(request: HttpRequest) -> HttpResponse:
    """Without a carrier: the choice of carrier for the selection. With one: issue the waybills."""
    merchant = request.merchant
    form = ShipForm(request.POST)
    htmx = _is_htmx(request)
    template = "orders/dashboard/_ship.html" if htmx else "orders/dashboard/ship.html"
    if not form.is_valid():
        return render(request, template, {"form": form, "nav": "orders"}, status=400)
    order_ids = form.cleaned_data["orders"]
    carrier_id = form.cleaned_data.get("carrier")
    if not carrier_id:
        context = {"form": form, "order_ids": order_ids, "options": carrier_options(merchant=merchant), "nav": "orders"}
        return render(request, template, context)
    results = shipments_create(merchant=merchant, order_ids=order_ids, carrier_id=carrier_id)
    shipped = [r for r in results if r.ok]
    context = {
        "form": form, "results": results, "shipped": shipped, "refused": [r for r in results if not r.ok],
        "shipped_ids": [r.order_id for r in shipped], "nav": "orders",
    }
    response = render(request, template, context)
    if shipped:
        response["HX-Trigger"] = "purchases-changed"  # the order table reloads with the new numbers
    return response


@require_POST
@merchant_required
def void(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        voided = shipment_void(merchant=request.merchant, order_id=order_id, user=request.user)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("面单 %(number)s 已作废，订单可重新发货") % {"number": voided.number})
    return redirect("dashboard:order_detail", order_id=order_id)


@require_GET
@merchant_required
def labels(request: HttpRequest) -> HttpResponse:
    """The labels of the selected orders' waybills as one PDF, one label a page: right after
    shipping, or reprinted later from the order list (orders without a waybill are left out)."""
    form = LabelForm(request.GET)
    if not form.is_valid():
        return render(request, "orders/dashboard/export_error.html", {"form": form}, status=400)
    waybills = order_selectors.waybills_for_labels(merchant=request.merchant, order_ids=form.cleaned_data["orders"])
    if not waybills:  # none of the selection is this merchant's shipped order: say so, as a 404
        return render(request, "orders/dashboard/labels_none.html", {"nav": "orders"}, status=404)
    pdf = labels_pdf(waybills, size_key=form.cleaned_data.get("size") or DEFAULT_SIZE)
    labels_mark_printed(merchant=request.merchant, waybill_ids=[w.pk for w in waybills])
    name = waybills[0].number if len(waybills) == 1 else f"labels-{timezone.localtime():%Y%m%d-%H%M}"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response
