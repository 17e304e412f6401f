"""Keyset (cursor) pagination: one query per page, no OFFSET and no COUNT."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

PAGE_SIZE = 50

# --- keyset (cursor) pagination -------------------------------------------------------------
# OFFSET + COUNT(*) reads every skipped row; at a million orders page 10,000 would take seconds.
# A cursor is the (timestamp, id) of the row where the page stops, so every page is an index
# range scan on (merchant, -created_at, -id).


@dataclass
class KeysetPage:
    items: list
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def _encode_cursor(at: datetime, pk: int, direction: str) -> str:
    raw = json.dumps([at.isoformat(), pk, direction]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int, str] | None:
    """A malformed cursor is treated as "first page": it is a bookmark, not input to reject."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, pk, direction = json.loads(raw)
        at = parse_datetime(at_text)
        if at is None or not isinstance(pk, int) or direction not in {"next", "prev"}:
            return None
        return at, pk, direction
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def keyset_paginate(
    queryset: QuerySet, *, cursor: str | None, time_field: str, page_size: int = PAGE_SIZE
) -> KeysetPage:
    """Newest first on (time_field, id); one query per page, no count."""
    decoded = decode_cursor(cursor)
    if decoded is None:
        rows = list(queryset.order_by(f"-{time_field}", "-id")[: page_size + 1])
        has_more, rows = len(rows) > page_size, rows[:page_size]
        page = KeysetPage(items=rows)
        if has_more:
            last = rows[-1]
            page.next_cursor = _encode_cursor(getattr(last, time_field), last.pk, "next")
        return page
    at, pk, direction = decoded
    if direction == "next":
        older = Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": pk})
        rows = list(queryset.filter(older).order_by(f"-{time_field}", "-id")[: page_size + 1])
        has_more, rows = len(rows) > page_size, rows[:page_size]
        page = KeysetPage(items=rows)
        if rows:
            first, last = rows[0], rows[-1]
            page.prev_cursor = _encode_cursor(getattr(first, time_field), first.pk, "prev")
            if has_more:
                page.next_cursor = _encode_cursor(getattr(last, time_field), last.pk, "next")
        return page
    newer = Q(**{f"{time_field}__gt": at}) | Q(**{time_field: at, "id__gt": pk})
    rows = list(queryset.filter(newer).order_by(time_field, "id")[: page_size + 1])
    has_more, rows = len(rows) > page_size, rows[:page_size]
    rows.reverse()
    page = KeysetPage(items=rows)
    if rows:
        first, last = rows[0], rows[-1]
        page.next_cursor = _encode_cursor(getattr(last, time_field), last.pk, "next")
        if has_more:
            page.prev_cursor = _encode_cursor(getattr(first, time_field), first.pk, "prev")
    return page
