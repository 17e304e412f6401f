"""Complaint types: the vocabulary of the promises a tariff pays for (claims and complaints use it too)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintType(models.TextChoices):
    NOT_TO_DOOR = "not_to_door", _("未送货上门")
    LOCKER_WITHOUT_CONSENT = "locker_without_consent", _("未经同意放快递柜/驿站")
    RETURN_PICKUP_MISSED = "return_pickup_missed", _("退货上门取件未来")
    STUCK_IN_TRANSIT = "stuck_in_transit", _("中转滞留")
    NO_CALL = "no_call", _("派送前未电话联系")
    COURIER_CONDUCT = "courier_conduct", _("快递员态度问题")
    DAMAGED = "damaged", _("包裹破损")
    LOST = "lost", _("包裹丢失")


class Promise(models.TextChoices):
    """The promises of the tier (DESIGN §3a): one claim at most per waybill and promise."""

    DOOR_DELIVERY = "door_delivery", _("送货上门")
    PRIORITY_TRANSIT = "priority_transit", _("优先转运")
    RETURN_PICKUP = "return_pickup", _("退货上门取件")
    CALL_BEFORE_DELIVERY = "call_before_delivery", _("派送前电话联系")


class BreachRule(models.TextChoices):
    """How the scans show a promise broken: one rule per breach column of §3a."""

    DROP = "drop", _("未经同意放快递柜/驿站")
    STATION_HOLD = "station_hold", _("驿站滞留超时")
    HUB_DWELL = "hub_dwell", _("转运中心滞留超时")
    TRANSIT = "transit", _("转运超时")
    RETURN_PICKUP = "return_pickup", _("退货取件超时")


RULE_PROMISE: dict[str, str] = {
    BreachRule.DROP: Promise.DOOR_DELIVERY,
    BreachRule.STATION_HOLD: Promise.DOOR_DELIVERY,
    BreachRule.HUB_DWELL: Promise.PRIORITY_TRANSIT,
    BreachRule.TRANSIT: Promise.PRIORITY_TRANSIT,
    BreachRule.RETURN_PICKUP: Promise.RETURN_PICKUP,
}
# The payout a tariff must carry for a rule's breach to be paid by the carrier.
RULE_COMPLAINT_TYPE: dict[str, str] = {
    BreachRule.DROP: ComplaintType.LOCKER_WITHOUT_CONSENT,
    BreachRule.STATION_HOLD: ComplaintType.NOT_TO_DOOR,
    BreachRule.HUB_DWELL: ComplaintType.STUCK_IN_TRANSIT,
    BreachRule.TRANSIT: ComplaintType.STUCK_IN_TRANSIT,
    BreachRule.RETURN_PICKUP: ComplaintType.RETURN_PICKUP_MISSED,
}
# The promise a buyer's complaint is about (types outside it are the merchant's after-sales).
COMPLAINT_PROMISE: dict[str, str] = {
    ComplaintType.NOT_TO_DOOR: Promise.DOOR_DELIVERY,
    ComplaintType.LOCKER_WITHOUT_CONSENT: Promise.DOOR_DELIVERY,
    ComplaintType.STUCK_IN_TRANSIT: Promise.PRIORITY_TRANSIT,
    ComplaintType.RETURN_PICKUP_MISSED: Promise.RETURN_PICKUP,
    ComplaintType.NO_CALL: Promise.CALL_BEFORE_DELIVERY,
}
# The rules a complaint of each type is judged by.
COMPLAINT_RULES: dict[str, tuple[str, ...]] = {
    ComplaintType.NOT_TO_DOOR: (BreachRule.DROP, BreachRule.STATION_HOLD),
    ComplaintType.LOCKER_WITHOUT_CONSENT: (BreachRule.DROP, BreachRule.STATION_HOLD),
    ComplaintType.STUCK_IN_TRANSIT: (BreachRule.HUB_DWELL, BreachRule.TRANSIT),
    ComplaintType.RETURN_PICKUP_MISSED: (BreachRule.RETURN_PICKUP,),
}
