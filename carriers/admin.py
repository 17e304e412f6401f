"""Operator admin for carriers: tokens (issue, rotate, revoke), tariffs, webhook deliveries, idempotency."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Carrier,
    CarrierToken,
    IdempotencyRecord,
    Tariff,
    TariffPayout,
    WebhookAttempt,
    WebhookDelivery,
)
from .outbound import EXCERPT_CHARS
from .services import (
    carrier_token_create,
    carrier_token_revoke,
    carrier_token_rotate,
    carrier_tokens_revoke_all,
    carrier_tokens_rotate_all,
    carrier_webhook_prepare,
    carrier_webhook_secret_rotate,
    tariff_version_create,
    webhook_replay,
)


def _show_token_once(request, carrier: Carrier, raw: str) -> None:
    messages.warning(
        request,
        _("%(carrier)s 的新令牌（只显示这一次，请立即复制）：%(token)s") % {"carrier": carrier.name, "token": raw},
    )


class CarrierTokenInline(admin.TabularInline):
    model = CarrierToken
    extra = 0
    can_delete = False
    fields = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a token is issued by the action, which shows its raw value once


class CarrierAdminForm(forms.ModelForm):
    class Meta:
        model = Carrier
        fields = [
            "code", "name", "name_en", "is_partner", "waybill_prefix", "webhook_url",
            "response_deadline_hours", "created_at",
        ]

    def clean_is_partner(self) -> bool:
        """A carrier goes live from its onboarding checklist (staff console), never by a tick here."""
        value = self.cleaned_data["is_partner"]
        if value and not (self.instance.pk and self.instance.is_partner):
            raise forms.ValidationError(_("新快递须在运营控制台的上线检查全部通过后上线。"))
        return value


def _show_webhook_secret_once(request, carrier: Carrier, secret: str) -> None:
    messages.warning(
        request,
        _("%(carrier)s 的回调签名密钥（只显示这一次，请立即交给快递公司）：%(secret)s")
        % {"carrier": carrier.name, "secret": secret},
    )


@admin.register(Carrier)
class CarrierAdmin(SimpleHistoryAdmin):
    form = CarrierAdminForm
    list_display = [
        "code", "name", "is_partner", "live_since", "waybill_prefix", "webhook_url", "webhook_failing",
        "response_deadline_hours",
    ]
    list_filter = ["is_partner", ("webhook_failing_since", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = [
        "webhook_secret_state", "webhook_verified_at", "webhook_failure_streak", "webhook_failing_since",
        "live_since", "last_scan_at",
    ]
    inlines = [CarrierTokenInline]
    actions = ["issue_token", "rotate_tokens", "revoke_tokens", "rotate_webhook_secret"]

    @admin.display(boolean=True, description=gettext_lazy("回调故障"))
    def webhook_failing(self, obj: Carrier) -> bool:
        return obj.webhook_failing_since is not None

    @admin.display(description=gettext_lazy("回调签名密钥"))
    def webhook_secret_state(self, obj: Carrier) -> str:
        """Never the secret itself: it is shown once, when generated."""
        if not obj.webhook_secret:
            return _("未生成（登记回调地址时自动生成）")
        state = _("已生成（只在生成时显示一次）")
        if obj.webhook_secret_previous and obj.webhook_secret_previous_until:
            state += " " + _("旧密钥同时签名至 %(at)s") % {
                "at": timezone.localtime(obj.webhook_secret_previous_until).strftime("%Y-%m-%d %H:%M")
            }
        return state

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "webhook_url":
            kwargs["assume_scheme"] = "https"  # a bare host name means https, the only scheme allowed
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj: Carrier, form, change) -> None:
        new_secret = carrier_webhook_prepare(carrier=obj)
        super().save_model(request, obj, form, change)
        if new_secret:
            _show_webhook_secret_once(request, obj, new_secret)

    @admin.action(description=gettext_lazy("轮换回调签名密钥（旧密钥继续签名 24 小时）"))
    def rotate_webhook_secret(self, request, queryset) -> None:
        for carrier in queryset:
            _show_webhook_secret_once(request, carrier, carrier_webhook_secret_rotate(carrier=carrier))

    @admin.action(description=gettext_lazy("生成新的 API 令牌"))
    def issue_token(self, request, queryset) -> None:
        for carrier in queryset:
            _token, raw = carrier_token_create(carrier=carrier, name=_("后台生成"))
            _show_token_once(request, carrier, raw)

    @admin.action(description=gettext_lazy("轮换令牌（吊销全部有效令牌并生成一个新令牌）"))
    def rotate_tokens(self, request, queryset) -> None:
        for carrier in queryset:
            _token, raw = carrier_tokens_rotate_all(carrier=carrier, name=_("后台轮换"))
            _show_token_once(request, carrier, raw)

    @admin.action(description=gettext_lazy("吊销全部有效令牌"))
    def revoke_tokens(self, request, queryset) -> None:
        count = sum(carrier_tokens_revoke_all(carrier=carrier) for carrier in queryset)
        messages.success(request, _("已吊销 %(n)d 个令牌。") % {"n": count})


@admin.register(CarrierToken)
class CarrierTokenAdmin(SimpleHistoryAdmin):
    list_display = ["carrier", "prefix", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["carrier", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["carrier"]
    fields = ["carrier", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["carrier", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["rotate", "revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=gettext_lazy("轮换令牌（吊销并生成新令牌）"))
    def rotate(self, request, queryset) -> None:
        for token in queryset.select_related("carrier").filter(revoked_at__isnull=True):
            _new, raw = carrier_token_rotate(token=token)
            _show_token_once(request, token.carrier, raw)

    @admin.action(description=gettext_lazy("吊销令牌"))
    def revoke(self, request, queryset) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            carrier_token_revoke(token=token)
            count += 1
        messages.success(request, _("已吊销 %(n)d 个令牌。") % {"n": count})


class TariffPayoutInline(admin.TabularInline):
    model = TariffPayout
    extra = 0

    def _locked(self, obj) -> bool:
        return obj is not None and obj.is_in_use()

    def has_add_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(Tariff)
class TariffAdmin(SimpleHistoryAdmin):
    """A version in use (bought or claimed under) is read-only: a change is a new version."""

    list_display = [
        "carrier", "version", "effective_from", "fee_per_order",
        "station_hold_hours", "hub_dwell_hours", "transit_hours", "return_pickup_hours", "in_use",
    ]
    list_filter = ["carrier"]
    fieldsets = [
        (None, {"fields": ["carrier", "version", "effective_from", "fee_per_order"]}),
        (gettext_lazy("承诺时限（没有对应赔付标准的承诺不受保障）"), {
            "fields": ["station_hold_hours", "hub_dwell_hours", "transit_hours", "return_pickup_hours"],
        }),
    ]
    list_select_related = ["carrier"]
    inlines = [TariffPayoutInline]
    actions = ["new_version"]

    @admin.display(boolean=True, description=gettext_lazy("使用中"))
    def in_use(self, obj: Tariff) -> bool:
        return obj.is_in_use()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_in_use():
            return [f.name for f in Tariff._meta.concrete_fields if f.name != "id"]
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_in_use()) and super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_in_use() and request.method == "GET":
            messages.warning(request, _("此版本已被购买或索赔使用，不能修改；请用“新建版本”复制后修改新版本。"))
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=gettext_lazy("新建版本（复制所选版本，立即生效后可修改）"))
    def new_version(self, request, queryset) -> None:
        for tariff in queryset.select_related("carrier").order_by("carrier_id", "version"):
            new = tariff_version_create(tariff=tariff)
            messages.success(
                request, _("已为 %(carrier)s 新建资费版本 v%(v)d") % {"carrier": tariff.carrier.name, "v": new.version}
            )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted_at", "url", "status_code", "duration_ms", "answer_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("错误或应答摘要"))
    def answer_excerpt(self, obj: WebhookAttempt) -> str:
        """A short excerpt only (escaped by the template): a carrier's answer is not ours to display."""
        return obj.error[:EXCERPT_CHARS]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "carrier", "sequence", "status", "attempt_count", "next_attempt_at",
                    "created_at", "delivered_at"]
    list_filter = ["status", "event_type", "carrier"]
    list_select_related = ["carrier"]
    search_fields = ["event_id"]
    readonly_fields = ["carrier", "event_id", "sequence", "event_type", "payload", "status", "attempt_count",
                       "next_attempt_at", "retry_until", "created_at", "delivered_at"]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=gettext_lazy("重新发送（相同 event_id）"))
    def replay(self, request, queryset) -> None:
        count = 0
        for delivery in queryset:
            webhook_replay(delivery=delivery)
            count += 1
        messages.success(request, _("已安排重新发送 %(n)d 条回调。") % {"n": count})


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["carrier", "key", "method", "path", "response_status", "created_at"]
    list_filter = ["carrier", "response_status"]
    list_select_related = ["carrier"]
    search_fields = ["key", "path"]
    readonly_fields = ["carrier", "key", "method", "path", "request_hash", "response_status", "response_body", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
