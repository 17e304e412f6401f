"""The data migration of existing uploads: public files (a polyglot named .html, a photo with
GPS) are re-encoded into private storage under random names and removed from MEDIA_ROOT."""
from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from PIL import Image

from claims.models import ComplaintPhoto
from tests.claims.test_photos import GPS_IFD, RANDOM_NAME, SCRIPT, gps_photo
from tests.factories import ComplaintFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("claims.migrations.0006_complaint_photos_private")


def _legacy_photo(settings, complaint, name: str, data: bytes) -> ComplaintPhoto:
    public = settings.MEDIA_ROOT / "complaints" / "2026" / "11" / name
    public.parent.mkdir(parents=True, exist_ok=True)
    public.write_bytes(data)
    photo = ComplaintPhoto.objects.create(complaint=complaint, image="x", content_type="text/html", size=len(data))
    ComplaintPhoto.objects.filter(pk=photo.pk).update(image=f"complaints/2026/11/{name}")
    return photo


def test_existing_public_uploads_are_reencoded_into_private_storage(settings):
    complaint = ComplaintFactory()
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    polyglot = _legacy_photo(settings, complaint, "box_photo.html", png.getvalue() + SCRIPT)
    gps = _legacy_photo(settings, complaint, "IMG_20261125_101500.jpg", gps_photo().read())
    broken = _legacy_photo(settings, complaint, "broken.jpg", b"not an image")

    migration.move_photos_to_private_storage(apps, None)
    migration.move_photos_to_private_storage(apps, None)  # running it again changes nothing

    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert not ComplaintPhoto.objects.filter(pk=broken.pk).exists()
    polyglot.refresh_from_db()
    gps.refresh_from_db()
    assert RANDOM_NAME.match(polyglot.image.name) and polyglot.image.name.endswith(".png")
    assert polyglot.content_type == "image/png"
    assert b"<script" not in polyglot.image.open("rb").read()
    assert RANDOM_NAME.match(gps.image.name) and gps.content_type == "image/jpeg"
    image = Image.open(gps.image.open("rb"))
    assert image.size == (30, 40) and not image.getexif().get_ifd(GPS_IFD)
    assert gps.size == gps.image.size
