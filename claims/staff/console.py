"""The operator console's home (alerts and carriers) and each carrier's onboarding checklist."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carriers.models import Carrier
from carriers.services import carrier_go_live, webhook_ping
from yinzunda.errors import DomainError

from ..selectors.console import carrier_checklist, carriers_checklists, console_alerts
from .access import carrier_or_404, staff_only


@staff_only
@require_GET
def console_home(request: HttpRequest) -> HttpResponse:
    carriers = list(Carrier.objects.order_by("-is_partner", "code"))
    context = {
        "alerts": console_alerts(),
        "checklists": carriers_checklists(carriers=carriers),
        "nav": "console",
    }
    return render(request, "claims/staff/console.html", context)


@staff_only
@require_GET
def carrier_onboarding(request: HttpRequest, carrier_id: int) -> HttpResponse:
    carrier = carrier_or_404(carrier_id)
    return render(request, "claims/staff/onboarding.html", {"checklist": carrier_checklist(carrier=carrier)})


@staff_only
@require_POST
def carrier_webhook_ping(request: HttpRequest, carrier_id: int) -> HttpResponse:
    carrier = carrier_or_404(carrier_id)
    try:
        result = webhook_ping(carrier=carrier)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if result.ok:
            messages.success(request, _("测试回调已送达：HTTP %(code)s，用时 %(ms)s 毫秒") % {"code": result.status_code, "ms": result.duration_ms})
        else:
            answer = _("HTTP %(code)s") % {"code": result.status_code} if result.status_code else result.error[:200]
            messages.error(request, _("测试回调未成功：%(answer)s") % {"answer": answer})
    return redirect("staff:carrier_onboarding", carrier_id=carrier.pk)


@staff_only
@require_POST
def carrier_go_live_view(request: HttpRequest, carrier_id: int) -> HttpResponse:
    carrier = carrier_or_404(carrier_id)
    try:
        carrier_go_live(carrier=carrier, ready=carrier_checklist(carrier=carrier).ready)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s 已上线为音尊达合作快递") % {"name": carrier.name})
    return redirect("staff:carrier_onboarding", carrier_id=carrier.pk)
