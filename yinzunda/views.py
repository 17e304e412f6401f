"""Project-level pages: the login that sends each kind of user to its own start page."""
from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse

from orders.selectors.merchants import merchant_for_user


class PortalLoginView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if user.is_staff and merchant_for_user(user=user) is None:
            return f"{reverse('staff:claim_list')}?status=disputed"
        return super().get_default_redirect_url()
