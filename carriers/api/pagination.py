"""Keyset (cursor) pagination on (updated_at, id), ascending, so `updated_since` syncs resume cleanly."""
from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _cursor_encode(updated_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{updated_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, pk = raw.split("|", 1)
        moment, number = datetime.fromisoformat(at), int(pk)
        offset = moment.utcoffset()
        if offset is None or abs(offset) > timedelta(hours=14) or not (0 < number < 2**63):
            raise ValueError
        return moment.astimezone(UTC), number
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise exceptions.ValidationError({"cursor": [_("游标无效，请使用上一页返回的 next_cursor。")]}) from None


def page_size_param(request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not (1 <= int(raw) <= MAX_PAGE_SIZE):
        raise exceptions.ValidationError({"page_size": [_("应为 1–%(n)d 之间的整数。") % {"n": MAX_PAGE_SIZE}]})
    return int(raw)


def keyset_page(request, queryset: QuerySet) -> tuple[list, dict]:
    """One page of `queryset` and its links: `{"next_cursor", "next"}` (null on the last page)."""
    size = page_size_param(request)
    cursor = request.query_params.get("cursor")
    if cursor:
        at, pk = _cursor_decode(cursor)
        queryset = queryset.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
    rows = list(queryset.order_by("updated_at", "pk")[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _cursor_encode(rows[-1].updated_at, rows[-1].pk)
    next_url = replace_query_param(request.build_absolute_uri(), "cursor", next_cursor) if next_cursor else None
    return rows, {"next_cursor": next_cursor, "next": next_url}
