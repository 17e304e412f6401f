"""URL routes of the claims app: buyer complaint pages and staff arbitration pages."""
from django.urls import path

from . import views

app_name = "claims"

urlpatterns = [
    path("complaint/", views.complaint_start, name="complaint_start"),
    path("complaint/new/", views.complaint_new, name="complaint_new"),
    path("complaint/<str:reference>/", views.complaint_status, name="complaint_status"),
    path("staff/claims/", views.staff_claim_list, name="staff_claim_list"),
    path("staff/claims/<int:claim_id>/", views.staff_claim_detail, name="staff_claim_detail"),
]
