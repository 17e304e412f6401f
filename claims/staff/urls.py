"""Staff pages (namespace "staff"): the claim list and arbitration of disputed claims."""
from django.urls import path

from . import scorecard, views

app_name = "staff"

urlpatterns = [
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim_detail"),
    path("photos/<int:photo_id>/", views.complaint_photo, name="photo"),
    path("scorecard/", scorecard.scorecard, name="scorecard"),
    path("scorecard.csv", scorecard.scorecard_csv, name="scorecard_csv"),
    path("scorecard/refresh/", scorecard.scorecard_refresh_now, name="scorecard_refresh"),
    path("scorecard/carriers/<int:carrier_id>/", scorecard.scorecard_carrier, name="scorecard_carrier"),
]
