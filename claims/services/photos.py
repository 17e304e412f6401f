"""Complaint and dispute-answer photos: every upload decoded and re-encoded before anything of it is stored."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from yinzunda.images import CleanImage, ImageRejected, image_reencode

from ..errors import PhotoInvalid
from ..models import ClaimMerchantAnswer, ClaimMerchantAnswerPhoto, Complaint, ComplaintPhoto

MAX_PHOTO_BYTES = 5 * 1024 * 1024
COMPLAINT_PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
ANSWER_PHOTO_FORMATS = frozenset({"JPEG", "PNG"})


def photo_accept(*, upload: UploadedFile, formats: frozenset[str], field: str = "photos") -> CleanImage:
    """The upload checked (size, an image of one of `formats`) and re-encoded; the browser's
    content type and file name are not trusted. Raises PhotoInvalid naming `field`."""
    if upload.size > MAX_PHOTO_BYTES:
        raise PhotoInvalid(_("照片 %(name)s 超过 5 MB") % {"name": upload.name}, field=field)
    try:
        with Image.open(upload) as image:
            kind = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise PhotoInvalid(_("文件 %(name)s 不是有效的图片") % {"name": upload.name}, field=field) from None
    finally:
        upload.seek(0)
    if kind not in formats:
        message = (
            _("照片 %(name)s 格式不支持，请上传 JPEG、PNG 或 WebP") if "WEBP" in formats
            else _("照片 %(name)s 格式不支持，请上传 JPEG 或 PNG")
        )
        raise PhotoInvalid(message % {"name": upload.name}, field=field)
    return photo_reencode(upload=upload)


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


def answer_photo_store(*, answer: ClaimMerchantAnswer, photo: CleanImage) -> ClaimMerchantAnswerPhoto:
    """Store one re-encoded dispute-answer photo under a random name in private storage."""
    return ClaimMerchantAnswerPhoto.objects.create(
        answer=answer,
        image=ContentFile(photo.content, name=f"photo{photo.extension}"),
        content_type=photo.content_type,
        size=len(photo.content),
    )
