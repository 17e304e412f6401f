"""Staff pages (namespace "staff"): the console (alerts, onboarding), arbitration, the carrier scorecard."""
from django.urls import path

from . import console, scorecard, views

app_name = "staff"

urlpatterns = [
    path("", console.console_home, name="console"),
    path("carriers/<int:carrier_id>/onboarding/", console.carrier_onboarding, name="carrier_onboarding"),
    path("carriers/<int:carrier_id>/ping/", console.carrier_webhook_ping, name="carrier_ping"),
    path("carriers/<int:carrier_id>/go-live/", console.carrier_go_live_view, name="carrier_go_live"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:claim_id>/", views.claim_detail, name="claim_detail"),
    path("photos/<int:photo_id>/", views.complaint_photo, name="photo"),
    path("answer-photos/<int:photo_id>/", views.answer_photo, name="answer_photo"),
    path("scorecard/", scorecard.scorecard, name="scorecard"),
    path("scorecard.csv", scorecard.scorecard_csv, name="scorecard_csv"),
    path("scorecard/refresh/", scorecard.scorecard_refresh_now, name="scorecard_refresh"),
    path("scorecard/carriers/<int:carrier_id>/", scorecard.scorecard_carrier, name="scorecard_carrier"),
]
