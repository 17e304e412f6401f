"""Attacks on complaint photos (issue 9, reproductions 1 and 2): a PNG+script polyglot named
.html/.svg/.htm/.xhtml, a phone photo with GPS in its EXIF, a guessed photo URL. Every photo
is re-encoded, stored privately under a random name, and served as an image only to the
order's merchant, staff and the claim's carrier (signed, expiring URL)."""
from __future__ import annotations

import io
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from carriers.api.photos import photo_signed_url
from carriers.services import carrier_token_create
from claims.models import Claim, Complaint, ComplaintPhoto
from claims.services.complaints import complaint_route
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import CarrierFactory, MerchantUserFactory, UserFactory, WaybillFactory

pytestmark = pytest.mark.django_db

SCRIPT = b"<html><body><script>fetch('/dashboard/').then(r=>r.text()).then(alert)</script></body></html>"
GPS_IFD = 0x8825
ORIENTATION = 0x0112
RANDOM_NAME = re.compile(r"^complaints/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png)$")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def polyglot(name: str) -> SimpleUploadedFile:
    """A valid PNG followed by an HTML document: Pillow opens it, a browser told text/html runs it."""
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 16, 46)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue() + SCRIPT, content_type="text/html")


def gps_photo() -> SimpleUploadedFile:
    """A phone photo: 40x30 pixels stored sideways with orientation 6, GPS of the buyer's home."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (30.0, 16.0, 48.5), 3: "E", 4: (120.0, 7.0, 12.25)})
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "JPEG", exif=exif.tobytes())
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the attack carries GPS
    return SimpleUploadedFile("IMG_20261125_101500.jpg", data, content_type="image/jpeg")


def file_complaint(photos) -> tuple[Claim, list[ComplaintPhoto]]:
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    buyer = Client()
    buyer.post(
        reverse("buyer:complaint_start"),
        {"number": waybill.order.order_number, "phone_last4": waybill.order.recipient_phone[-4:]},
    )
    response = buyer.post(reverse("buyer:complaint_new"), {
        "complaint_type": "not_to_door", "description": "放驿站了", "submission_token": str(uuid.uuid4()),
        "photos": photos,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint_route(complaint_id=Complaint.objects.get(order=waybill.order).pk)
    claim = Claim.objects.select_related("complaint", "order__merchant", "carrier").get(waybill=waybill)
    return claim, list(claim.complaint.photos.order_by("pk"))


def merchant_client(claim: Claim) -> Client:
    client = Client()
    client.force_login(MerchantUserFactory(merchant=claim.order.merchant).user)
    return client


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_served_as_image(response, content_type: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r'inline; filename="complaint-photo-\d+\.(jpg|png)"', response["Content-Disposition"])


@pytest.mark.parametrize("name", ["box_photo.html", "box_photo.svg", "box_photo.htm", "box_photo.xhtml"])
def test_polyglot_upload_is_stored_reencoded_under_a_random_name_and_never_served_as_html(settings, name):
    claim, [photo] = file_complaint([polyglot(name)])
    assert RANDOM_NAME.match(photo.image.name), photo.image.name
    assert photo.content_type == "image/png"
    stored = photo.image.open("rb").read()
    assert b"<script" not in stored and b"<html" not in stored
    assert Image.open(io.BytesIO(stored)).size == (24, 16)
    # Nothing lands in the public media folder, and the old public URL does not exist.
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else True
    assert Client().get(f"/media/{photo.image.name}").status_code == 404
    assert Client().get(f"/media/complaints/{name}").status_code == 404

    response = merchant_client(claim).get(reverse("dashboard:photo", args=[photo.pk]))
    assert_served_as_image(response, "image/png")
    assert "html" not in response["Content-Type"] and name not in response["Content-Disposition"]
    assert b"<script" not in body(response)


def test_gps_exif_is_dropped_and_orientation_applied():
    claim, [photo] = file_complaint([gps_photo()])
    assert RANDOM_NAME.match(photo.image.name) and photo.image.name.endswith(".jpg")
    assert "IMG_20261125" not in photo.image.name
    response = staff_client().get(reverse("staff:photo", args=[photo.pk]))
    assert_served_as_image(response, "image/jpeg")
    served = Image.open(io.BytesIO(body(response)))
    assert served.size == (30, 40)  # turned upright, then the orientation tag dropped with the rest
    assert not served.getexif() and "exif" not in served.info and "icc_profile" not in served.info


def test_guessed_photo_urls_are_404_for_anyone_not_allowed():
    claim, [photo] = file_complaint([gps_photo()])
    dashboard_url = reverse("dashboard:photo", args=[photo.pk])
    staff_url = reverse("staff:photo", args=[photo.pk])
    other_merchant = Client()
    other_merchant.force_login(MerchantUserFactory().user)
    plain_user = Client()
    plain_user.force_login(UserFactory())
    for client in (Client(), other_merchant, plain_user):
        assert client.get(dashboard_url).status_code == 404  # not a login redirect: nothing to learn
        assert client.get(staff_url).status_code == 404
    mine = merchant_client(claim)
    assert mine.get(staff_url).status_code == 404
    assert mine.get(reverse("dashboard:photo", args=[photo.pk + 1000])).status_code == 404
    assert mine.get("/dashboard/photos/99999999999999999999999/").status_code == 404
    assert mine.get(dashboard_url).status_code == 200
    assert staff_client().get(staff_url).status_code == 200


@override_settings(DEBUG=False)
def test_photos_are_served_with_debug_off_as_in_production():
    claim, [photo] = file_complaint([gps_photo()])
    assert merchant_client(claim).get(reverse("dashboard:photo", args=[photo.pk])).status_code == 200
    assert staff_client().get(reverse("staff:photo", args=[photo.pk])).status_code == 200


def test_pages_link_photos_through_the_authorized_views():
    claim, [photo] = file_complaint([gps_photo()])
    url = reverse("dashboard:photo", args=[photo.pk])
    mine = merchant_client(claim)
    for page in ("dashboard:order_detail", "dashboard:evidence"):
        html = mine.get(reverse(page, args=[claim.order_id])).content.decode()
        assert f'href="{url}"' in html or f'src="{url}"' in html, page
        assert "/media/" not in html
    staff_page = staff_client().get(reverse("staff:claim_detail", args=[claim.pk])).content.decode()
    assert reverse("staff:photo", args=[photo.pk]) in staff_page and "/media/" not in staff_page


def _carrier_api(carrier) -> APIClient:
    _, raw = carrier_token_create(carrier=carrier)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_claims_carrier_gets_expiring_signed_photo_urls(settings):
    claim, photos = file_complaint([gps_photo(), polyglot("box_photo.svg")])
    detail = _carrier_api(claim.carrier).get(f"/api/v1/carrier/claims/{claim.pk}").json()
    assert detail["complaint_photo_count"] == 2
    links = detail["complaint_photos"]
    assert [link["id"] for link in links] == [p.pk for p in photos]
    assert [link["content_type"] for link in links] == ["image/jpeg", "image/png"]
    # The URL works without the carrier's token (a browser can open it) ...
    response = Client().get(links[1]["url"])
    assert_served_as_image(response, "image/png")
    assert b"<script" not in body(response)
    # ... is tamper-proof ...
    assert Client().get(links[1]["url"][:-2] + "xx").status_code == 404
    assert Client().get(reverse("carrier-photo", args=["not-a-token"])).status_code == 404
    # ... and expires.
    settings.YINZUNDA_PHOTO_URL_MAX_AGE = -1
    assert Client().get(links[0]["url"]).status_code == 404


def test_another_carrier_cannot_reach_the_photos():
    claim, [photo] = file_complaint([gps_photo()])
    other = CarrierFactory(code="YTO", name="圆通速递", waybill_prefix="YT")
    assert _carrier_api(other).get(f"/api/v1/carrier/claims/{claim.pk}").status_code == 404
    # Even a URL correctly signed for the other carrier does not open this claim's photo.
    request = type("R", (), {"build_absolute_uri": staticmethod(lambda path: path)})()
    forged, _ = photo_signed_url(request, photo=photo, carrier_id=other.pk)
    assert Client().get(forged).status_code == 404


def test_a_claim_without_photos_lists_none():
    waybill = WaybillFactory()
    claim, _ = file_complaint([])
    assert waybill  # a second parcel exists: its claims are not mixed in
    detail = _carrier_api(claim.carrier).get(f"/api/v1/carrier/claims/{claim.pk}").json()
    assert detail["complaint_photos"] == [] and detail["complaint_photo_count"] == 0
