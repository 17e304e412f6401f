"""Complaint photos move to private storage, re-encoded (issue 9): each file under the public
MEDIA_ROOT is decoded and stored again under a random name in PRIVATE_MEDIA_ROOT with no
metadata, then the public copy is deleted. A file that no longer decodes is dropped with its row
(it could not have been shown as an image anyway)."""

import io
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import migrations, models

import claims.models
import yinzunda.private_files
from yinzunda.images import ImageRejected, image_reencode


def move_photos_to_private_storage(apps, schema_editor):
    ComplaintPhoto = apps.get_model("claims", "ComplaintPhoto")
    storage = yinzunda.private_files.private_storage()
    public_root = Path(settings.MEDIA_ROOT).resolve()
    moved = dropped = 0
    for photo in ComplaintPhoto.objects.order_by("pk").iterator():
        name = photo.image.name
        public = (public_root / name).resolve()
        if public_root not in public.parents or not public.is_file():
            continue  # already private (or never stored): nothing public to move
        try:
            clean = image_reencode(io.BytesIO(public.read_bytes()))
        except ImageRejected:
            photo.delete()
            dropped += 1
        else:
            month = photo.uploaded_at.strftime("%Y/%m")
            stored = storage.save(f"complaints/{month}/{secrets.token_hex(16)}{clean.extension}", ContentFile(clean.content))
            ComplaintPhoto.objects.filter(pk=photo.pk).update(
                image=stored, content_type=clean.content_type, size=len(clean.content)
            )
            moved += 1
        public.unlink()
    if moved or dropped:
        print(f"\n  complaint photos: {moved} re-encoded into private storage, {dropped} undecodable dropped")


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0005_complaint_joined_claim'),
    ]

    operations = [
        migrations.AlterField(
            model_name='complaintphoto',
            name='image',
            field=models.ImageField(max_length=200, storage=yinzunda.private_files.private_storage, upload_to=claims.models.complaint_photo_path, verbose_name='照片'),
        ),
        migrations.RunPython(move_photos_to_private_storage, migrations.RunPython.noop),
    ]
