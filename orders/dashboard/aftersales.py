"""Merchant dashboard: the after-sales queue (forwarded and refused complaints) and dispute answers."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from claims.models import Complaint
from claims.selectors import aftersales as selectors
from claims.services.aftersales import claim_merchant_answer_add, complaint_aftersales_update
from yinzunda import pagination
from yinzunda.errors import DomainError, NotFound
from yinzunda.pagination import query_without_cursor

from .forms import AfterSalesFilterForm, AfterSalesReplyForm, ClaimAnswerForm
from .views import merchant_required


@require_GET
@merchant_required
def aftersales_queue(request: HttpRequest) -> HttpResponse:
    form = AfterSalesFilterForm(request.GET or None)
    status, rows = 200, []
    if form.is_bound and not form.is_valid():
        page, status = pagination.KeysetPage(items=[]), 400
    else:
        page, rows = selectors.aftersales_queue(
            merchant=request.merchant, filters=form.cleaned_data if form.is_bound else {},
            cursor=request.GET.get("cursor"),
        )
    counts = selectors.aftersales_state_counts(merchant=request.merchant)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "state_counts": [
            (code, label, counts[code]) for code, label in Complaint.AfterSales.choices
        ],
        "query": query_without_cursor(request.GET),
        "nav": "aftersales",
    }
    return render(request, "orders/dashboard/aftersales_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@merchant_required
def aftersales_detail(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = selectors.aftersales_get(merchant=request.merchant, reference=reference)
    if complaint is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = AfterSalesReplyForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                complaint_aftersales_update(
                    merchant=request.merchant, reference=reference,
                    state=form.cleaned_data["state"], reply=form.cleaned_data["reply"],
                )
            except NotFound:
                raise Http404 from None
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("已保存，买家可在投诉进度页看到您的回复"))
                return redirect("dashboard:aftersales_detail", reference=reference)
    else:
        state = complaint.aftersales_state
        if state == Complaint.AfterSales.NEW:
            state = Complaint.AfterSales.HANDLING
        form = AfterSalesReplyForm(initial={"state": state, "reply": complaint.merchant_reply})
    context = {
        "c": complaint,
        "target_at": selectors.aftersales_target_at(complaint),
        "form": form,
        "nav": "aftersales",
    }
    return render(request, "orders/dashboard/aftersales_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@merchant_required
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = selectors.merchant_claim_get(merchant=request.merchant, claim_id=claim_id)
    if claim is None:
        raise Http404
    status = 200
    form = ClaimAnswerForm()
    if request.method == "POST":
        form = ClaimAnswerForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                claim_merchant_answer_add(
                    merchant=request.merchant, claim_id=claim.pk, note=form.cleaned_data["note"],
                    evidence_url=form.cleaned_data["evidence_url"], photos=form.cleaned_data["photos"],
                    user=request.user,
                )
            except NotFound:
                raise Http404 from None
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("答辩已提交，平台仲裁员会与快递公司的申诉一并审阅"))
                return redirect("dashboard:claim_detail", claim_id=claim.pk)
    dispute = next((t for t in claim.transitions.all() if t.to_status == "disputed"), None)
    context = {"claim": claim, "dispute": dispute, "form": form, "nav": "claims"}
    return render(request, "orders/dashboard/claim_detail.html", context, status=status)
