"""Platform waybills of the calling carrier: sync (list) and one by number, with service flags and scans."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from orders.selectors.promises import waybill_promise_clocks
from waybills.models import DeliveryMethod, EventCode, ProofType, Waybill
from waybills.numbers import validate_waybill_number
from waybills.selectors import carrier_waybill_detail, carrier_waybills_list, waybill_services
from yinzunda.errors import NotFound

from .base import (
    CarrierAPIView,
    error_responses,
    list_parameters,
    parse_statuses,
    parse_updated_since,
)
from .pagination import keyset_page
from .promises import ConsentOutput, PromiseClockOutput

SERVICE_CODES = [settings.YINZUNDA_SERVICE_CODE]


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A vocabulary value, or null where the model stores "" (not set yet)."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class ServiceOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=SERVICE_CODES, help_text="增值服务代码；音尊达送货上门为 SVC-WBHOMEDELIVERY")
    active = serializers.BooleanField(help_text="当前是否有效")
    added_at = serializers.DateTimeField(allow_null=True, help_text="最近一次添加的时间")
    removed_at = serializers.DateTimeField(allow_null=True, help_text="最近一次添加之后被移除的时间；有效时为 null")


class DestinationOutput(serializers.Serializer):
    province = serializers.CharField(source="dest_province")
    city = serializers.CharField(source="dest_city")
    district = serializers.CharField(source="dest_district")


class WaybillOutput(serializers.Serializer):
    number = serializers.CharField(help_text="面单号：两位前缀 + 10 位序号 + 1 位 Luhn 校验位")
    status = serializers.ChoiceField(choices=Waybill.Status.values)
    status_at = serializers.DateTimeField(allow_null=True, help_text="决定当前状态的扫描发生时间")
    service_codes = serializers.ListField(child=serializers.ChoiceField(choices=SERVICE_CODES), help_text="当前有效的增值服务")
    services = serializers.SerializerMethodField(help_text="每项增值服务及其添加、移除时间")
    destination = DestinationOutput(source="*", help_text="目的地（只到区县，隐私面单）")
    delivery_method = BlankAsNullChoiceField(choices=DeliveryMethod.values, help_text="签收方式；未签收为 null")
    delivered_at = serializers.DateTimeField(allow_null=True)
    issued_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField(help_text="状态或增值服务最近一次变化；同步游标按此排序")

    @extend_schema_field(ServiceOutput(many=True))
    def get_services(self, obj) -> list[dict]:
        return ServiceOutput(waybill_services(obj), many=True).data


class ScanOutput(serializers.Serializer):
    event_id = serializers.CharField()
    code = serializers.ChoiceField(choices=EventCode.values)
    occurred_at = serializers.DateTimeField()
    location = serializers.CharField()
    delivery_method = BlankAsNullChoiceField(choices=DeliveryMethod.values)
    proof_type = BlankAsNullChoiceField(choices=ProofType.values)
    proof_url = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()


class WaybillDetailOutput(WaybillOutput):
    scans = ScanOutput(many=True, source="events.all", help_text="该面单的扫描，按发生时间，原样保存")
    promises = serializers.SerializerMethodField(
        help_text="音尊达各项承诺的时限与状态（按该面单适用的资费版本）；未购买音尊达为空列表"
    )
    consents = ConsentOutput(many=True, source="consents.all", help_text="买家同意放快递柜/驿站/前台的记录（只增不改）")

    @extend_schema_field(PromiseClockOutput(many=True))
    def get_promises(self, waybill) -> list[dict]:
        return PromiseClockOutput(waybill_promise_clocks(waybill=waybill), many=True).data


def _at(value) -> str | None:
    """As DRF's DateTimeField writes it: local time (Asia/Shanghai) with its offset."""
    return timezone.localtime(value).isoformat() if value is not None else None


