"""Buyer complaint pages (public, proven by order + phone digits) and staff arbitration pages."""
from __future__ import annotations

import time

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yinzunda.clientip import client_ip
from yinzunda.errors import DomainError

from ..selectors import complaints as selectors
from ..services.complaints import complaint_file
from . import limits
from .forms import ComplaintForm, OrderLookupForm

PROOF_SESSION_KEY = "buyer_proven_order"
PROOF_TTL_SECONDS = 30 * 60


def _proven_order_id(request: HttpRequest) -> int | None:
    proof = request.session.get(PROOF_SESSION_KEY)
    if not isinstance(proof, dict) or proof.get("until", 0) < time.time():
        return None
    return proof.get("order_id")


@require_http_methods(["GET", "POST"])
def complaint_start(request: HttpRequest) -> HttpResponse:
    """Prove an order: order or waybill number plus the last 4 digits of the recipient phone."""
    form = OrderLookupForm(request.POST or None)
    status = 200
    if request.method == "POST" and not form.is_valid():
        status = 400
    elif request.method == "POST":
        number = form.cleaned_data["number"]
        found = selectors.buyer_order_find(number=number)
        attempt = limits.lookup_attempt(
            client=client_ip(request), subject=limits.lookup_subject(order_id=found.pk if found else None, number=number)
        )
        if not attempt.allowed:
            form.add_error(None, _("订单号/快递单号与手机号后四位不匹配"))
            minutes = max(1, -(-attempt.retry_after // 60))
            form.add_error(None, _("尝试次数过多，请 %(minutes)s 分钟后再试") % {"minutes": minutes})
            status = 429
        else:
            order = found and selectors.buyer_order_prove(
                number=number, phone_last4=form.cleaned_data["phone_last4"], order=found
            )
            if not order:
                # The same answer for an unknown order and wrong digits: nothing to enumerate.
                form.add_error(None, _("订单号/快递单号与手机号后四位不匹配"))
                status = 400
            else:
                limits.lookup_succeeded(attempt)
                request.session.cycle_key()
                request.session[PROOF_SESSION_KEY] = {"order_id": order.pk, "until": time.time() + PROOF_TTL_SECONDS}
                return redirect(_safe_next(request) or "buyer:complaint_new")
    return render(request, "claims/buyer/complaint_start.html", {"form": form, "next": _safe_next(request)}, status=status)


def _safe_next(request: HttpRequest) -> str | None:
    """Where to return after proving the order: only this site's complaint pages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = reverse("buyer:complaint_start")
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    order_id = _proven_order_id(request)
    order = selectors.buyer_order_get(order_id=order_id) if order_id else None
    if order is None:
        return redirect("buyer:complaint_start")
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                complaint = complaint_file(
                    order=order,
                    complaint_type=form.cleaned_data["complaint_type"],
                    description=form.cleaned_data["description"],
                    photos=form.cleaned_data["photos"],
                    submission_token=form.cleaned_data["submission_token"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                form.data = form.data.copy()
                form.data["submission_token"] = str(ComplaintForm.new_token())
                status = exc.http_status
            else:
                return redirect("buyer:complaint_status", reference=complaint.reference)
    else:
        form = ComplaintForm(initial={"submission_token": ComplaintForm.new_token()})
        status = 200
    context = {
        "form": form, "order": order, "waybill": getattr(order, "waybill", None),
        "complaints": selectors.buyer_complaints(order_id=order.pk),
    }
    return render(request, "claims/buyer/complaint_new.html", context, status=status)


def complaint_status(request: HttpRequest, reference: str) -> HttpResponse:
    order_id = _proven_order_id(request)
    if order_id is None:
        # The proof expired (or this is another device): prove the order again, then come back.
        return redirect(f"{reverse('buyer:complaint_start')}?next={request.path}")
    complaint = selectors.buyer_complaint_get(order_id=order_id, reference=reference)
    if complaint is None:
        raise Http404
    claim = getattr(complaint, "claim", None)
    context = {
        "complaint": complaint,
        "claim": claim,
        "clock": selectors.complaint_regulation_clock(complaint=complaint),
    }
    return render(request, "claims/buyer/complaint_status.html", context)
