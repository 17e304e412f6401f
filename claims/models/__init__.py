"""Buyer complaints, compensation claims with their transition history, settlements (the
merchants' inbox lives in .notifications, the carriers' weekly scorecard rows in .scorecard)."""
from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carriers.choices import ComplaintType, Promise
from yinzunda.private_files import private_storage
from yinzunda.texts import render

from .notifications import Notification
from .rollups import MerchantCarrierDay
from .scorecard import CarrierWeekScore

__all__ = [
    "ComplaintType", "Complaint", "ComplaintPhoto", "Claim", "ClaimTransition", "ClaimMerchantAnswer",
    "ClaimMerchantAnswerPhoto", "Settlement", "Notification", "CarrierWeekScore", "MerchantCarrierDay",
]


class Complaint(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("已受理，待处理")
        HELD = "held", _("等待物流数据，稍后重新判断")
        CLAIM_OPENED = "claim_opened", _("已向快递公司索赔")
        FORWARDED = "forwarded", _("已转商家处理")
        REJECTED = "rejected", _("不予受理")

    class AfterSales(models.TextChoices):
        """The merchant's handling of a complaint that reached it (forwarded or refused)."""

        NEW = "new", _("待处理")
        HANDLING = "handling", _("处理中")
        RESOLVED = "resolved", _("已解决")

    # Complaints the merchant handles in its after-sales queue: no claim against a carrier.
    AFTERSALES_STATUSES = frozenset({Status.FORWARDED, Status.REJECTED})

    reference = models.CharField(_("投诉编号"), max_length=20, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="complaints")
    waybill = models.ForeignKey(
        "waybills.Waybill", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    complaint_type = models.CharField(_("投诉类型"), max_length=32, choices=ComplaintType.choices)
    description = models.TextField(_("问题描述"), max_length=2000, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    decision_reason = models.CharField(_("处理说明"), max_length=500, blank=True)  # in the platform's language
    # The reason as a message (yinzunda.texts): rendered in each reader's language.
    decision_reason_msg = models.JSONField(null=True, blank=True, editable=False)
    # The form's one-time token: a double click or a resubmission files nothing twice.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    routed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    # The claim this complaint joined instead of opening one: the same parcel is compensated
    # (or ruled on) once, a dismissed ruling included (DESIGN §4).
    joined_claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="joined_complaints",
        verbose_name=_("并入的索赔"),
    )
    aftersales_state = models.CharField(
        _("售后状态"), max_length=10, choices=AfterSales.choices, default=AfterSales.NEW,
        db_default=AfterSales.NEW,  # rows written by bulk COPY (benchmarks, imports) get it too
    )
    # The merchant's answer to the buyer, shown on the buyer's status page.
    merchant_reply = models.TextField(_("商家回复"), max_length=1000, blank=True, default="", db_default="")
    merchant_replied_at = models.DateTimeField(_("商家回复时间"), null=True, blank=True)
    recheck_at = models.DateTimeField(_("重新判断时间"), null=True, blank=True)  # held: judged again then

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="received", routed_at__isnull=True) | (~Q(status="received") & Q(routed_at__isnull=False)),
                name="complaint_routed_at_matches_status",
            ),
            models.CheckConstraint(condition=~Q(status="held") | Q(recheck_at__isnull=False), name="complaint_held_has_recheck"),
        ]
        # The sweep looks for complaints still waiting to be routed.
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="received"), name="complaint_unrouted"),
            # The merchant's after-sales queue: its forwarded and refused complaints, newest first.
            models.Index(
                fields=["order", "aftersales_state", "-routed_at"],
                condition=Q(status__in=["forwarded", "rejected"]), name="complaint_aftersales",
            ),
            models.Index(fields=["recheck_at"], condition=Q(status="held"), name="complaint_held_recheck"),
        ]

    def __str__(self) -> str:
        return self.reference

    def decision_reason_text(self) -> str:
        """The platform's reason in the reader's language (a row it cannot word: as stored)."""
        return render(self.decision_reason_msg, fallback=self.decision_reason)

    decision_reason_text.short_description = _("处理说明")


def complaint_photo_path(instance: ComplaintPhoto, filename: str) -> str:
    """A random name (never the buyer's file name) with the extension of the re-encoded image."""
    extension = ".png" if filename.lower().endswith(".png") else ".jpg"
    return f"complaints/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{extension}"