def waybill_as_dict(waybill: Waybill) -> dict:
    """WaybillOutput by hand: the sync endpoint answers 200 rows a page, and DRF serializers
    cost ~100 µs per nested item (as for the events push, the serializers document the contract;
    tests check the two agree)."""
    return {
        "number": waybill.number,
        "status": waybill.status,
        "status_at": _at(waybill.status_at),
        "service_codes": list(waybill.service_codes),
        "services": [
            {"code": s["code"], "active": s["active"], "added_at": _at(s["added_at"]), "removed_at": _at(s["removed_at"])}
            for s in waybill_services(waybill)
        ],
        "destination": {"province": waybill.dest_province, "city": waybill.dest_city, "district": waybill.dest_district},
        "delivery_method": waybill.delivery_method or None,
        "delivered_at": _at(waybill.delivered_at),
        "issued_at": _at(waybill.created_at),
        "updated_at": _at(waybill.updated_at),
    }


def scan_as_dict(event) -> dict:
    return {
        "event_id": event.event_id, "code": event.code, "occurred_at": _at(event.occurred_at), "location": event.location,
        "delivery_method": event.delivery_method or None, "proof_type": event.proof_type or None,
        "proof_url": event.proof_url, "note": event.note, "received_at": _at(event.received_at),
    }


WAYBILL_NUMBER = OpenApiParameter(
    "number", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[A-Z]{2}[0-9]{11}$", description="面单号"
)


def parse_service(request) -> str | None:
    raw = request.query_params.get("service")
    if raw is None or raw == "":
        return None
    if raw not in SERVICE_CODES:
        raise exceptions.ValidationError({"service": [_("未知的增值服务，可选：%(c)s") % {"c": ", ".join(SERVICE_CODES)}]})
    return raw


class WaybillListView(CarrierAPIView):
    Output = inline_serializer(
        name="WaybillPage",
        fields={
            "results": WaybillOutput(many=True),
            "next_cursor": serializers.CharField(allow_null=True, help_text="下一页的游标；末页为 null"),
            "next": serializers.URLField(allow_null=True, help_text="下一页的完整地址；末页为 null"),
        },
    )

    @extend_schema(
        operation_id="waybills_list",
        summary="本快递公司的平台电子面单（同步）",
        description=(
            "按 (updated_at, id) 升序的游标分页。面单开出、状态变化、增值服务添加或移除都会更新 updated_at："
            "保存上次同步到的最大 updated_at，下次用 updated_since 续传，即可得知哪些包裹带有音尊达承诺。"
            "用 service=SVC-WBHOMEDELIVERY 只看当前带音尊达的面单。"
        ),
        parameters=[
            *list_parameters(Waybill.Status.values),
            OpenApiParameter("service", OpenApiTypes.STR, enum=SERVICE_CODES, description="只返回当前带有该增值服务的面单"),
        ],
        responses={200: Output, **error_responses(400, 401, 429)},
        tags=["waybills"],
    )
    def get(self, request):
        queryset = carrier_waybills_list(
            carrier=self.carrier,
            updated_since=parse_updated_since(request),
            service=parse_service(request),
            statuses=parse_statuses(request, Waybill.Status.values),
        )
        rows, links = keyset_page(request, queryset)
        return Response({"results": [waybill_as_dict(w) for w in rows], **links})


class WaybillDetailView(CarrierAPIView):
    @extend_schema(
        operation_id="waybills_retrieve",
        summary="一张面单：增值服务记录、扫描、承诺时限与买家同意记录",
        parameters=[WAYBILL_NUMBER],
        responses={200: WaybillDetailOutput, **error_responses(400, 401, 404, 429)},
        tags=["waybills"],
    )
    def get(self, request, number: str):
        try:  # a number no waybill can have (format, check digit) says so; a valid one not yours is a 404
            normal = validate_waybill_number(number[:32])
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"number": exc.messages}) from None
        waybill = carrier_waybill_detail(carrier=self.carrier, number=normal)
        if waybill is None:
            raise NotFound(_("面单不存在。"))
        return Response({
            **waybill_as_dict(waybill),
            "scans": [scan_as_dict(e) for e in waybill.events.all()],
            "promises": WaybillDetailOutput().get_promises(waybill),
            "consents": ConsentOutput(waybill.consents.all(), many=True).data,
        })
