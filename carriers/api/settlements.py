"""Settlement statements of the calling carrier: list, detail, confirm payment."""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from claims.models import Settlement
from claims.selectors.settlements import carrier_settlement_detail, carrier_settlements_list
from claims.services import settlements as claim_services
from yinzunda.errors import NotFound

from .base import (
    IDEMPOTENCY_PARAMETER,
    CarrierAPIView,
    StrictCharField,
    StrictDecimalField,
    error_responses,
    list_parameters,
    parse_statuses,
    parse_updated_since,
    validated_input,
)
from .idempotency import idempotent
from .pagination import keyset_page


class SettlementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Settlement.Status.values)
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    claim_count = serializers.IntegerField()
    claim_ids = serializers.SerializerMethodField()
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="应付总额，字符串，两位小数")
    currency = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    payment_reference = serializers.CharField()
    updated_at = serializers.DateTimeField()

    def get_currency(self, obj) -> str:
        return "CNY"

    def get_claim_ids(self, obj) -> list[int]:
        return [claim.pk for claim in obj.claims.all()]


SETTLEMENT_ID = OpenApiParameter("settlement_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="结算单 id")


def _settlement_or_404(carrier, settlement_id: int) -> Settlement:
    settlement = carrier_settlement_detail(carrier=carrier, settlement_id=settlement_id)
    if settlement is None:
        raise NotFound(_("结算单不存在。"))
    return settlement


class SettlementListView(CarrierAPIView):
    Output = inline_serializer(
        name="SettlementPage",
        fields={
            "results": SettlementOutput(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
            "next": serializers.URLField(allow_null=True),
        },
    )

    @extend_schema(
        operation_id="settlements_list",
        summary="本快递公司的结算单列表",
        description="按 (updated_at, id) 升序的游标分页。",
        parameters=list_parameters(Settlement.Status.values),
        responses={200: Output, **error_responses(400, 401, 429)},
        tags=["settlements"],
    )
    def get(self, request):
        queryset = carrier_settlements_list(
            carrier=self.carrier,
            statuses=parse_statuses(request, Settlement.Status.values),
            updated_since=parse_updated_since(request),
        )
        rows, links = keyset_page(request, queryset)
        return Response({"results": SettlementOutput(rows, many=True).data, **links})


class SettlementDetailView(CarrierAPIView):
    @extend_schema(
        operation_id="settlements_retrieve",
        summary="结算单详情",
        parameters=[SETTLEMENT_ID],
        responses={200: SettlementOutput, **error_responses(401, 404, 429)},
        tags=["settlements"],
    )
    def get(self, request, settlement_id: int):
        return Response(SettlementOutput(_settlement_or_404(self.carrier, settlement_id)).data)


class SettlementConfirmPaymentView(CarrierAPIView):
    @extend_schema_serializer(component_name="SettlementConfirmPayment")
    class Input(serializers.Serializer):
        payment_reference = StrictCharField(min_length=1, max_length=64, help_text="银行或支付流水号")
        amount = StrictDecimalField(
            max_digits=14, decimal_places=2, required=False, min_value=Decimal("0.01"),
            help_text="可选：实付金额（字符串，两位小数）；给出时必须等于 total_amount",
        )

    @extend_schema(
        operation_id="settlements_confirm_payment",
        summary="确认结算单已付款",
        description="结算单内每笔索赔变为 settled，商家账户入账。不带幂等键重复确认返回 409；"
        "带同一幂等键重放则返回首次应答。",
        request=Input,
        parameters=[SETTLEMENT_ID, IDEMPOTENCY_PARAMETER],
        responses={200: SettlementOutput, **error_responses(400, 401, 404, 409, 413, 415, 422, 429)},
        tags=["settlements"],
    )
    def post(self, request, settlement_id: int):
        carrier = self.carrier

        def action() -> Response:
            data = validated_input(self.Input, request)
            claim_services.settlement_confirm_payment(
                settlement_id=settlement_id, carrier=carrier, payment_reference=data["payment_reference"],
                amount=data.get("amount"),
            )
            return Response(SettlementOutput(_settlement_or_404(carrier, settlement_id)).data)

        return idempotent(request, carrier=carrier, action=action)
