"""Sandbox-only operations: a test token creates test waybills of its sandbox carrier."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from orders.shipping import SANDBOX_MAX_WAYBILLS, sandbox_waybills_create

from .base import CarrierAPIView, error_responses, validated_input
from .waybills import WaybillOutput, waybill_as_dict


class StrictBooleanField(serializers.BooleanField):
    """true or false, never "yes" or 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError(_("应为 true 或 false。"), code="invalid_type")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, never "2" or 2.0."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(_("应为整数。"), code="invalid_type")
        return super().to_internal_value(data)


class SandboxWaybillsView(CarrierAPIView):
    @extend_schema_serializer(component_name="SandboxWaybills")
    class Input(serializers.Serializer):
        count = StrictIntegerField(min_value=1, max_value=SANDBOX_MAX_WAYBILLS, required=False, default=1)
        with_tier = StrictBooleanField(required=False, default=False, help_text="为 true 时面单带 SVC-WBHOMEDELIVERY")

    Output = inline_serializer(name="SandboxWaybillList", fields={"results": WaybillOutput(many=True)})

    @extend_schema(
        operation_id="sandbox_waybills_create",
        summary="沙箱：生成测试面单",
        description=(
            "仅测试令牌（`yzd_test_…`）可用，正式令牌返回 404。为沙箱快递公司开出测试面单（可带音尊达），"
            "之后可对其推送扫描、同步面单、处理索赔与结算，流程与正式环境相同；沙箱里不发生任何资金往来，"
            "沙箱回调的 `livemode` 为 false，正式数据不可见。"
        ),
        request=Input,
        responses={201: Output, **error_responses(400, 401, 404, 413, 415, 429)},
        tags=["sandbox"],
    )
    def post(self, request):
        data = validated_input(self.Input, request)
        waybills = sandbox_waybills_create(carrier=self.carrier, count=data["count"], with_tier=data["with_tier"])
        return Response({"results": [waybill_as_dict(w) for w in waybills]}, status=201)
