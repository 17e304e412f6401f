"""Merchant dashboard: the merchant's own settings (notification e-mails)."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..services import merchant_settings_update
from .forms import MerchantSettingsForm
from .views import merchant_required


@require_http_methods(["GET", "POST"])
@merchant_required
def merchant_settings(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    if request.method == "POST":
        form = MerchantSettingsForm(request.POST)
        if form.is_valid():
            merchant_settings_update(
                merchant=merchant, email_digest=form.cleaned_data["email_digest"],
                email_language=form.cleaned_data["email_language"],
            )
            messages.success(request, _("设置已保存"))
            return redirect("dashboard:settings")
    else:
        form = MerchantSettingsForm(
            initial={"email_digest": merchant.email_digest, "email_language": merchant.email_language}
        )
    return render(request, "orders/dashboard/settings.html", {"form": form, "nav": "settings"})
