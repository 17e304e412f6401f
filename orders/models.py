"""Merchants and their users, orders, Yinzunda purchases and the merchant's append-only ledger."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from yinzunda.masking import mask_address, mask_name, mask_phone

phone_validator = RegexValidator(r"^1\d{10}$", _("请输入 11 位手机号码"))


class Merchant(models.Model):
    class QuotaMode(models.TextChoices):
        WARN = "warn", _("超出仅提醒")
        ENFORCE = "enforce", _("超出则拒绝")

    code = models.SlugField(_("商家编码"), max_length=32, unique=True)
    name = models.CharField(_("店铺名称"), max_length=100)
    email = models.EmailField(_("通知邮箱"), blank=True)
    quota_percent = models.DecimalField(
        _("音尊达配额（日均单量百分比）"),
        max_digits=5,
        decimal_places=2,
        default=settings.YINZUNDA_QUOTA_PERCENT,
        validators=[MinValueValidator(Decimal("0"))],
    )
    quota_mode = models.CharField(
        _("配额方式"), max_length=8, choices=QuotaMode.choices, default=settings.YINZUNDA_QUOTA_MODE
    )
    # One e-mail a day summing up the inbox instead of one e-mail per event.
    email_digest = models.BooleanField(_("每日汇总邮件"), default=False, db_default=False)
    # The language of the notification e-mails (the pages follow each reader's browser instead).
    email_language = models.CharField(
        _("邮件语言"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("商家")
        verbose_name_plural = _("商家")
        constraints = [
            models.CheckConstraint(
                condition=Q(quota_percent__gte=0) & Q(quota_percent__lte=100), name="merchant_quota_range"
            ),
            models.CheckConstraint(condition=Q(quota_mode__in=["warn", "enforce"]), name="merchant_quota_mode_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class MerchantMember(models.Model):
    """A login of a merchant: each user belongs to at most one merchant."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_member")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = _("商家账号")
        verbose_name_plural = _("商家账号")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class Order(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="orders")
    order_number = models.CharField(_("订单号"), max_length=32, unique=True)
    recipient_name = models.CharField(_("收件人"), max_length=64)
    recipient_phone = models.CharField(_("收件人电话"), max_length=11, validators=[phone_validator])
    recipient_address = models.CharField(_("收件地址"), max_length=255)
    amount = models.DecimalField(
        _("订单金额"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    created_at = models.DateTimeField(_("下单时间"), default=timezone.now, db_index=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=Decimal("0")), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(recipient_phone__regex=r"^1[0-9]{10}$"), name="order_recipient_phone_format"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at", "-id"], name="order_merchant_recent")]

    def __str__(self) -> str:
        return self.order_number

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.recipient_phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.recipient_name)

    @property
    def masked_address(self) -> str:
        return mask_address(self.recipient_address)


class YinzundaPurchase(models.Model):
    """The merchant bought the Yinzunda tier for one order (a value-added flag on its waybill)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        CANCELLED = "cancelled", _("已取消（已退款）")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="purchases")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="purchases")
    tariff = models.ForeignKey("carriers.Tariff", on_delete=models.PROTECT, related_name="purchases")
    fee = models.DecimalField(_("服务费"), max_digits=10, decimal_places=2)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    purchased_at = models.DateTimeField(_("购买时间"), default=timezone.now)
    purchased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        ordering = ["-purchased_at"]
        verbose_name = _("音尊达购买")
        verbose_name_plural = _("音尊达购买")
        constraints = [
            # One live purchase per order; a cancelled one may be bought again.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="active"), name="purchase_one_active_per_order"
            ),
            models.CheckConstraint(condition=Q(fee__gte=Decimal("0")), name="purchase_fee_not_negative"),
            models.CheckConstraint(
                condition=(Q(status="active", cancelled_at__isnull=True) | Q(status="cancelled", cancelled_at__isnull=False)),
                name="purchase_cancelled_at_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "status", "purchased_at"])]

    def __str__(self) -> str:
        return f"{self.order} ¥{self.fee} ({self.status})"


class LedgerEntry(models.Model):
    """Append-only money movements of a merchant. Positive credits the merchant, negative debits.

    Corrections are reversing entries (`reverses`), never updates; PostgreSQL refuses UPDATE
    and DELETE on this table with a trigger (see migration).
    """

    class Kind(models.TextChoices):
        FEE = "fee", _("音尊达服务费")
        FEE_REFUND = "fee_refund", _("服务费退款")
        COMPENSATION = "compensation", _("快递赔付")
        REVERSAL = "reversal", _("冲正")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    purchase = models.ForeignKey(
        YinzundaPurchase, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    settlement = models.ForeignKey(
        "claims.Settlement", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    memo = models.CharField(_("备注"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("记账时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("账户流水")
        verbose_name_plural = _("账户流水")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=Decimal("0")), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=(
                    Q(kind="fee", amount__lt=0, purchase__isnull=False)
                    | Q(kind="fee_refund", amount__gt=0, purchase__isnull=False)
                    | Q(kind="compensation", amount__gt=0, claim__isnull=False, settlement__isnull=False)
                    | Q(kind="reversal", reverses__isnull=False)
                ),
                name="ledger_kind_sign_and_reference",
            ),
            # A purchase is charged once and refunded once; a claim is paid once (DESIGN §5.2).
            models.UniqueConstraint(fields=["purchase", "kind"], condition=Q(kind__in=["fee", "fee_refund"]), name="ledger_one_fee_entry_per_purchase"),
            models.UniqueConstraint(fields=["claim"], condition=Q(kind="compensation"), name="ledger_claim_paid_once"),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at", "-id"], name="ledger_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.merchant} {self.kind} {self.amount}"

    def memo_text(self, *, order_number: str = "", carrier_name: str = "") -> str:
        """The memo in the reader's language: fees, refunds and compensations are worded from
        what the entry references (stored memos are in the platform's language); others as stored."""
        return ledger_memo_text(kind=self.kind, memo=self.memo, order_number=order_number, claim_id=self.claim_id,
                                carrier_name=carrier_name)


def ledger_memo_text(*, kind: str, memo: str, order_number: str, claim_id: int | None, carrier_name: str) -> str:
    if kind == LedgerEntry.Kind.FEE and order_number:
        return gettext(gettext_noop("音尊达服务费 %(order)s")) % {"order": order_number}
    if kind == LedgerEntry.Kind.FEE_REFUND and order_number:
        return gettext(gettext_noop("取消音尊达退款 %(order)s")) % {"order": order_number}
    if kind == LedgerEntry.Kind.COMPENSATION and claim_id and carrier_name:
        return gettext(gettext_noop("索赔 #%(id)s 赔付（%(carrier)s）")) % {"id": claim_id, "carrier": carrier_name}
    return memo


class MerchantDay(models.Model):
    """One merchant's orders and ledger totals of one UTC day: a rollup, never written by Python.

    PostgreSQL appends a delta row in the same transaction as every write on orders and the
    ledger (statement triggers, migration 0007; yinzunda.rollups), so the quota's 30-day order
    count and the money summaries sum a few dozen rows instead of scanning the period. A figure
    is the SUM over a key's rows; claims.tasks.rollups_compact folds them into one now and then.
    Days are UTC dates so the rollup never depends on the TIME_ZONE setting; a window that
    starts inside a day reads that partial day from the rows themselves (orders.selectors.rollups).
    No foreign-key constraint: derived rows never lock the merchant row.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField(_("日期（UTC）"))
    orders = models.IntegerField(_("订单"), default=0)
    fee = models.DecimalField(_("服务费"), max_digits=14, decimal_places=2, default=Decimal("0"))
    fee_refund = models.DecimalField(_("服务费退款"), max_digits=14, decimal_places=2, default=Decimal("0"))
    compensation = models.DecimalField(_("快递赔付"), max_digits=14, decimal_places=2, default=Decimal("0"))
    reversal = models.DecimalField(_("冲正"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("商家日汇总")
        verbose_name_plural = _("商家日汇总")
        indexes = [models.Index(fields=["merchant", "day"], name="merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day}: {self.orders}"
