"""POST /api/v1/carrier/events: batches of up to 1000 scan events, each validated on its own."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from waybills.models import DeliveryMethod, EventCode, ProofType
from waybills.services.tracking import tracking_events_ingest
from waybills.services.tracking_validation import MAX_EVENTS_PER_BATCH

from .base import CarrierAPIView, error_responses
from .contract import REJECTION_CODE_VALUES, REJECTION_CODES
from .parsers import FastJSONParser


class EventsIngestView(CarrierAPIView):
    """The hot path: validation is hand-written (waybills.services) because DRF serializers cost
    ~100 µs per nested item; these serializers only document the contract."""

    parser_classes = [FastJSONParser]
    body_limit = "events"  # 8 MiB: 1000 events with every field at its maximum fit (≈5.1 MiB)

    class EventInput(serializers.Serializer):
        event_id = serializers.CharField(
            max_length=64, help_text="快递公司的事件编号（1–64 个可见 ASCII 字符）；同一快递公司内唯一，重复推送被忽略"
        )
        waybill_number = serializers.CharField(max_length=32, help_text="平台电子面单号（含校验位），如 ZT00000010025")
        code = serializers.ChoiceField(choices=EventCode.values)
        occurred_at = serializers.DateTimeField(
            help_text="ISO 8601，必须带时区偏移；不得晚于当前时间 5 分钟以上，不得早于面单签发时间（允许少量时钟误差）；"
            "签收事件若在发生很久之后才推送，照常保存但标记为迟报（late），不能使投诉超期"
        )
        location = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="地点，≤200 字")
        delivery_method = serializers.ChoiceField(
            choices=DeliveryMethod.values, required=False, allow_null=True, help_text="仅 DELIVERED 事件，且必填"
        )
        proof_type = serializers.ChoiceField(choices=ProofType.values, required=False, allow_null=True)
        proof_url = serializers.URLField(max_length=500, required=False, allow_blank=True, help_text="https 链接")
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, help_text="备注，≤500 字")
        consent_evidence = serializers.CharField(
            max_length=500, required=False, allow_blank=True,
            help_text="可选：买家同意放至快递柜/驿站/前台的凭证（买家回复、通话记录编号或链接，≤500 字）；"
            "仅限 delivery_method 为 locker/station/reception 的 DELIVERED 事件。记为快递公司提供的同意记录，"
            "可用于申诉，但不能代替买家在平台上的同意",
        )

    Input = inline_serializer(
        name="EventBatch",
        fields={"events": EventInput(many=True, min_length=1, max_length=MAX_EVENTS_PER_BATCH)},
    )

    class Rejection(serializers.Serializer):
        index = serializers.IntegerField(help_text="该事件在 events 中的下标（从 0 开始）")
        field = serializers.CharField(help_text="出错的字段名")
        code = serializers.ChoiceField(
            choices=REJECTION_CODE_VALUES, help_text="机器可读代码：" + "；".join(f"{k}：{v}" for k, v in REJECTION_CODES.items())
        )
        error = serializers.CharField(help_text="说明")

    Output = inline_serializer(
        name="EventBatchResult",
        fields={
            "accepted": serializers.IntegerField(help_text="新保存的事件数"),
            "duplicates": serializers.IntegerField(help_text="此前已收到（或本批内重复）的事件数"),
            "rejected": Rejection(many=True),
        },
    )

    @extend_schema(
        operation_id="events_push",
        summary="推送轨迹事件（每批最多 1000 条）",
        description=(
            "每个事件单独校验：合法的事件即使同批有被拒的也会保存，被拒事件在 rejected 中给出下标与字段。"
            "按 (快递公司, event_id) 幂等：重复推送计入 duplicates，不重复保存。面单的当前状态取 occurred_at "
            "最晚的事件，与到达顺序无关。只能推送本快递公司的面单。"
        ),
        request=Input,
        examples=[
            OpenApiExample(
                "一批两个事件",
                request_only=True,
                value={"events": [
                    {"event_id": "ZTO-8812345-0001", "waybill_number": "ZT00000010025", "code": "OUT_FOR_DELIVERY",
                     "occurred_at": "2026-11-25T09:12:00+08:00", "location": "杭州市西湖区文三路营业部"},
                    {"event_id": "ZTO-8812345-0002", "waybill_number": "ZT00000010025", "code": "DELIVERED",
                     "occurred_at": "2026-11-25T10:03:00+08:00", "location": "文三路 100 号",
                     "delivery_method": "door", "proof_type": "photo", "proof_url": "https://proof.zto.example/8812345.jpg"},
                ]},
            ),
            OpenApiExample(
                "部分被拒",
                response_only=True,
                value={"accepted": 1, "duplicates": 0, "rejected": [
                    {"index": 1, "field": "occurred_at", "code": "naive_datetime", "error": "时间必须带时区偏移，例如 +08:00。"}
                ]},
            ),
        ],
        responses={200: Output, **error_responses(400, 401, 413, 415, 429)},
        tags=["tracking"],
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"events": [_("请求体应为 {\"events\": [...]}。")]})
        events = data.get("events")
        if not isinstance(events, list):
            raise exceptions.ValidationError({"events": [_("应为事件列表。")]})
        if not events:
            raise exceptions.ValidationError({"events": [_("至少需要一个事件。")]})
        if len(events) > MAX_EVENTS_PER_BATCH:
            raise exceptions.ValidationError(
                {"events": [_("每批最多 %(n)d 个事件，本批 %(m)d 个。") % {"n": MAX_EVENTS_PER_BATCH, "m": len(events)}]}
            )
        result = tracking_events_ingest(carrier=self.carrier, events=events)
        return Response(result.as_dict())
