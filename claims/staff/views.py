"""Staff pages: the platform operator's list of claims and the arbitration of disputed ones."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from yinzunda.errors import DomainError

from ..models import Claim
from ..selectors.claims import staff_claim_get, staff_claims
from ..services.claims import claim_ruling
from .forms import ClaimRulingForm


def _staff_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_staff_only
def claim_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", Claim.Status.DISPUTED)
    if status not in Claim.Status.values and status != "all":
        status = Claim.Status.DISPUTED
    claims = staff_claims(status=None if status == "all" else status)[:200]
    return render(
        request, "claims/staff/claim_list.html",
        {"claims": claims, "status": status, "statuses": Claim.Status.choices},
    )


@_staff_only
@require_http_methods(["GET", "POST"])
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = staff_claim_get(claim_id=claim_id) if claim_id < 2**63 else None  # bigint
    if claim is None:
        raise Http404
    form = ClaimRulingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                claim_ruling(
                    claim_id=claim.pk, user=request.user,
                    uphold=form.cleaned_data["decision"] == "uphold", reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
            else:
                return redirect("staff:claim_detail", claim_id=claim.pk)
        else:
            status = 400
    return render(request, "claims/staff/claim_detail.html", {"claim": claim, "form": form}, status=status)
