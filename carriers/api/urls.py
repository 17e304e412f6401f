"""Carrier API routes (mounted at /api/): v1 operations, the OpenAPI schema and its browsable docs."""
from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from .claims import ClaimAcceptView, ClaimDetailView, ClaimDisputeView, ClaimListView
from .events import EventsIngestView
from .exceptions import api_not_found
from .photos import ComplaintPhotoView
from .sandbox import SandboxWaybillsView
from .settlements import SettlementConfirmPaymentView, SettlementDetailView, SettlementListView
from .waybills import WaybillDetailView, WaybillListView
from .webhook_events import WebhookEventListView


class BoundedIdConverter:
    """A positive id that fits PostgreSQL's bigint, so a huge number is a 404, not a 500."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(BoundedIdConverter, "id")

public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("v1/carrier/events", EventsIngestView.as_view(), name="carrier-events"),
    path("v1/carrier/claims", ClaimListView.as_view(), name="carrier-claims"),
    path("v1/carrier/claims/<id:claim_id>", ClaimDetailView.as_view(), name="carrier-claim"),
    path("v1/carrier/claims/<id:claim_id>/accept", ClaimAcceptView.as_view(), name="carrier-claim-accept"),
    path("v1/carrier/claims/<id:claim_id>/dispute", ClaimDisputeView.as_view(), name="carrier-claim-dispute"),
    path("v1/carrier/photos/<str:token>", ComplaintPhotoView.as_view(), name="carrier-photo"),
    path("v1/carrier/settlements", SettlementListView.as_view(), name="carrier-settlements"),
    path("v1/carrier/settlements/<id:settlement_id>", SettlementDetailView.as_view(), name="carrier-settlement"),
    path(
        "v1/carrier/settlements/<id:settlement_id>/confirm-payment",
        SettlementConfirmPaymentView.as_view(),
        name="carrier-settlement-confirm-payment",
    ),
    path("v1/carrier/webhook-events", WebhookEventListView.as_view(), name="carrier-webhook-events"),
    path("v1/carrier/waybills", WaybillListView.as_view(), name="carrier-waybills"),
    path("v1/carrier/sandbox/waybills", SandboxWaybillsView.as_view(), name="carrier-sandbox-waybills"),
    path("v1/carrier/waybills/<str:number>", WaybillDetailView.as_view(), name="carrier-waybill"),
    path("schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    # Split: the init script comes from its own URL, so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", **public), name="api-docs"),
    re_path(r"^.*$", api_not_found),
]
