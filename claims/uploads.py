"""Checks of uploaded photos (buyers' complaints, merchants' dispute answers): the real image type."""
from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def validate_photo(photo: UploadedFile) -> str:
    """The real image type, checked by Pillow (the browser's content type is not trusted)."""
    if photo.size > MAX_PHOTO_BYTES:
        raise forms.ValidationError(_("照片 %(name)s 超过 5 MB") % {"name": photo.name})
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise forms.ValidationError(_("文件 %(name)s 不是有效的图片") % {"name": photo.name}) from None
    finally:
        photo.seek(0)
    if kind not in PHOTO_FORMATS:
        raise forms.ValidationError(_("照片 %(name)s 格式不支持，请上传 JPEG、PNG 或 WebP") % {"name": photo.name})
    return PHOTO_FORMATS[kind]
