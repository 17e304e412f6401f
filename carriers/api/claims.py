"""Claims of the calling carrier: list, detail, accept, dispute."""
from __future__ import annotations

from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from carriers.choices import ComplaintType, Promise
from claims.models import Claim, ClaimTransition
from claims.selectors.claims import carrier_claim_detail, carrier_claims_list
from claims.services import claims as claim_services
from orders.selectors.promises import promise_clocks, promise_states
from waybills.models import EventCode
from yinzunda.errors import NotFound
from yinzunda.masking import mask_free_text

from .base import (
    IDEMPOTENCY_PARAMETER,
    CarrierAPIView,
    StrictCharField,
    error_responses,
    list_parameters,
    parse_statuses,
    parse_updated_since,
    validated_input,
)
from .idempotency import idempotent
from .pagination import keyset_page
from .photos import photo_signed_url
from .promises import BreachField, ConsentOutput, PromiseClockOutput
from .waybills import BlankAsNullChoiceField

EVIDENCE_TYPES = ["photo", "signature", "geo", "buyer_consent", "other"]


class ClaimSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Claim.Status.values)
    waybill_number = serializers.CharField(source="waybill.number")
    complaint_type = serializers.ChoiceField(choices=ComplaintType.values)
    trigger = serializers.ChoiceField(choices=Claim.Trigger.values, help_text="complaint（买家投诉）或 tracking（轨迹自动发现）")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="赔付金额，字符串，两位小数")
    currency = serializers.SerializerMethodField()
    deadline_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    settlement_id = serializers.IntegerField(allow_null=True)

    def get_currency(self, obj) -> str:
        return "CNY"


class MaskedTextField(serializers.CharField):
    """Free text with pickup codes and phone numbers masked (DESIGN §5.7)."""

    def to_representation(self, value) -> str:
        return mask_free_text(super().to_representation(value))


class ClaimDetailOutput(ClaimSummaryOutput):
    class ComplaintOutput(serializers.Serializer):
        reference = serializers.CharField()
        type = serializers.ChoiceField(source="complaint_type", choices=ComplaintType.values)
        description = MaskedTextField(help_text="买家描述（取件码、电话号码已遮盖）")
        created_at = serializers.DateTimeField()

    class EventOutput(serializers.Serializer):
        event_id = serializers.CharField()
        code = serializers.ChoiceField(choices=EventCode.values)
        occurred_at = serializers.DateTimeField()
        location = serializers.CharField()
        delivery_method = serializers.CharField()
        proof_type = serializers.CharField()
        proof_url = serializers.CharField()
        late = serializers.BooleanField(help_text="签收事件在发生很久之后才推送：已存储并标记，不能使投诉超期")

    class TransitionOutput(serializers.Serializer):
        # "from" is a keyword: declared below through `fields`.
        to = serializers.ChoiceField(source="to_status", choices=Claim.Status.values)
        actor = serializers.ChoiceField(choices=ClaimTransition.Actor.values)
        reason = serializers.CharField(
            source="reason_text", help_text="理由：快递公司或运营所写原文；平台自动记录的理由按请求的 Accept-Language 表述（默认简体中文）"
        )
        evidence = serializers.JSONField()
        at = serializers.DateTimeField(source="created_at")

        def get_fields(self):
            fields = super().get_fields()
            fields["from"] = serializers.ChoiceField(
                source="from_status", choices=["", *Claim.Status.values], help_text="空字符串表示新建"
            )
            return fields

    promise = BlankAsNullChoiceField(choices=Promise.values, help_text="索赔针对的承诺；买家投诉且不属于任何承诺时为 null")
    breach = BreachField(help_text="系统发现违约时的证据：规则、时限、起止时间、轨迹事件；买家投诉且轨迹未显示违约时为 null")
    promises = serializers.SerializerMethodField(help_text="该面单当前各项承诺的时限与状态")
    consents = ConsentOutput(many=True, source="waybill.consents.all", help_text="该面单的买家同意记录（只增不改）")
    complaint = ComplaintOutput(allow_null=True, help_text="买家投诉摘要（不含买家姓名、电话、地址）")
    complaint_photo_count = serializers.IntegerField(source="photo_count")
    complaint_photos = serializers.SerializerMethodField(
        help_text="投诉照片的签名链接（无需令牌，限时有效，见 expires_at；照片已去除 EXIF/GPS）"
    )
    evidence = EventOutput(many=True, source="waybill.events.all", help_text="该面单的轨迹事件（按发生时间）")
    history = TransitionOutput(many=True, source="transitions.all", help_text="状态变更记录")


    @extend_schema_field(
        inline_serializer(
            name="ComplaintPhotoLink",
            many=True,
            fields={
                "id": serializers.IntegerField(),
                "url": serializers.URLField(),
                "content_type": serializers.CharField(help_text="image/jpeg 或 image/png"),
                "expires_at": serializers.DateTimeField(),
            },
        )
    )
    def get_complaint_photos(self, claim: Claim) -> list[dict]:
        if claim.complaint is None:
            return []
        links = []
        for photo in claim.complaint.photos.all():
            url, expires_at = photo_signed_url(self.context["request"], photo=photo, carrier_id=claim.carrier_id)
            links.append({
                "id": photo.pk, "url": url, "content_type": photo.content_type,
                "expires_at": serializers.DateTimeField().to_representation(expires_at),
            })
        return links

    def to_representation(self, obj):
        data = super().to_representation(obj)
        # The audit row keeps the breach as stored (internal scan ids, UTC); the carrier reads it
        # as the claim's `breach` shows it: its own event ids, times in +08:00, the clock in words.
        for transition in data["history"]:
            transition["evidence"] = [
                {"kind": "breach", **data["breach"]} if isinstance(item, dict) and item.get("kind") == "breach"
                and data["breach"] else item
                for item in transition["evidence"] or []
            ]
        return data

    @extend_schema_field(PromiseClockOutput(many=True))
    def get_promises(self, obj) -> list[dict]:
        states = promise_states(
            tariff=obj.tariff, events=list(obj.waybill.events.all()), consents=list(obj.waybill.consents.all())
        )
        return PromiseClockOutput(promise_clocks(states), many=True).data


