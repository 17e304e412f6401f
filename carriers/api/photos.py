"""Complaint photos for carriers: the claim detail lists expiring signed URLs; this view serves
one to whoever holds the URL until it expires (a browser or a downloader has no Bearer token),
and only while the photo still belongs to a claim against the carrier it was signed for."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from claims.models import ComplaintPhoto
from claims.selectors.photos import photo_for_carrier
from yinzunda.private_files import private_image_response

from .base import error_responses

SALT = "carriers.api.complaint-photo"


def photo_signed_url(request, *, photo: ComplaintPhoto, carrier_id: int) -> tuple[str, datetime]:
    """An absolute URL to one photo for one carrier, and when it stops working."""
    token = signing.TimestampSigner(salt=SALT).sign_object({"p": photo.pk, "c": carrier_id})
    expires_at = timezone.now() + timedelta(seconds=settings.YINZUNDA_PHOTO_URL_MAX_AGE)
    return request.build_absolute_uri(reverse("carrier-photo", args=[token])), expires_at


class ComplaintPhotoView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="complaint_photo",
        summary="投诉照片（签名链接）",
        description="索赔详情 complaint_photos[].url 给出的带签名、限时的链接，无需令牌；过期或不属于你的索赔返回 404。"
        "照片已由平台重新编码（无 EXIF/GPS）。",
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="签名")],
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="照片"),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="照片"),
            **error_responses(404),
        },
        tags=["claims"],
    )
    def get(self, request, token: str):
        try:
            data = signing.TimestampSigner(salt=SALT).unsign_object(
                token, max_age=settings.YINZUNDA_PHOTO_URL_MAX_AGE
            )
            photo_id, carrier_id = int(data["p"]), int(data["c"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise NotFound(_("链接无效或已过期。")) from None
        photo = photo_for_carrier(carrier=carrier_id, photo_id=photo_id)
        if photo is None:
            raise NotFound(_("链接无效或已过期。"))
        return private_image_response(
            file=photo.image.open("rb"), content_type=photo.content_type, name=f"complaint-photo-{photo.pk}"
        )
