"""Request body parsing that no input can turn into a 500: size cap, nesting depth, strict JSON."""
from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class SafeJSONParser(JSONParser):
    """DRF's JSON parser (NaN/Infinity refused), plus: `[[[[…` nested past Python's recursion
    limit is a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON 嵌套层数过多。")) from None


def body_size_check(request, *, limit: int) -> None:
    """Refuse a body over `limit` bytes before reading it (Content-Length is all we trust)."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(raw)
    except ValueError:
        raise exceptions.ParseError(_("Content-Length 无效。")) from None
    if length > limit:
        raise PayloadTooLarge(_("请求体过大（上限 %(n)d KiB）。") % {"n": limit // 1024})