CLAIM_ID = OpenApiParameter("claim_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="索赔 id")


def _claim_or_404(carrier, claim_id: int) -> Claim:
    claim = carrier_claim_detail(carrier=carrier, claim_id=claim_id)
    if claim is None:
        raise NotFound(_("索赔不存在。"))
    return claim


class ClaimListView(CarrierAPIView):
    Output = inline_serializer(
        name="ClaimPage",
        fields={
            "results": ClaimSummaryOutput(many=True),
            "next_cursor": serializers.CharField(allow_null=True, help_text="下一页的游标；末页为 null"),
            "next": serializers.URLField(allow_null=True, help_text="下一页的完整地址；末页为 null"),
        },
    )

    @extend_schema(
        operation_id="claims_list",
        summary="本快递公司的索赔列表",
        description="按 (updated_at, id) 升序的游标分页；用 updated_since 增量同步，next 为空表示已到末页。",
        parameters=list_parameters(Claim.Status.values),
        responses={200: Output, **error_responses(400, 401, 429)},
        tags=["claims"],
    )
    def get(self, request):
        queryset = carrier_claims_list(
            carrier=self.carrier,
            statuses=parse_statuses(request, Claim.Status.values),
            updated_since=parse_updated_since(request),
        )
        rows, links = keyset_page(request, queryset)
        return Response({"results": ClaimSummaryOutput(rows, many=True).data, **links})


class ClaimDetailView(CarrierAPIView):
    @extend_schema(
        operation_id="claims_retrieve",
        summary="索赔详情：投诉摘要、轨迹证据与状态记录",
        parameters=[CLAIM_ID],
        responses={200: ClaimDetailOutput, **error_responses(401, 404, 429)},
        tags=["claims"],
    )
    def get(self, request, claim_id: int):
        return Response(ClaimDetailOutput(_claim_or_404(self.carrier, claim_id), context={"request": request}).data)


class ClaimAcceptView(CarrierAPIView):
    @extend_schema_serializer(component_name="ClaimAccept")
    class Input(serializers.Serializer):
        reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="claims_accept",
        summary="接受索赔",
        description="仅 open 状态可接受；接受后赔付随下一张结算单支付。",
        request=Input,
        parameters=[CLAIM_ID, IDEMPOTENCY_PARAMETER],
        responses={200: ClaimDetailOutput, **error_responses(400, 401, 404, 409, 413, 415, 422, 429)},
        tags=["claims"],
    )
    def post(self, request, claim_id: int):
        carrier = self.carrier

        def action() -> Response:
            data = validated_input(self.Input, request)
            claim_services.claim_accept(claim_id=claim_id, carrier=carrier, reason=data["reason"])
            return Response(ClaimDetailOutput(_claim_or_404(carrier, claim_id), context={"request": request}).data)

        return idempotent(request, carrier=carrier, action=action)


class DisputeEvidenceInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=EVIDENCE_TYPES)
    url = StrictCharField(
        max_length=500, required=False, help_text="https 链接", validators=[URLValidator(schemes=["https"])]
    )
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class ClaimDisputeView(CarrierAPIView):
    @extend_schema_serializer(component_name="ClaimDispute")
    class Input(serializers.Serializer):
        reason = StrictCharField(max_length=2000)
        evidence = DisputeEvidenceInput(many=True, min_length=1, max_length=20)

    @extend_schema(
        operation_id="claims_dispute",
        summary="对索赔提出申诉（附证据）",
        examples=[
            OpenApiExample(
                "上门签收照片",
                request_only=True,
                value={"reason": "已于 11 月 25 日 10:03 送货上门并由本人签收", "evidence": [
                    {"type": "photo", "url": "https://proof.zto.example/8812345.jpg", "note": "门牌号清晰可见"},
                    {"type": "signature", "url": "https://proof.zto.example/8812345-sign.png"},
                ]},
            )
        ],
        description="仅 open 状态可申诉；由平台运营仲裁（upheld 或 dismissed）。",
        request=Input,
        parameters=[CLAIM_ID, IDEMPOTENCY_PARAMETER],
        responses={200: ClaimDetailOutput, **error_responses(400, 401, 404, 409, 413, 415, 422, 429)},
        tags=["claims"],
    )
    def post(self, request, claim_id: int):
        carrier = self.carrier

        def action() -> Response:
            data = validated_input(self.Input, request)
            evidence = [{k: v for k, v in dict(item).items() if v != ""} for item in data["evidence"]]
            claim_services.claim_dispute(claim_id=claim_id, carrier=carrier, reason=data["reason"], evidence=evidence)
            return Response(ClaimDetailOutput(_claim_or_404(carrier, claim_id), context={"request": request}).data)

        return idempotent(request, carrier=carrier, action=action)
