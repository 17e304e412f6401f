"""Root URL configuration: buyer pages, merchant dashboard, staff pages, admin, carrier API.

Nothing uploaded is served from a public folder: complaint photos live in private storage and
are read through the dashboard, staff and carrier API views that check who asks.
"""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from . import health
from .views import PortalLoginView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("carriers.api.urls")),
    path("dashboard/", include("orders.dashboard.urls")),
    path("complaint/", include("claims.buyer.urls")),
    path("staff/", include("claims.staff.urls")),
]

handler500 = "yinzunda.views.server_error"
