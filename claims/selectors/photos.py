"""Complaint photos for those allowed to see them: the order's merchant, staff, the claim's carrier;
dispute-answer photos for the claim's merchant and staff. Anyone else gets None (a 404 to the caller)."""
from __future__ import annotations

from carriers.models import Carrier
from orders.models import Merchant

from ..models import ClaimMerchantAnswerPhoto, ComplaintPhoto


def photo_for_merchant(*, merchant: Merchant, photo_id: int) -> ComplaintPhoto | None:
    return ComplaintPhoto.objects.filter(pk=photo_id, complaint__order__merchant=merchant).first()


def photo_for_staff(*, photo_id: int) -> ComplaintPhoto | None:
    return ComplaintPhoto.objects.filter(pk=photo_id).first()


def photo_for_carrier(*, carrier: Carrier | int, photo_id: int) -> ComplaintPhoto | None:
    """Only a photo of a complaint that opened a claim against this carrier."""
    return ComplaintPhoto.objects.filter(pk=photo_id, complaint__claim__carrier=carrier).first()


def answer_photo_for_merchant(*, merchant: Merchant, photo_id: int) -> ClaimMerchantAnswerPhoto | None:
    return ClaimMerchantAnswerPhoto.objects.filter(pk=photo_id, answer__claim__merchant=merchant).first()


def answer_photo_for_staff(*, photo_id: int) -> ClaimMerchantAnswerPhoto | None:
    return ClaimMerchantAnswerPhoto.objects.filter(pk=photo_id).first()
