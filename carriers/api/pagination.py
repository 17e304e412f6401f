"""API pages: the shared keyset paginator on (updated_at, id), oldest change first, so `updated_since` syncs resume."""
from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.utils.urls import replace_query_param

from yinzunda.pagination import decode_cursor, keyset_paginate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size_param(request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not (1 <= int(raw) <= MAX_PAGE_SIZE):
        raise exceptions.ValidationError({"page_size": [_("应为 1–%(n)d 之间的整数。") % {"n": MAX_PAGE_SIZE}]})
    return int(raw)


def keyset_page(request, queryset: QuerySet) -> tuple[list, dict]:
    """One page of `queryset`, oldest change first, and its links: `{"next_cursor", "next"}` (null on the last page)."""
    size = page_size_param(request)
    cursor = request.query_params.get("cursor")
    if cursor and decode_cursor(cursor) is None:
        raise exceptions.ValidationError({"cursor": [_("游标无效，请使用上一页返回的 next_cursor。")]})
    page = keyset_paginate(queryset, cursor=cursor, time_field="updated_at", page_size=size, ascending=True)
    next_cursor = page.next_cursor
    next_url = replace_query_param(request.build_absolute_uri(), "cursor", next_cursor) if next_cursor else None
    return page.items, {"next_cursor": next_cursor, "next": next_url}
