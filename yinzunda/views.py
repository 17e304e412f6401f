"""Project-level pages: the login that sends each kind of user to its own start page."""
from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.urls import reverse
from django.utils import translation

from orders.selectors.merchants import merchant_for_user

from .context_processors import support_contact_text


class PortalLoginView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if user.is_staff and merchant_for_user(user=user) is None:
            return f"{reverse('staff:claim_list')}?status=disputed"
        return super().get_default_redirect_url()


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: both languages, the way back, the platform's contact. Rendered without the
    request's context (the failure may be in a middleware or the database)."""
    with translation.override("zh-hans"):
        chinese = support_contact_text()
    with translation.override("en"):
        english = support_contact_text()
    html = loader.get_template("500.html").render({"support_contact": chinese, "support_contact_en": english})
    return HttpResponseServerError(html)
