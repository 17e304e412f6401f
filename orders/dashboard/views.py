"""Merchant dashboard pages: overview, orders and purchases, claims, ledger, inbox, exports, evidence."""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from claims.selectors import claims as claim_selectors
from claims.selectors import dossier as dossier_selectors
from claims.selectors import money as money_selectors
from claims.selectors import notifications
from claims.selectors import stats as stats_selectors
from claims.services.notifications import notification_mark_read
from orders.selectors import ledger as ledger_selectors
from orders.selectors import merchants
from orders.selectors import orders as order_selectors
from orders.selectors.purchases import purchase_offer
from yinzunda import pagination
from yinzunda.pagination import query_without_cursor

from ..services import merchant_quota
from . import exports
from .charts import bar_chart_daily, hbar_chart
from .evidence import evidence_pdf
from .forms import ClaimFilterForm, LedgerFilterForm, OrderFilterForm

OVERVIEW_PERIODS = (7, 30)


def merchant_required(view):
    """Log in first; then the view gets `request.merchant`. A login without a merchant sees a
    friendly 404 page: the dashboard does not exist for it."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        merchant = merchants.merchant_for_user(user=request.user)
        if merchant is None:
            return render(request, "orders/dashboard/no_merchant.html", status=404)
        request.merchant = merchant
        return view(request, *args, **kwargs)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"



# --- overview ---------------------------------------------------------------------------------


@require_GET
@merchant_required
def overview(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    # Compared as text: int() would read "٣٠" as 30; only the offered periods are valid.
    days = {str(p): p for p in OVERVIEW_PERIODS}.get(request.GET.get("days", ""), OVERVIEW_PERIODS[0])
    now = timezone.now()
    since = now - timedelta(days=days)
    stats = stats_selectors.carrier_stats_cached(merchant=merchant, days=days, now=now)
    daily = stats_selectors.compensation_by_day(merchant=merchant, days=30, now=now)
    context = {
        "days": days,
        "periods": OVERVIEW_PERIODS,
        "stats": stats,
        "money": money_selectors.money_summary(merchant=merchant),
        "money_period": money_selectors.money_summary(merchant=merchant, since=since),
        "quota": merchant_quota(merchant=merchant, now=now),
        "notifications": notifications.notification_list(merchant=merchant, limit=8),
        "unread": notifications.notification_unread_count(merchant=merchant),
        "compensation_chart": bar_chart_daily(
            days=daily, title=_("近 30 天赔付与服务费"), series_labels=(_("赔付到账"), _("服务费"))
        ),
        # The phone's drawing: narrower, bigger type (shown below 640 px by site.css).
        "compensation_chart_phone": bar_chart_daily(
            days=daily, title=_("近 30 天赔付与服务费"), series_labels=(_("赔付到账"), _("服务费")),
            width=360, font=13,
        ),
        "door_chart": hbar_chart(
            rows=[(s.name, s.door_rate) for s in stats], title=_("送货上门率")
        ),
        "door_chart_phone": hbar_chart(
            rows=[(s.name, s.door_rate) for s in stats], title=_("送货上门率"), width=340, font=14
        ),
        "nav": "overview",
    }
    return render(request, "orders/dashboard/overview.html", context)


# --- orders -----------------------------------------------------------------------------------


@require_GET
@merchant_required
def order_list_page(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    form = OrderFilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        page, status = pagination.KeysetPage(items=[]), 400
    else:
        filters = form.cleaned_data if form.is_bound else {}
        page = order_selectors.order_list(
            merchant=merchant, filters=filters, cursor=request.GET.get("cursor")
        )
    context = {
        "form": form,
        "page": page,
        "quota": merchant_quota(merchant=merchant),
        "query": query_without_cursor(request.GET),
        "nav": "orders",
    }
    template = "orders/dashboard/_order_table.html" if _is_htmx(request) else "orders/dashboard/order_list.html"
    return render(request, template, context, status=status)


@require_GET
@merchant_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    dossier = dossier_selectors.order_dossier(merchant=request.merchant, order_id=order_id)
    # The tier is offered only where it can be bought, with its price; otherwise why not.
    offer = purchase_offer(order=dossier.order, waybill=dossier.waybill)
    context = {"d": dossier, "buy": offer, "nav": "orders"}
    return render(request, "orders/dashboard/order_detail.html", context)


# --- claims, ledger ---------------------------------------------------------------------------


@require_GET
@merchant_required
def claim_list_page(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    form = ClaimFilterForm(request.GET or None)
    status = 200
    filters: dict = {}
    if form.is_bound and not form.is_valid():
        page, status = pagination.KeysetPage(items=[]), 400
    else:
        filters = form.cleaned_data if form.is_bound else {}
        page = claim_selectors.claim_list(
            merchant=merchant, filters=filters, cursor=request.GET.get("cursor")
        )
    week_ago = timezone.now() - timedelta(days=7)
    context = {
        "form": form,
        "page": page,
        "counts": claim_selectors.claim_status_counts(merchant=merchant, filters=filters),
        "money": money_selectors.money_summary(merchant=merchant),
        "money_week": money_selectors.money_summary(merchant=merchant, since=week_ago),
        "week_from": timezone.localdate() - timedelta(days=7),
        "query": query_without_cursor(request.GET),
        "nav": "claims",
    }
    return render(request, "orders/dashboard/claim_list.html", context, status=status)


@require_GET
@merchant_required
def ledger(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    page = ledger_selectors.ledger_page(merchant=merchant, cursor=request.GET.get("cursor"))
    context = {
        "page": page,
        "money": money_selectors.money_summary(merchant=merchant),
        "nav": "ledger",
        "filter_form": LedgerFilterForm(),
    }
    return render(request, "orders/dashboard/ledger.html", context)


# --- inbox ------------------------------------------------------------------------------------


@require_GET
@merchant_required
def inbox(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    unread_only = request.GET.get("unread") == "1"
    qs = notifications.notification_list(merchant=merchant, unread_only=unread_only)
    page = pagination.keyset_paginate(qs, cursor=request.GET.get("cursor"), time_field="created_at")
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread": notifications.notification_unread_count(merchant=merchant),
        "query": query_without_cursor(request.GET),
        "nav": "inbox",
    }
    return render(request, "orders/dashboard/inbox.html", context)


@require_POST
@merchant_required
def inbox_mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(merchant=request.merchant, notification_id=notification_id)
    if _is_htmx(request):
        note = notifications.notification_list(merchant=request.merchant).get(pk=notification_id)
        return render(request, "orders/dashboard/_notification.html", {"n": note})
    return redirect(
        request.POST.get("next")
        if str(request.POST.get("next", "")).startswith("/dashboard/")
        else "dashboard:inbox"
    )


@require_POST
@merchant_required
def inbox_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notification_mark_read(merchant=request.merchant)
    messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": count})
    return redirect("dashboard:inbox")


# --- exports ----------------------------------------------------------------------------------


def _bad_filter(request: HttpRequest, form) -> HttpResponse:
    return render(request, "orders/dashboard/export_error.html", {"form": form}, status=400)


@require_GET
@merchant_required
def export_orders(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _bad_filter(request, form)
    qs = order_selectors.order_queryset(
        merchant=request.merchant, filters=form.cleaned_data if form.is_bound else {}
    )
    name = f"orders-{request.merchant.code}-{timezone.localdate():%Y%m%d}.csv"
    return exports.stream_csv(
        filename=name, header=exports.order_header(), rows=exports.order_rows(qs)
    )


@require_GET
@merchant_required
def export_claims(request: HttpRequest) -> HttpResponse:
    form = ClaimFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _bad_filter(request, form)
    qs = claim_selectors.claim_queryset(
        merchant=request.merchant, filters=form.cleaned_data if form.is_bound else {}
    )
    name = f"claims-{request.merchant.code}-{timezone.localdate():%Y%m%d}.csv"
    return exports.stream_csv(
        filename=name, header=exports.claim_header(), rows=exports.claim_rows(qs)
    )


@require_GET
@merchant_required
def export_ledger(request: HttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _bad_filter(request, form)
    filters = form.cleaned_data if form.is_bound else {}
    qs = ledger_selectors.ledger_queryset(merchant=request.merchant, filters=filters)
    opening = Decimal("0.00")
    if filters.get("date_from") and not filters.get("kind"):
        # The balance carried into the period, so the running balance matches the ledger page.
        opening = ledger_selectors.ledger_balance_before(
            merchant=request.merchant, at=order_selectors.local_day_start(filters["date_from"])
        )
    name = f"ledger-{request.merchant.code}-{timezone.localdate():%Y%m%d}.csv"
    return exports.stream_csv(
        filename=name,
        header=exports.ledger_header(),
        rows=exports.ledger_rows(qs, opening_balance=opening),
    )


# --- evidence ---------------------------------------------------------------------------------


def _evidence_context(request: HttpRequest, order_id: int) -> dict:
    dossier = dossier_selectors.order_dossier(merchant=request.merchant, order_id=order_id)
    return {
        "d": dossier,
        "merchant": request.merchant,
        "generated_at": timezone.now(),
        "nav": "orders",
    }


@require_GET
@merchant_required
def evidence(request: HttpRequest, order_id: int) -> HttpResponse:
    return render(request, "orders/dashboard/evidence.html", _evidence_context(request, order_id))


@require_GET
@merchant_required
def evidence_pdf_download(request: HttpRequest, order_id: int) -> HttpResponse:
    context = _evidence_context(request, order_id)
    pdf = evidence_pdf(context=context, request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    number = context["d"].order.order_number
    response["Content-Disposition"] = f'attachment; filename="evidence-{number}.pdf"'
    return response
