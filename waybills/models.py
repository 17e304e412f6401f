"""Platform-issued e-waybills, their per-carrier serial counters, and carrier tracking events."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psqlextra.types import PostgresPartitioningMethod

from .choices import DROP_METHODS, ConsentMethod, DeliveryMethod, EventCode

__all__ = [
    "DROP_METHODS", "FINISHED_STATUSES", "ConsentMethod", "DeliveryMethod", "EventCode", "ProofType", "Waybill", "EVENT_STATUS",
    "WaybillSequence", "TrackingEvent", "DeliveryConsent",
]


class ProofType(models.TextChoices):
    PHOTO = "photo", _("照片")
    SIGNATURE = "signature", _("签名")
    GEO = "geo", _("定位")


# Past delivery or on the way back: too late to buy the tier (orders.services), in a fixed order
# so the partial index `waybill_buyable` and the filter's SQL spell the same condition.
FINISHED_STATUSES = ("delivered", "returned", "return_scheduled", "return_picked_up")


class Waybill(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", _("已下单")
        PICKED_UP = "picked_up", _("已揽收")
        IN_TRANSIT = "in_transit", _("运输中")
        AT_STATION = "at_station", _("到达网点")
        OUT_FOR_DELIVERY = "out_for_delivery", _("派送中")
        DELIVERED = "delivered", _("已签收")
        DELIVERY_FAILED = "delivery_failed", _("派送失败")
        RETURNED = "returned", _("已退回")
        RETURN_SCHEDULED = "return_scheduled", _("退货待取件")
        RETURN_PICKED_UP = "return_picked_up", _("退货已取件")

    number = models.CharField(_("面单号"), max_length=16, unique=True)
    # No index on carrier alone: (carrier, status) and (carrier, updated_at, id) start with it, and
    # every scan batch rewrites hundreds of waybill rows with all their indexes (status moves are
    # never HOT: status and updated_at are indexed).
    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.PROTECT, related_name="waybills", db_index=False)
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="waybill")
    is_platform_issued = models.BooleanField(_("平台电子面单"), default=True)
    service_codes = models.JSONField(_("增值服务"), default=list, blank=True)
    status = models.CharField(_("当前状态"), max_length=20, choices=Status.choices, default=Status.CREATED)
    # occurred_at of the event that set `status`: events arrive out of order, the latest wins.
    status_at = models.DateTimeField(_("状态时间"), null=True, blank=True)
    delivery_method = models.CharField(
        _("签收方式"), max_length=16, choices=DeliveryMethod.choices, blank=True
    )
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    # The privacy layout shows the destination to the district only (DESIGN §3.1), kept apart
    # so labels and the carrier API never touch the street address.
    dest_province = models.CharField(_("省"), max_length=32, blank=True, db_default="")
    dest_city = models.CharField(_("市"), max_length=32, blank=True, db_default="")
    dest_district = models.CharField(_("区/县"), max_length=32, blank=True, db_default="")
    # When the label was last printed and which services it showed: a change after printing
    # means the merchant must reprint (the 音尊达 mark appears or goes).
    label_printed_at = models.DateTimeField(_("面单打印时间"), null=True, blank=True)
    label_service_codes = models.JSONField(_("打印时的增值服务"), default=list, blank=True, db_default=[])
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    # Bumped by every change a carrier syncs (status, service flags): the sync cursor's key.
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, db_default=Now())
    # When the promise watcher must next look at this parcel: the earliest clock still running
    # (claims.services.promise_due). The sweep reads only parcels whose moment has come.
    promise_due_at = models.DateTimeField(_("下次承诺检查"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("电子面单")
        verbose_name_plural = _("电子面单")
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=r"^[A-Z]{2}[0-9]{11}$"), name="waybill_number_format"),
            models.CheckConstraint(
                condition=Q(delivered_at__isnull=True) | ~Q(delivery_method=""),
                name="waybill_delivered_has_method",
            ),
        ]
        indexes = [
            models.Index(fields=["carrier", "status"]),
            models.Index(fields=["carrier", "updated_at", "id"], name="waybill_carrier_sync"),
            models.Index(
                fields=["promise_due_at"], name="waybill_promise_due", condition=Q(promise_due_at__isnull=False)
            ),
            # Parcels the tier can still be bought for (the order list's "eligible" filter probes
            # this small index per order of the merchant instead of the index of all waybills).
            models.Index(
                fields=["order"], name="waybill_buyable",
                condition=Q(is_platform_issued=True, delivered_at__isnull=True) & ~Q(status__in=FINISHED_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_delivered(self) -> bool:
        return self.delivered_at is not None

    def is_before_pickup(self) -> bool:
        """Not yet in the carrier's hands: the tier can still be cancelled, the waybill voided."""
        return self.status == self.Status.CREATED
    @property
    def needs_reprint(self) -> bool:
        """Printed, and its services changed since: the label on the parcel is wrong."""
        return self.label_printed_at is not None and sorted(self.label_service_codes) != sorted(self.service_codes)

    @property
    def destination(self) -> str:
        parts = [self.dest_province, self.dest_city, self.dest_district]
        return "".join(dict.fromkeys(p for p in parts if p))  # 上海市上海市 → 上海市