class ComplaintPhoto(models.Model):
    """A buyer's photo, re-encoded on upload and kept in private storage (DESIGN §5.7)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to=complaint_photo_path, storage=private_storage, max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("投诉照片")
        verbose_name_plural = _("投诉照片")

    def __str__(self) -> str:
        return self.image.name


class Claim(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待快递答复")
        ACCEPTED = "accepted", _("快递已接受")
        AUTO_ACCEPTED = "auto_accepted", _("超时自动接受")
        DISPUTED = "disputed", _("快递申诉中")
        UPHELD = "upheld", _("仲裁支持赔付")
        DISMISSED = "dismissed", _("仲裁驳回")
        SETTLED = "settled", _("已赔付")

    class Trigger(models.TextChoices):
        COMPLAINT = "complaint", _("买家投诉")
        TRACKING = "tracking", _("轨迹自动发现")

    # The state machine of DESIGN §4, written once: every transition is checked against it.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.ACCEPTED, Status.AUTO_ACCEPTED, Status.DISPUTED}),
        Status.DISPUTED: frozenset({Status.UPHELD, Status.DISMISSED}),
        Status.ACCEPTED: frozenset({Status.SETTLED}),
        Status.AUTO_ACCEPTED: frozenset({Status.SETTLED}),
        Status.UPHELD: frozenset({Status.SETTLED}),
        Status.DISMISSED: frozenset(),
        Status.SETTLED: frozenset(),
    }
    PAYABLE = frozenset({Status.ACCEPTED, Status.AUTO_ACCEPTED, Status.UPHELD})

    complaint = models.OneToOneField(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="claim"
    )
    trigger = models.CharField(_("来源"), max_length=16, choices=Trigger.choices)
    # No database constraint: the events table is partitioned by occurred_at (waybills 0007).
    source_event = models.OneToOneField(
        "waybills.TrackingEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="claim",
        db_constraint=False,
    )
    waybill = models.ForeignKey("waybills.Waybill", on_delete=models.PROTECT, related_name="claims")
    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.PROTECT, related_name="claims")
    merchant = models.ForeignKey("orders.Merchant", on_delete=models.PROTECT, related_name="claims")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="claims")
    complaint_type = models.CharField(_("违约类型"), max_length=32, choices=ComplaintType.choices)
    promise = models.CharField(_("承诺"), max_length=24, choices=Promise.choices, blank=True)
    breach = models.JSONField(_("违约证据"), default=dict, blank=True)  # rule, clock, scans (DESIGN §3a)
    tariff = models.ForeignKey("carriers.Tariff", on_delete=models.PROTECT, related_name="claims")
    amount = models.DecimalField(_("赔付金额"), max_digits=10, decimal_places=2)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    deadline_at = models.DateTimeField(_("答复截止"))
    opened_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    settlement = models.ForeignKey(
        "claims.Settlement", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("索赔")
        verbose_name_plural = _("索赔")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="claim_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "accepted", "auto_accepted", "disputed", "upheld", "dismissed", "settled"]),
                name="claim_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(trigger="complaint", complaint__isnull=False) | Q(trigger="tracking", complaint__isnull=True, source_event__isnull=False)),
                name="claim_trigger_has_source",
            ),
            # A settled claim belongs to a statement; only payable claims are put on one.
            models.CheckConstraint(
                condition=(Q(settlement__isnull=True) & ~Q(status="settled"))
                | Q(settlement__isnull=False, status__in=["accepted", "auto_accepted", "upheld", "settled"]),
                name="claim_settlement_matches_status",
            ),
            # One claim per (waybill, promise): watcher re-runs, races and later complaints meet it.
            models.UniqueConstraint(fields=["waybill", "promise"], condition=~Q(promise=""), name="claim_one_per_waybill_promise"),
        ]
        indexes = [
            models.Index(fields=["carrier", "status", "updated_at"]),
            models.Index(fields=["carrier", "updated_at", "id"]),
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["deadline_at"], condition=Q(status="open"), name="claim_open_deadline"),
            # The operator's arbitration queue: disputed claims, oldest dispute first.
            models.Index(fields=["updated_at", "id"], condition=Q(status="disputed"), name="claim_disputed_queue"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.waybill_id} {self.status}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    def can_accept(self) -> bool:
        return self.can_transition_to(self.Status.ACCEPTED)

    def can_dispute(self) -> bool:
        return self.can_transition_to(self.Status.DISPUTED)

    def can_rule(self) -> bool:
        return self.status == self.Status.DISPUTED

    def is_payable(self) -> bool:
        return self.status in self.PAYABLE


class ClaimTransition(models.Model):
    """Audit row of a claim: who moved it from what to what, when, why, with what evidence."""

    class Actor(models.TextChoices):
        SYSTEM = "system", _("系统")
        CARRIER = "carrier", _("快递公司")
        STAFF = "staff", _("平台运营")
        BUYER = "buyer", _("买家")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("索赔"))
    from_status = models.CharField(_("原状态"), max_length=16, blank=True, choices=Claim.Status.choices)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Claim.Status.choices)
    actor = models.CharField(_("操作方"), max_length=16, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_carrier = models.ForeignKey(
        "carriers.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("理由"), blank=True, max_length=2000)  # a person's words, or the platform's in its language
    # The platform's own reason as a message (yinzunda.texts), rendered in each reader's language.
    reason_msg = models.JSONField(null=True, blank=True, editable=False)
    evidence = models.JSONField(_("证据"), default=list, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("索赔记录")
        verbose_name_plural = _("索赔记录")
        constraints = [
            # Every state is entered at most once: each transition happens at most once (DESIGN §4).
            models.UniqueConstraint(fields=["claim", "to_status"], name="claim_transition_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.claim_id} {self.from_status or '∅'} → {self.to_status}"

    def reason_text(self) -> str:
        """The reason in the reader's language when the platform wrote it; a person's words as written."""
        return render(self.reason_msg, fallback=self.reason)

    reason_text.short_description = _("理由")


class ClaimMerchantAnswer(models.Model):
    """The merchant's counter-evidence to a carrier's dispute; the operator reads it beside the carrier's."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="merchant_answers")
    note = models.TextField(_("商家说明"), max_length=2000)
    evidence_url = models.URLField(_("证据链接"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("商家答辩")
        verbose_name_plural = _("商家答辩")

    def __str__(self) -> str:
        return f"#{self.claim_id} {self.created_at:%Y-%m-%d}"


def answer_photo_path(instance: ClaimMerchantAnswerPhoto, filename: str) -> str:
    """A random name (never the merchant's file name) with the extension of the re-encoded image."""
    extension = ".png" if filename.lower().endswith(".png") else ".jpg"
    return f"answers/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{extension}"


class ClaimMerchantAnswerPhoto(models.Model):
    """A photo of the merchant's dispute answer, re-encoded like a buyer's and kept in private storage."""

    answer = models.ForeignKey(ClaimMerchantAnswer, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to=answer_photo_path, storage=private_storage, max_length=200)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("答辩照片")
        verbose_name_plural = _("答辩照片")

    def __str__(self) -> str:
        return self.image.name


class Settlement(models.Model):
    """A per-carrier statement of payable claims; the carrier confirms payment with a reference."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("待付款")
        PAID = "paid", _("已付款")

    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.PROTECT, related_name="settlements")
    reference = models.CharField(_("结算单号"), max_length=32, unique=True)
    period_start = models.DateTimeField(_("起始"))
    period_end = models.DateTimeField(_("截止"))
    claim_count = models.PositiveIntegerField(_("索赔数"))
    total_amount = models.DecimalField(_("应付总额"), max_digits=14, decimal_places=2)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("出单时间"), default=timezone.now)
    paid_at = models.DateTimeField(_("付款确认时间"), null=True, blank=True)
    payment_reference = models.CharField(_("付款流水号"), max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "period_end"], name="settlement_one_per_carrier_period"),
            models.CheckConstraint(condition=Q(total_amount__gt=Decimal("0")), name="settlement_total_positive"),
            models.CheckConstraint(condition=Q(period_end__gt=models.F("period_start")), name="settlement_period_order"),
            models.CheckConstraint(
                condition=Q(status="issued", paid_at__isnull=True, payment_reference="")
                | (Q(status="paid", paid_at__isnull=False) & ~Q(payment_reference="")),
                name="settlement_paid_has_reference",
            ),
        ]
        indexes = [models.Index(fields=["carrier", "updated_at", "id"])]

    def __str__(self) -> str:
        return self.reference
