"""Staff pages (namespace "staff"): the claim list and arbitration of disputed claims."""
from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim_detail"),
    path("photos/<int:photo_id>/", views.complaint_photo, name="photo"),
]
