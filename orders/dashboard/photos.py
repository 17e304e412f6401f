"""Complaint photos for the merchant whose order they belong to, dispute-answer photos for the merchant
whose claim they answer; anyone else gets a 404."""
from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from claims.selectors.photos import answer_photo_for_merchant, photo_for_merchant
from orders.selectors import merchants
from yinzunda.private_files import private_image_response


def _merchant(request: HttpRequest):
    # No login redirect: an anonymous visitor learns nothing, not even that the photo exists.
    return merchants.merchant_for_user(user=request.user) if request.user.is_authenticated else None


@require_GET
def complaint_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    merchant = _merchant(request)
    photo = photo_for_merchant(merchant=merchant, photo_id=photo_id) if merchant and photo_id < 2**63 else None
    if photo is None:
        raise Http404
    return private_image_response(
        file=photo.image.open("rb"), content_type=photo.content_type,
        name=f"complaint-photo-{photo.pk}",
    )


@require_GET
def answer_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    merchant = _merchant(request)
    photo = answer_photo_for_merchant(merchant=merchant, photo_id=photo_id) if merchant and photo_id < 2**63 else None
    if photo is None:
        raise Http404
    return private_image_response(
        file=photo.image.open("rb"), content_type=photo.content_type, name=f"answer-photo-{photo.pk}",
    )
