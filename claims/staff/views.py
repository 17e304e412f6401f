"""Staff pages: the platform operator's list of claims and the arbitration of disputed ones."""
from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from orders.selectors.promises import waybill_promises
from waybills.promises import breach_state
from waybills.selectors import waybill_consents
from yinzunda.errors import DomainError
from yinzunda.pagination import KeysetPage, query_without_cursor
from yinzunda.private_files import private_image_response

from ..errors import ClaimTransitionNotAllowed
from ..models import Claim
from ..selectors.arbitration import arbitration_queue, arbitration_target, claim_ruling_last
from ..selectors.claims import staff_claim_get, staff_claims
from ..selectors.complaints import answer_clock_calendar_gaps
from ..selectors.photos import answer_photo_for_staff, photo_for_staff
from ..services.claims import claim_ruling
from .access import staff_only
from .forms import ArbitrationFilterForm, ClaimRulingForm


@staff_only
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """The arbitration queue (disputed, oldest first); `?status=` browses claims in another state."""
    status = request.GET.get("status", Claim.Status.DISPUTED)
    if status not in Claim.Status.values and status != "all":
        status = Claim.Status.DISPUTED
    context = {
        "status": status, "statuses": Claim.Status.choices, "target_hours": arbitration_target().total_seconds() // 3600,
        "calendar_gaps": answer_clock_calendar_gaps(),
    }
    if status != Claim.Status.DISPUTED:
        context["claims"] = staff_claims(status=None if status == "all" else status)[:200]
        return render(request, "claims/staff/claim_list.html", context)
    form = ArbitrationFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        page, code = KeysetPage(items=[]), 400
    else:
        filters = form.cleaned_data if form.is_bound else {}
        page, code = arbitration_queue(filters=filters, cursor=request.GET.get("cursor")), 200
    context.update(form=form, page=page, query=query_without_cursor(request.GET))
    return render(request, "claims/staff/claim_queue.html", context, status=code)



@staff_only
@require_http_methods(["GET", "POST"])
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = staff_claim_get(claim_id=claim_id) if claim_id < 2**63 else None  # bigint
    if claim is None:
        raise Http404
    form = ClaimRulingForm(request.POST or None) if claim.can_rule() else None
    status = 200
    if request.method == "POST" and form is None:
        # A second operator arriving late: the page says who ruled, and when (no bare 409).
        messages.warning(request, _("该索赔已有结论，您的裁定未提交。"))
    elif request.method == "POST":
        if form.is_valid():
            try:
                claim_ruling(
                    claim_id=claim.pk, user=request.user,
                    uphold=form.cleaned_data["decision"] == "uphold", reason=form.cleaned_data["reason"],
                )
            except ClaimTransitionNotAllowed:
                messages.warning(request, _("该索赔刚刚已被其他仲裁员裁定，您的裁定未提交。"))
                return redirect("staff:claim_detail", claim_id=claim.pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                messages.success(request, _("裁定已提交"))
                return redirect("staff:claim_detail", claim_id=claim.pk)
        else:
            status = 400
    state = breach_state(claim.breach)
    context = {
        "claim": claim, "form": form, "ruling": claim_ruling_last(claim=claim),
        "breach_text": state.observed_text() if state else "",
        "promises": waybill_promises(waybill=claim.waybill),
        "consents": waybill_consents(waybill=claim.waybill),
    }
    return render(request, "claims/staff/claim_detail.html", context, status=status)


@require_http_methods(["GET"])
def complaint_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """A complaint photo for an operator; anyone else (anonymous too) gets a 404, not a login page."""
    allowed = request.user.is_authenticated and request.user.is_staff
    photo = photo_for_staff(photo_id=photo_id) if allowed and photo_id < 2**63 else None
    if photo is None:
        raise Http404
    return private_image_response(
        file=photo.image.open("rb"), content_type=photo.content_type,
        name=f"complaint-photo-{photo.pk}",
    )


@require_http_methods(["GET"])
def answer_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    """A merchant's dispute-answer photo for an operator; anyone else gets a 404, as for complaint photos."""
    allowed = request.user.is_authenticated and request.user.is_staff
    photo = answer_photo_for_staff(photo_id=photo_id) if allowed and photo_id < 2**63 else None
    if photo is None:
        raise Http404
    return private_image_response(
        file=photo.image.open("rb"), content_type=photo.content_type, name=f"answer-photo-{photo.pk}",
    )
