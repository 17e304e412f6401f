"""Buyer pages (namespace "buyer"): prove an order, file a complaint, follow its status."""
from django.urls import path

from . import views

app_name = "buyer"

urlpatterns = [
    path("", views.complaint_start, name="complaint_start"),
    path("new/", views.complaint_new, name="complaint_new"),
    path("consent/", views.consent, name="consent"),
    path("<str:reference>/", views.complaint_status, name="complaint_status"),
]
