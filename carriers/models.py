"""Carriers, their API tokens, versioned tariffs, webhook deliveries and idempotency records."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import ComplaintType


class Carrier(models.Model):
    code = models.CharField(_("代码"), max_length=16, unique=True, help_text=_("如 ZTO、YTO、YUNDA"))
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=64, blank=True)
    is_partner = models.BooleanField(_("音尊达合作快递"), default=False)
    waybill_prefix = models.CharField(
        _("面单号前缀"), max_length=2, unique=True, help_text=_("两位大写字母，如 ZT")
    )
    webhook_url = models.URLField(_("回调地址"), blank=True)
    webhook_secret = models.CharField(_("回调签名密钥"), max_length=128, blank=True)
    response_deadline_hours = models.PositiveIntegerField(
        _("索赔答复时限（小时）"), default=settings.YINZUNDA_DEFAULT_RESPONSE_HOURS
    )
    # Onboarding: the operator's signed test ping that the carrier's endpoint answered, and go-live.
    webhook_verified_at = models.DateTimeField(_("回调地址验证时间"), null=True, blank=True)
    webhook_verified_url = models.URLField(_("已验证的回调地址"), blank=True)
    live_since = models.DateTimeField(_("上线时间"), null=True, blank=True)
    last_scan_at = models.DateTimeField(_("最近收到扫描"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("快递公司")
        verbose_name_plural = _("快递公司")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][A-Z0-9]{1,15}$"), name="carrier_code_upper"
            ),
            models.CheckConstraint(
                condition=Q(waybill_prefix__regex=r"^[A-Z]{2}$"), name="carrier_waybill_prefix_format"
            ),
            models.CheckConstraint(
                condition=Q(response_deadline_hours__gte=1), name="carrier_deadline_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def webhook_is_verified(self) -> bool:
        """The current URL answered a signed test ping (a new URL needs a new ping)."""
        return bool(self.webhook_url and self.webhook_verified_at and self.webhook_verified_url == self.webhook_url)


def hash_token(raw: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no slow KDF is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


class CarrierToken(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("用途"), max_length=64, blank=True)
    prefix = models.CharField(_("前缀"), max_length=12, help_text=_("令牌开头，便于辨认"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.carrier.code} {self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Tariff(models.Model):
    """A versioned price list per carrier: fee per order and payout per complaint type."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="tariffs")
    version = models.PositiveIntegerField(_("版本"))
    effective_from = models.DateTimeField(_("生效时间"))
    fee_per_order = models.DecimalField(_("每单服务费"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["carrier", "-effective_from"]
        verbose_name = _("资费")
        verbose_name_plural = _("资费")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "version"], name="tariff_version_unique"),
            models.UniqueConstraint(
                fields=["carrier", "effective_from"], name="tariff_effective_from_unique"
            ),
            models.CheckConstraint(condition=Q(fee_per_order__gte=Decimal("0")), name="tariff_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code} v{self.version}"

    def is_in_use(self) -> bool:
        """Bought or claimed under: such a version is never edited (a change is a new version)."""
        return self.purchases.exists() or self.claims.exists()


class TariffPayout(models.Model):
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="payouts")
    complaint_type = models.CharField(_("投诉类型"), max_length=32, choices=ComplaintType.choices)
    amount = models.DecimalField(_("赔付金额"), max_digits=10, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("赔付标准")
        verbose_name_plural = _("赔付标准")
        constraints = [
            models.UniqueConstraint(fields=["tariff", "complaint_type"], name="tariff_payout_unique"),
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="tariff_payout_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} {self.complaint_type} ¥{self.amount}"


class WebhookDelivery(models.Model):
    """One event to deliver to a carrier; `event_id` is stable across retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("已放弃")

    class EventType(models.TextChoices):
        CLAIM_OPENED = "claim.opened", "claim.opened"
        CLAIM_AUTO_ACCEPTED = "claim.auto_accepted", "claim.auto_accepted"
        CLAIM_RESOLVED = "claim.resolved", "claim.resolved"
        SETTLEMENT_ISSUED = "settlement.issued", "settlement.issued"

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("回调投递")
        verbose_name_plural = _("回调投递")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.carrier.code} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=500)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at"]
        verbose_name = _("回调尝试")
        verbose_name_plural = _("回调尝试")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error[:40]}"


class IdempotencyRecord(models.Model):
    """The first answer to a carrier's state-changing request, replayed for the same key."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveIntegerField(null=True, blank=True)  # null while in flight
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "key"], name="idempotency_key_unique_per_carrier")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.key}"
