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
