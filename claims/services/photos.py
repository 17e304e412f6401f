"""Complaint photos: every upload decoded and re-encoded before anything of it is stored."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from yinzunda.images import CleanImage, ImageRejected, image_reencode

from ..errors import PhotoInvalid
from ..models import Complaint, ComplaintPhoto


def photo_reencode(*, upload: UploadedFile) -> CleanImage:
    """The upload's pixels as a new JPEG/PNG with no metadata (GPS and all), upright; the file
    name and every other byte the buyer sent are dropped."""
    try:
        return image_reencode(upload)
    except ImageRejected:
        raise PhotoInvalid(_("文件 %(name)s 不是有效的图片") % {"name": upload.name}, field="photos") from None


def complaint_photo_store(*, complaint: Complaint, photo: CleanImage) -> ComplaintPhoto:
    """Store one re-encoded photo under a random name in private storage."""
    return ComplaintPhoto.objects.create(
        complaint=complaint,
        image=ContentFile(photo.content, name=f"photo{photo.extension}"),
        content_type=photo.content_type,
        size=len(photo.content),
    )
