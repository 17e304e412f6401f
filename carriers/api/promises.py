"""What the carrier API says about a parcel's promises (DESIGN §3a): clocks, breaches, consents.

Shared by the claim detail and the waybill detail so both answer the same shapes, and the
OpenAPI schema declares each field with its type and vocabulary.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carriers.choices import BreachRule, Promise
from claims.selectors.webhook_payloads import breach_payload
from waybills.choices import ConsentMethod
from waybills.models import DeliveryConsent
from waybills.promises import AT_RISK, BROKEN, KEPT, RUNNING
from waybills.services.consent import consent_event_id

PROMISE_STATES = [KEPT, RUNNING, AT_RISK, BROKEN]


class PromiseClockOutput(serializers.Serializer):
    promise = serializers.ChoiceField(choices=Promise.values)
    rule = serializers.ChoiceField(choices=BreachRule.values, help_text="该承诺的哪一条时限规则")
    state = serializers.ChoiceField(
        choices=PROMISE_STATES, help_text="kept 已守住；running 计时中；at_risk 剩余不到四分之一；broken 已违约"
    )
    started_at = serializers.DateTimeField(help_text="计时起点（如到达驿站的扫描时间）")
    due_at = serializers.DateTimeField(help_text="最迟时限")
    clock_hours = serializers.IntegerField(help_text="时限（小时），按该面单适用的资费版本")
    text = serializers.CharField(help_text="如：驿站滞留 26 小时，超过 24 小时时限")


class BreachOutput(serializers.Serializer):
    rule = serializers.ChoiceField(choices=BreachRule.values)
    clock_hours = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="违约结束的扫描时间；仍在持续为 null")
    delivery_method = serializers.CharField(allow_blank=True, help_text="放柜/驿站违约时的签收方式；其他规则为空字符串")
    carrier_consent = serializers.BooleanField(help_text="快递公司在扫描中提供了买家同意凭证（可申诉，不免除索赔）")
    source_event_id = serializers.CharField(allow_null=True, help_text="计时起点扫描的 event_id")
    end_event_id = serializers.CharField(allow_null=True, help_text="结束扫描的 event_id；没有为 null")
    observed_at = serializers.DateTimeField(help_text="平台发现违约的时间")
    text = serializers.CharField(help_text="如：驿站滞留 26 小时，超过 24 小时时限")


class ConsentOutput(serializers.Serializer):
    consent_id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=DeliveryConsent.Kind.values, help_text="grant 同意；withdraw 撤回")
    source = serializers.ChoiceField(
        choices=DeliveryConsent.Source.values,
        help_text="buyer：买家在平台上记录（放置不算违约）；carrier：快递公司提供（可用于申诉）",
    )
    channel = serializers.ChoiceField(choices=DeliveryConsent.Channel.values)
    method = serializers.ChoiceField(
        choices=ConsentMethod.values, allow_null=True, help_text="同意的放置方式；撤回为 null"
    )
    place = serializers.CharField(allow_blank=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    evidence = serializers.CharField(allow_blank=True)
    tracking_event_id = serializers.CharField(allow_null=True, help_text="随扫描提交时，该扫描的 event_id")
    recorded_at = serializers.DateTimeField()

    def to_representation(self, consent):
        data = super().to_representation(consent)
        data["method"] = consent.method or None
        data["tracking_event_id"] = consent_event_id(consent)
        return data


@extend_schema_field(BreachOutput(allow_null=True))
class BreachField(serializers.Field):
    """A claim's stored breach with the carrier's event ids and its clock in words; null without one."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, claim):
        payload = breach_payload(claim, event_ids={event.pk: event.event_id for event in claim.waybill.events.all()})
        return None if payload is None else BreachOutput(payload).data
