"""Issue 14, item 2: the merchant's dispute answer carries up to three photos, re-encoded like a
buyer's (EXIF and GPS dropped), kept privately and served only to that merchant and to staff."""
from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from claims.models import Claim, ClaimMerchantAnswer, ClaimMerchantAnswerPhoto
from claims.services.claims import claim_dispute
from tests.claims.test_photos import GPS_IFD, RANDOM_NAME, body, gps_photo
from tests.factories import MerchantUserFactory, UserFactory
from tests.orders.world import open_claim, shipped_order

pytestmark = pytest.mark.django_db

ANSWER_NAME = RANDOM_NAME.pattern.replace("^complaints/", "^answers/")


def _disputed(merchant, carrier) -> Claim:
    claim = open_claim(order=shipped_order(merchant=merchant, carrier=carrier))
    return claim_dispute(claim_id=claim.pk, carrier=carrier, reason="已上门", evidence=[{"type": "photo", "url": "https://p.example/1.jpg"}])


def _png(name: str = "sms.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (0, 160, 80)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _answer(client: Client, claim: Claim, photos):
    return client.post(
        reverse("dashboard:claim_detail", args=[claim.pk]), {"note": "买家在驿站取件", "photos": photos}
    )


def _staff() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def test_answer_photos_are_stored_privately_and_the_operator_sees_them(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    response = _answer(merchant_client, claim, [gps_photo(), _png()])
    assert response.status_code == 302, response.content.decode()[:2000]
    answer = ClaimMerchantAnswer.objects.get(claim=claim)
    photos = list(answer.photos.order_by("pk"))
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    assert all(re.match(ANSWER_NAME, p.image.name) for p in photos), [p.image.name for p in photos]
    assert Client().get(f"/media/{photos[0].image.name}").status_code == 404

    mine = merchant_client.get(reverse("dashboard:claim_detail", args=[claim.pk])).content.decode()
    assert reverse("dashboard:answer_photo", args=[photos[0].pk]) in mine
    served = merchant_client.get(reverse("dashboard:answer_photo", args=[photos[0].pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"

    staff = _staff()
    page = staff.get(reverse("staff:claim_detail", args=[claim.pk])).content.decode()
    side = page[page.index('id="merchant-side"'):]
    assert reverse("staff:answer_photo", args=[photos[1].pk]) in side and 'id="carrier-side"' in page
    served = staff.get(reverse("staff:answer_photo", args=[photos[1].pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_answer_photo_loses_its_exif_and_gps(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    assert _answer(merchant_client, claim, [gps_photo()]).status_code == 302
    photo = ClaimMerchantAnswerPhoto.objects.get()
    assert "IMG_20261125" not in photo.image.name
    stored = Image.open(io.BytesIO(body(_staff().get(reverse("staff:answer_photo", args=[photo.pk])))))
    exif = stored.getexif()
    assert not exif.get_ifd(GPS_IFD) and not exif
    assert stored.size == (30, 40)  # turned upright by its orientation, then the tag dropped


@pytest.mark.parametrize("upload", [
    pytest.param(lambda: SimpleUploadedFile("a.jpg", b"not an image at all", content_type="image/jpeg"), id="not-an-image"),
    pytest.param(lambda: SimpleUploadedFile("a.gif", _gif(), content_type="image/gif"), id="gif"),
])
def test_a_file_that_is_not_a_jpeg_or_png_is_a_field_error_and_nothing_is_stored(merchant_client, shop, zto, upload):
    claim = _disputed(shop, zto)
    response = _answer(merchant_client, claim, [_png(), upload()])
    assert response.status_code == 400
    assert response.context["form"].errors["photos"]
    assert not ClaimMerchantAnswer.objects.exists() and not ClaimMerchantAnswerPhoto.objects.exists()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "GIF")
    return buffer.getvalue()


def test_an_oversized_photo_is_a_field_error_and_nothing_is_stored(merchant_client, shop, zto, monkeypatch):
    monkeypatch.setattr("claims.services.photos.MAX_PHOTO_BYTES", 100)
    claim = _disputed(shop, zto)
    response = _answer(merchant_client, claim, [gps_photo()])  # well over 100 bytes
    assert response.status_code == 400
    assert "5 MB" in " ".join(response.context["form"].errors["photos"])
    assert not ClaimMerchantAnswer.objects.exists() and not ClaimMerchantAnswerPhoto.objects.exists()


def test_a_fourth_photo_is_a_field_error_and_nothing_is_stored(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    response = _answer(merchant_client, claim, [_png(f"{i}.png") for i in range(4)])
    assert response.status_code == 400 and response.context["form"].errors["photos"]
    assert not ClaimMerchantAnswer.objects.exists() and not ClaimMerchantAnswerPhoto.objects.exists()


def test_the_answer_and_its_photos_are_one_write(merchant_client, shop, zto, monkeypatch):
    claim = _disputed(shop, zto)

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("claims.services.aftersales.answer_photo_store", fail)
    with pytest.raises(RuntimeError):
        _answer(merchant_client, claim, [_png()])
    assert not ClaimMerchantAnswer.objects.exists()


def test_another_merchant_and_strangers_get_a_404_for_the_photo(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    assert _answer(merchant_client, claim, [_png()]).status_code == 302
    photo = ClaimMerchantAnswerPhoto.objects.get()
    dashboard_url = reverse("dashboard:answer_photo", args=[photo.pk])
    staff_url = reverse("staff:answer_photo", args=[photo.pk])
    other = Client()
    other.force_login(MerchantUserFactory().user)
    assert other.get(dashboard_url).status_code == 404
    assert other.get(staff_url).status_code == 404
    assert Client().get(dashboard_url).status_code == 404
    assert merchant_client.get(staff_url).status_code == 404
    assert merchant_client.get(reverse("dashboard:answer_photo", args=[photo.pk + 1000])).status_code == 404
    assert merchant_client.get("/dashboard/answer-photos/99999999999999999999999/").status_code == 404
    # A complaint-photo id is not an answer-photo id: the two views look in their own tables.
    assert merchant_client.get(reverse("dashboard:photo", args=[photo.pk])).status_code == 404


def test_the_answer_form_posts_files(merchant_client, shop, zto):
    claim = _disputed(shop, zto)
    page = merchant_client.get(reverse("dashboard:claim_detail", args=[claim.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="photos"' in page and "multiple" in page
