"""Waybill vocabularies (scan codes, delivery and consent methods): no models, importable anywhere."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventCode(models.TextChoices):
    PICKED_UP = "PICKED_UP", _("已揽收")
    ARRIVED_AT_HUB = "ARRIVED_AT_HUB", _("到达转运中心")
    DEPARTED_HUB = "DEPARTED_HUB", _("离开转运中心")
    ARRIVED_AT_STATION = "ARRIVED_AT_STATION", _("到达网点/驿站")
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY", _("派送中")
    DELIVERED = "DELIVERED", _("已签收")
    DELIVERY_FAILED = "DELIVERY_FAILED", _("派送失败")
    RETURNED_TO_SENDER = "RETURNED_TO_SENDER", _("已退回寄件人")
    RETURN_PICKUP_SCHEDULED = "RETURN_PICKUP_SCHEDULED", _("已预约退货取件")
    RETURN_PICKED_UP = "RETURN_PICKED_UP", _("退货已取件")


class DeliveryMethod(models.TextChoices):
    DOOR = "door", _("送货上门")
    LOCKER = "locker", _("快递柜")
    STATION = "station", _("驿站/代收点")
    RECEPTION = "reception", _("前台/门卫代收")
    SELF_PICKUP = "self_pickup", _("自提")


# Deliveries that leave the parcel somewhere other than the door: without the buyer's consent
# each one breaks the door-delivery promise (DESIGN §3a).
DROP_METHODS = frozenset({DeliveryMethod.LOCKER.value, DeliveryMethod.STATION.value})


class ConsentMethod(models.TextChoices):
    LOCKER = "locker", _("快递柜")
    STATION = "station", _("驿站/代收点")
    RECEPTION = "reception", _("前台/门卫代收")
