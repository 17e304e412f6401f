"""Uploaded images decoded and drawn afresh: no byte of the upload is ever stored or served.

What a phone or an attacker put around the pixels (EXIF with GPS, comments, ICC profiles, a
script appended after the image data, an HTML or SVG file name) does not survive: the pixels
are decoded, turned upright by their EXIF orientation, copied into a new image that carries no
metadata, and encoded again as JPEG (or PNG when the image has transparency or was a PNG).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo decodes; a decompression bomb does not
MAX_EDGE = 4096  # evidence needs no more: larger photos are scaled down


class ImageRejected(ValueError):
    """Not an image we accept: unreadable, truncated, too large, or of another format."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    extension: str  # ".jpg" or ".png"
    content_type: str  # "image/jpeg" or "image/png"
    width: int
    height: int


def image_reencode(data: BinaryIO) -> CleanImage:
    """Decode `data` fully and encode a new image from its pixels alone."""
    try:
        data.seek(0)
        with Image.open(data) as source:
            if source.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"format {source.format} is not accepted")
            if source.width * source.height > MAX_PIXELS:
                raise ImageRejected("too many pixels")
            source.load()  # the whole image is decoded here: truncated data fails now
            upright = ImageOps.exif_transpose(source)
            has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
                upright.mode == "P" and "transparency" in upright.info
            )
            as_png = has_alpha or source.format == "PNG"
            mode = "RGBA" if has_alpha else "RGB"
            pixels = upright.convert(mode)
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(str(exc) or exc.__class__.__name__) from None
    pixels.thumbnail((MAX_EDGE, MAX_EDGE))
    # A new image: it carries the pixels and nothing of the source's info (EXIF, ICC, text chunks).
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    if as_png:
        clean.save(out, format="PNG")
        return CleanImage(out.getvalue(), ".png", "image/png", clean.width, clean.height)
    clean.save(out, format="JPEG", quality=88)
    return CleanImage(out.getvalue(), ".jpg", "image/jpeg", clean.width, clean.height)
