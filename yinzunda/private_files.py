"""Private files: stored outside any publicly served folder and read only through views that
check who asks (complaint photos, DESIGN §5.7)."""
from __future__ import annotations

import os
import re

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class PrivateFileSystemStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, which no URL pattern or web server serves; they have no URL."""

    @property
    def base_location(self) -> str:
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str) -> str:
        raise ValueError("A private file has no public URL: serve it through a view that checks who asks.")


def private_storage():
    """The storage of private files (settings.STORAGES["private"]); a callable, so that
    migrations name this function rather than a storage instance."""
    return storages["private"]


def safe_filename(name: str, *, default: str = "file") -> str:
    """A file name safe in a Content-Disposition header: ASCII letters, digits, dot, dash, underscore."""
    cleaned = _UNSAFE_FILENAME.sub("-", name).strip(".-") or default
    return cleaned[:100]


IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


def private_image_response(*, file, content_type: str, name: str) -> FileResponse:
    """An image answered as an image and nothing else: the stored content type (only image/jpeg or
    image/png are stored), no sniffing, shown inline under a sanitized name with the extension of
    its type, never cached publicly."""
    if content_type not in IMAGE_EXTENSIONS:
        raise ValueError(f"not a stored image type: {content_type}")
    response = FileResponse(file, content_type=content_type)
    filename = safe_filename(name, default="photo") + IMAGE_EXTENSIONS[content_type]
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    # Even if a browser were tricked into rendering it as a document, it could run nothing (the
    # inline style is the browser's own image viewer's).
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response
