"""Webhook events of the calling carrier: catch up on everything raised for it (kept ≥ 30 days)."""
from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from carriers.models import WebhookDelivery
from carriers.selectors import webhook_events_list

from .base import CarrierAPIView, error_responses, parse_aware_datetime
from .pagination import MAX_PAGE_SIZE, page_size_param


class WebhookEventOutput(serializers.Serializer):
    event_id = serializers.CharField(help_text="与回调请求体及 webhook-id 头相同，按它去重")
    type = serializers.ChoiceField(source="event_type", choices=WebhookDelivery.EventType.values)
    sequence = serializers.IntegerField(help_text="本快递公司的事件序号，严格递增")
    created_at = serializers.DateTimeField()
    data = serializers.SerializerMethodField(help_text="与回调请求体的 data 完全相同")
    delivery_status = serializers.ChoiceField(
        source="status", choices=WebhookDelivery.Status.values,
        help_text="pending 待发送/重试中；delivered 已送达；failed 重试 3 天后放弃；no_endpoint 事件发生时未登记回调地址",
    )
    attempt_count = serializers.IntegerField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    livemode = serializers.SerializerMethodField(help_text="与回调请求体相同：沙箱（测试令牌）的事件为 false")

    def get_livemode(self, obj) -> bool:
        return bool(obj.payload.get("livemode", True))

    def get_data(self, obj) -> dict:
        return obj.payload.get("data", {})


def _sequence_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"seq|{sequence}".encode()).decode().rstrip("=")


def _sequence_from_cursor(cursor: str) -> int:
    try:
        kind, number = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
        if kind != "seq" or not number.isdigit() or int(number) >= 2**63:
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise exceptions.ValidationError({"cursor": [_("游标无效，请使用上一页返回的 next_cursor。")]}) from None


def _after_sequence(request) -> int | None:
    raw = request.query_params.get("after_sequence")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) >= 2**63:
        raise exceptions.ValidationError({"after_sequence": [_("应为非负整数。")]})
    return int(raw)


class WebhookEventListView(CarrierAPIView):
    Output = inline_serializer(
        name="WebhookEventPage",
        fields={
            "results": WebhookEventOutput(many=True),
            "next_cursor": serializers.CharField(allow_null=True, help_text="下一页的游标；末页为 null"),
            "next": serializers.URLField(allow_null=True, help_text="下一页的完整地址；末页为 null"),
        },
    )

    @extend_schema(
        operation_id="webhook_events_list",
        summary="本快递公司的回调事件（补收）",
        description="平台为本快递公司产生的每个回调事件（至少保留 30 天），包括未登记回调地址时产生的，"
        "按 sequence 升序的游标分页。漏收回调时：记下最后处理的 sequence，用 after_sequence 或 since 补收。",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="只返回此时间（含）之后产生的，ISO 8601 带时区偏移"),
            OpenApiParameter("after_sequence", OpenApiTypes.INT, description="只返回 sequence 大于此值的"),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="上一页返回的 next_cursor"),
            OpenApiParameter("page_size", OpenApiTypes.INT, description=f"每页条数，1–{MAX_PAGE_SIZE}，默认 50"),
        ],
        responses={200: Output, **error_responses(400, 401, 429)},
        tags=["webhooks"],
    )
    def get(self, request):
        raw_since = request.query_params.get("since")
        since = parse_aware_datetime(raw_since, field="since") if raw_since else None
        after = _after_sequence(request)
        size = page_size_param(request)
        cursor = request.query_params.get("cursor")
        if cursor:
            after = max(after or 0, _sequence_from_cursor(cursor))
        rows = list(webhook_events_list(carrier=self.carrier, since=since, after_sequence=after)[: size + 1])
        next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            next_cursor = _sequence_cursor(rows[-1].sequence)
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", next_cursor) if next_cursor else None
        return Response(
            {"results": WebhookEventOutput(rows, many=True).data, "next_cursor": next_cursor, "next": next_url}
        )