class WaybillServiceChange(models.Model):
    """A value-added service flag added to or removed from a waybill: what carriers are told."""

    class Action(models.TextChoices):
        ADDED = "added", _("添加")
        REMOVED = "removed", _("移除")

    waybill = models.ForeignKey(Waybill, on_delete=models.CASCADE, related_name="service_changes")
    code = models.CharField(_("服务代码"), max_length=32)
    action = models.CharField(_("变更"), max_length=8, choices=Action.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("增值服务变更")
        verbose_name_plural = _("增值服务变更")
        constraints = [
            models.CheckConstraint(condition=Q(action__in=["added", "removed"]), name="waybill_service_change_action"),
        ]
        indexes = [models.Index(fields=["waybill", "at"])]

    def __str__(self) -> str:
        return f"{self.waybill_id} {self.action} {self.code}"


class VoidedWaybill(models.Model):
    """A number voided before pickup: never reused, the order may ship again on a new one."""

    number = models.CharField(_("面单号"), max_length=16, unique=True)
    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.PROTECT, related_name="voided_waybills")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="voided_waybills")
    issued_at = models.DateTimeField(_("创建时间"))
    voided_at = models.DateTimeField(_("作废时间"), default=timezone.now)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-voided_at", "-id"]
        verbose_name = _("作废面单")
        verbose_name_plural = _("作废面单")
        indexes = [models.Index(fields=["carrier", "voided_at"])]

    def __str__(self) -> str:
        return self.number


# The one map from a carrier scan to the waybill's current status.
EVENT_STATUS: dict[str, str] = {
    EventCode.PICKED_UP: Waybill.Status.PICKED_UP,
    EventCode.ARRIVED_AT_HUB: Waybill.Status.IN_TRANSIT,
    EventCode.DEPARTED_HUB: Waybill.Status.IN_TRANSIT,
    EventCode.ARRIVED_AT_STATION: Waybill.Status.AT_STATION,
    EventCode.OUT_FOR_DELIVERY: Waybill.Status.OUT_FOR_DELIVERY,
    EventCode.DELIVERED: Waybill.Status.DELIVERED,
    EventCode.DELIVERY_FAILED: Waybill.Status.DELIVERY_FAILED,
    EventCode.RETURNED_TO_SENDER: Waybill.Status.RETURNED,
    EventCode.RETURN_PICKUP_SCHEDULED: Waybill.Status.RETURN_SCHEDULED,
    EventCode.RETURN_PICKED_UP: Waybill.Status.RETURN_PICKED_UP,
}


class WaybillSequence(models.Model):
    """Next serial per carrier; issuing locks this row so concurrent issues never collide."""

    carrier = models.OneToOneField("carriers.Carrier", on_delete=models.CASCADE, related_name="waybill_sequence")
    next_serial = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("面单号序列")
        verbose_name_plural = _("面单号序列")

    def __str__(self) -> str:
        return f"{self.carrier_id}: {self.next_serial}"


if settings.DATABASES["default"]["ENGINE"] == "psqlextra.backend":
    from psqlextra.models import PostgresPartitionedModel
    from psqlextra.models.partitioned import PostgresPartitionedModelMeta

    class _IdKeyedPartitionedMeta(PostgresPartitionedModelMeta):
        """Django keeps `id` as the primary key: claims and consents point at one event by id.

        psqlextra 3 on Django 5.2 would make the model's pk the composite (id, occurred_at),
        which no relation can point at. The table's PRIMARY KEY is (id, occurred_at), as
        PostgreSQL requires of a partitioned table (migration 0007); `id` stays unique, as
        its sequence alone fills it.
        """

        @classmethod
        def _create_primary_key(cls, attrs, partitioning_key) -> None:
            return None

    class _TrackingEventBase(PostgresPartitionedModel, metaclass=_IdKeyedPartitionedMeta):
        objects = models.Manager()

        class Meta:
            abstract = True
else:  # SQLite (`make run`): the plain table
    class _TrackingEventBase(models.Model):
        class Meta:
            abstract = True


class TrackingEventQuerySet(models.QuerySet):
    def of_waybill(self, waybill: Waybill) -> TrackingEventQuerySet:
        """One parcel's scans, bounded below by its issue moment (a scan is never older, less the
        allowed clock skew: waybills.services.tracking) so PostgreSQL skips older partitions."""
        return self.filter(waybill=waybill, occurred_at__gte=waybill.created_at - settings.YINZUNDA_SCAN_CLOCK_SKEW)


