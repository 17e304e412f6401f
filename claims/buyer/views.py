"""Buyer complaint pages (public, proven by order + phone digits) and staff arbitration pages."""
from __future__ import annotations

import time

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from orders.selectors.promises import waybill_promises
from waybills.promises import breach_state
from waybills.selectors import consent_buyer_active, waybill_consents
from waybills.services.consent import consent_buyer_grant, consent_buyer_withdraw
from yinzunda.clientip import client_ip
from yinzunda.errors import DomainError

from ..selectors import complaints as selectors
from ..services.complaints import complaint_file
from . import limits
from .forms import ComplaintForm, ConsentForm, OrderLookupForm

PROOF_TTL_SECONDS = 30 * 60


PROOFS_SESSION_KEY = "buyer_proven_orders"  # {order id: proof valid until (unix time)}
CURRENT_SESSION_KEY = "buyer_current_order"
DRAFT_SESSION_KEY = "buyer_complaint_draft"
MAX_PROVEN_ORDERS = 10


def _proven_order_ids(request: HttpRequest) -> list[int]:
    """Every order this browser proved and whose proof has not expired, most recent first.

    A buyer who proved two orders keeps both: following the first complaint after filing the
    second must not 404."""
    proofs = request.session.get(PROOFS_SESSION_KEY)
    if not isinstance(proofs, dict):
        return []
    now = time.time()
    live = [(until, int(order_id)) for order_id, until in proofs.items() if isinstance(until, int | float) and until >= now]
    return [order_id for _until, order_id in sorted(live, reverse=True)]


def _proven_order_id(request: HttpRequest) -> int | None:
    """The order the buyer is working on: the one proved or picked last, if still proven."""
    proven = _proven_order_ids(request)
    current = request.session.get(CURRENT_SESSION_KEY)
    if current in proven:
        return current
    return proven[0] if proven else None


def _remember_proof(request: HttpRequest, order_id: int) -> None:
    proofs = request.session.get(PROOFS_SESSION_KEY)
    proofs = dict(proofs) if isinstance(proofs, dict) else {}
    proofs[str(order_id)] = time.time() + PROOF_TTL_SECONDS
    # Keep the most recent few: the session cookie stays small.
    newest = sorted(proofs.items(), key=lambda item: item[1], reverse=True)[:MAX_PROVEN_ORDERS]
    request.session[PROOFS_SESSION_KEY] = dict(newest)
    request.session[CURRENT_SESSION_KEY] = order_id


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
            # Not "wrong digits": the buyer is told to wait, how long, and where else to get help.
            minutes = max(1, -(-attempt.retry_after // 60))
            return render(request, "429.html", {"retry_minutes": minutes, "buyer_lookup": True}, status=429)
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
                _remember_proof(request, order.pk)
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
    picked = request.GET.get("order", "")
    if picked.isascii() and picked.isdigit() and int(picked) in _proven_order_ids(request):
        request.session[CURRENT_SESSION_KEY] = int(picked)  # switch between proven orders
    order_id = _proven_order_id(request)
    order = selectors.buyer_order_get(order_id=order_id) if order_id else None
    if order is None:
        if request.method == "POST":
            # The proof expired while the buyer was typing: keep what was typed (not the photos,
            # a browser cannot re-send them), prove the order again, then continue with it.
            request.session[DRAFT_SESSION_KEY] = {
                "complaint_type": request.POST.get("complaint_type", "")[:32],
                "description": request.POST.get("description", "")[:2000],
            }
            return redirect(f"{reverse('buyer:complaint_start')}?next={reverse('buyer:complaint_new')}&expired=1")
        return redirect("buyer:complaint_start")
    draft = request.session.pop(DRAFT_SESSION_KEY, None) if request.method == "GET" else None
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
        initial = {"submission_token": ComplaintForm.new_token()}
        if isinstance(draft, dict):
            initial.update(complaint_type=draft.get("complaint_type", ""), description=draft.get("description", ""))
        form = ComplaintForm(initial=initial)
        status = 200
    return _order_page(request, order, form=form, status=status, draft_restored=bool(draft))


def _order_page(
    request: HttpRequest, order, *, form=None, consent_form=None, status: int = 200, draft_restored: bool = False
) -> HttpResponse:
    waybill = getattr(order, "waybill", None)
    consents = list(waybill_consents(waybill=waybill)) if waybill else []
    context = {
        "form": form or ComplaintForm(initial={"submission_token": ComplaintForm.new_token()}),
        "order": order, "waybill": waybill,
        "complaints": selectors.buyer_complaints(order_id=order.pk),
        "draft_restored": draft_restored,
        "has_yinzunda": selectors.buyer_order_has_yinzunda(order_id=order.pk),
        "other_orders": [
            o for o in selectors.buyer_orders_get(order_ids=_proven_order_ids(request)) if o.pk != order.pk
        ],
        "consent_form": consent_form or ConsentForm(),
        "consents": consents,
        "consents_active": consent_buyer_active(consents, now=timezone.now()),
        "promises": waybill_promises(waybill=waybill) if waybill else [],
    }
    return render(request, "claims/buyer/complaint_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """Record or withdraw the buyer's consent to a locker/station/reception drop for the proven order.

    A GET (a reload after a failed POST, a shared link) goes to the order page that holds the form."""
    if request.method == "GET":
        return redirect(f"{reverse('buyer:complaint_new')}#consent")
    order_id = _proven_order_id(request)
    order = selectors.buyer_order_get(order_id=order_id) if order_id else None
    if order is None:
        return redirect("buyer:complaint_start")
    waybill = getattr(order, "waybill", None)
    if waybill is None:
        raise Http404
    if request.POST.get("action") == "withdraw":
        consent_buyer_withdraw(waybill=waybill)
        messages.success(request, _("已撤回同意：快递须送货上门"))
        return redirect("buyer:complaint_new")
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            consent_buyer_grant(waybill=waybill, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("已记录您的同意，快递公司会收到通知；随时可以撤回"))
            return redirect("buyer:complaint_new")
    return _order_page(request, order, consent_form=form, status=400)


def complaint_status(request: HttpRequest, reference: str) -> HttpResponse:
    proven = _proven_order_ids(request)
    if not proven:
        # The proof expired (or this is another device): prove the order again, then come back.
        return redirect(f"{reverse('buyer:complaint_start')}?next={request.path}")
    complaint = selectors.buyer_complaint_get(order_ids=proven, reference=reference)
    if complaint is None:
        raise Http404
    request.session[CURRENT_SESSION_KEY] = complaint.order_id
    claim = getattr(complaint, "claim", None)
    waybill = complaint.waybill
    joined_breach = breach_state(complaint.joined_claim.breach) if complaint.joined_claim_id else None
    context = {
        "complaint": complaint,
        "claim": claim,
        "joined_breach_text": joined_breach.text() if joined_breach else "",
        "promises": waybill_promises(waybill=waybill) if waybill else [],
        "clock": selectors.complaint_regulation_clock(complaint=complaint),
    }
    return render(request, "claims/buyer/complaint_status.html", context)
