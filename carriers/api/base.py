"""What every carrier API view shares: auth, throttle, error schema, strict fields, list filters."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from carriers.models import Carrier
from yinzunda import timestamps

from .authentication import CarrierTokenAuthentication, IsCarrier
from .contract import ERROR_CODE_VALUES, ERROR_CODES
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .pagination import MAX_PAGE_SIZE
from .parsers import SafeJSONParser, body_size_check
from .throttling import CarrierTokenThrottle


class CarrierAPIView(APIView):
    authentication_classes = [CarrierTokenAuthentication]
    permission_classes = [IsCarrier]
    throttle_classes = [CarrierTokenThrottle]
    parser_classes = [SafeJSONParser]
    body_limit = "default"  # a key of settings.YINZUNDA_API_BODY_LIMITS

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication and throttling first
        body_size_check(request, limit=settings.YINZUNDA_API_BODY_LIMITS[self.body_limit])

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in getattr(request, "ratelimit_headers", {}).items():
            response[name] = value
        return response

    @property
    def carrier(self) -> Carrier:
        return self.request.user.carrier


class StrictCharField(serializers.CharField):
    """A string and only a string: no numbers coerced, no NUL, no lone surrogates."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("应为字符串。"), code="invalid_type")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError(_("包含无效的 Unicode 字符。"), code="invalid_unicode") from None
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """Money as a string ("5.00"), never a JSON number: a float has already lost the cents."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("应为字符串形式的金额，例如 \"5.00\"。"), code="invalid_type")
        return super().to_internal_value(data)


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.ChoiceField(
                    choices=ERROR_CODE_VALUES, help_text="稳定的机器可读代码：" + "；".join(f"{k}：{v}" for k, v in ERROR_CODES.items())
                ),
                "message": serializers.CharField(help_text="给人看的说明"),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="出错的字段（点号路径，如 evidence.0.url）→ 错误说明",
                ),
            },
        )
    },
)

_ERROR_TEXT = {
    400: "请求有误（JSON 格式、字段类型或取值）；fields 指出字段",
    401: "缺少令牌，或令牌无效/已吊销",
    404: "不存在，或不属于你的快递公司",
    409: "状态冲突：当前状态不允许该操作，或同一幂等键的请求仍在处理中",
    422: "同一幂等键用于了不同的请求体，或业务校验未通过",
    413: "请求体超过上限（YINZUNDA_API_BODY_LIMITS：事件推送 8 MiB，其余 64 KiB），请求未被读取",
    415: "请求体不是 JSON（Content-Type 应为 application/json）",
    429: "超出该令牌的请求频率，见 Retry-After 头",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code]) for code in codes}


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="可选。同一键 + 同一请求体在 24 小时内重放首个应答；同一键 + 不同请求体返回 422；"
    "首个请求仍在处理时返回 409。1–255 个可见 ASCII 字符。",
)


def list_parameters(status_choices: list[str]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "status", {"type": "array", "items": {"type": "string", "enum": list(status_choices)}},
            style="form", explode=False, description="按状态过滤，可逗号分隔多个，如 status=open,disputed",
        ),
        OpenApiParameter(
            "updated_since", OpenApiTypes.DATETIME, description="只返回此时间（含）之后更新的，ISO 8601 带时区偏移"
        ),
        OpenApiParameter("cursor", OpenApiTypes.STR, description="上一页返回的 next_cursor"),
        OpenApiParameter("page_size", OpenApiTypes.INT, description=f"每页条数，1–{MAX_PAGE_SIZE}，默认 50"),
    ]


def parse_statuses(request, choices: list[str]) -> list[str] | None:
    raw = request.query_params.get("status")
    if raw is None or raw == "":
        return None
    statuses = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in choices]
    if unknown or not statuses:
        raise exceptions.ValidationError({"status": [_("未知的状态，可选：%(c)s") % {"c": ", ".join(choices)}]})
    return statuses


def parse_aware_datetime(value: str, *, field: str) -> datetime:
    try:
        return timestamps.parse_aware_datetime(value)
    except timestamps.TimestampInvalid as exc:
        raise exceptions.ValidationError({field: [exc.message]}) from None


def parse_updated_since(request) -> datetime | None:
    raw = request.query_params.get("updated_since")
    if raw is None or raw == "":
        return None
    return parse_aware_datetime(raw, field="updated_since")


def validated_input(serializer_class, request) -> dict:
    """The request body (a JSON object) validated by the view's Input serializer."""
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"non_field_errors": [_("请求体应为 JSON 对象。")]})
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