class TrackingEvent(_TrackingEventBase):
    # No single-column index on either foreign key: (carrier, event_id, occurred_at) and (waybill,
    # occurred_at) below start with them and serve every lookup and the PROTECT/CASCADE checks;
    # two more indexes would only cost inserts (docs/PERFORMANCE.md, "What each index costs").
    # On PostgreSQL the table is partitioned by range of occurred_at (docs/SCALING.md).
    # Neither foreign key is a database constraint: their triggers re-read, row by row, the
    # waybills the batch has just locked and the carrier that authenticated it, ~35 % of an
    # insert's index-and-check cost (docs/PERFORMANCE.md, "What each index and check costs").
    # The invariant is kept where rows are written: ingest stores only the ids of the carrier's
    # own waybills it holds locked, and voiding (the one delete of a waybill) takes the same row
    # lock and refuses a waybill with scans; PROTECT and CASCADE still act through the ORM.
    carrier = models.ForeignKey(
        "carriers.Carrier", on_delete=models.PROTECT, related_name="tracking_events", db_index=False,
        db_constraint=False,
    )
    waybill = models.ForeignKey(
        Waybill, on_delete=models.CASCADE, related_name="events", db_index=False, db_constraint=False
    )
    event_id = models.CharField(_("快递事件编号"), max_length=64)
    code = models.CharField(_("事件"), max_length=32, choices=EventCode.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    location = models.CharField(_("地点"), max_length=200, blank=True)
    delivery_method = models.CharField(_("签收方式"), max_length=16, choices=DeliveryMethod.choices, blank=True)
    proof_type = models.CharField(_("凭证类型"), max_length=16, choices=ProofType.choices, blank=True)
    proof_url = models.URLField(_("凭证链接"), max_length=500, blank=True)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    # A DELIVERED scan pushed long after it happened (DESIGN §3a): stored, shown, but it never
    # closes a complaint window in the past.
    late = models.BooleanField(_("迟报"), default=False, db_default=False)

    objects = TrackingEventQuerySet.as_manager()

    class PartitioningMeta:  # read by psqlextra on PostgreSQL; SQLite ignores it
        method = PostgresPartitioningMethod.RANGE
        key = ["occurred_at"]

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("轨迹事件")
        verbose_name_plural = _("轨迹事件")
        constraints = [
            # Pushes are idempotent on the carrier's event id (DESIGN §3.3, §5.5). A unique index of
            # a partitioned table must hold the partition key: a replay carries the same
            # occurred_at; a reused id with another occurred_at is a duplicate within
            # YINZUNDA_EVENT_ID_HORIZON_DAYS (checked on ingest), a new scan beyond it.
            models.UniqueConstraint(
                fields=["carrier", "event_id", "occurred_at"], name="tracking_event_unique_per_carrier_time"
            ),
            models.CheckConstraint(
                condition=Q(code="DELIVERED", delivery_method__in=["door", "locker", "station", "reception", "self_pickup"])
                | (~Q(code="DELIVERED") & Q(delivery_method="")),
                name="tracking_event_method_iff_delivered",
            ),
        ]
        indexes = [models.Index(fields=["waybill", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.waybill_id} {self.code} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class DeliveryConsent(models.Model):
    """One append-only record of the buyer's consent to a drop instead of door delivery.

    Who (buyer on the platform, or a carrier asserting it), when, how (channel, evidence) and
    scope (method, place, until when). A withdrawal is a record too; nothing is ever edited.
    Platform-recorded consent covers a drop (no breach); carrier-asserted consent is evidence
    for a dispute, never a reason to open no claim (DESIGN §3a).
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("同意")
        WITHDRAW = "withdraw", _("撤回")

    class Source(models.TextChoices):
        BUYER = "buyer", _("买家（平台记录）")
        CARRIER = "carrier", _("快递公司提供")

    class Channel(models.TextChoices):
        BUYER_PAGE = "buyer_page", _("买家页面")
        SCAN = "scan", _("轨迹事件")
        DISPUTE = "dispute", _("索赔申诉")

    waybill = models.ForeignKey(Waybill, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    method = models.CharField(_("放置方式"), max_length=16, choices=ConsentMethod.choices, blank=True)
    place = models.CharField(_("地点"), max_length=100, blank=True)
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)
    evidence = models.CharField(_("凭证"), max_length=500, blank=True)
    carrier = models.ForeignKey(
        "carriers.Carrier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # No database constraint: a partitioned table's keys include occurred_at (migration 0007);
    # the scan may outlive its partition only in the archive (consent_event_id).
    tracking_event = models.OneToOneField(
        TrackingEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="consent", db_constraint=False
    )
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("代收同意记录")
        verbose_name_plural = _("代收同意记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="withdraw", method="") | (Q(kind="grant") & ~Q(method="")),
                name="consent_grant_has_method",
            ),
            models.CheckConstraint(
                condition=Q(source="buyer", carrier__isnull=True, channel="buyer_page")
                | Q(source="carrier", carrier__isnull=False, kind="grant", channel__in=["scan", "dispute"]),
                name="consent_source_matches_channel",
            ),
        ]
        indexes = [models.Index(fields=["waybill", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.waybill_id} {self.source} {self.kind} {self.method}"
