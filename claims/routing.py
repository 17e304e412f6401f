"""The routing rules of complaints and tracking evidence, in one readable place (DESIGN §3.5).

Pure functions: they read plain facts (complaint type, dates, tracking events, the Yinzunda
purchase's payout) and return a Decision. Services gather the facts, lock rows and apply it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _

from carriers.choices import ComplaintType
from yinzunda import workdays

OPEN_CLAIM = "open_claim"
FORWARD = "forward"
REJECT = "reject"

# The promises Yinzunda sells (door delivery, no locker/station without consent, a call
# before delivery, the return pickup): a breach of one of them is paid by the carrier.
# Damage, loss, transit delays and conduct are the merchant's ordinary after-sales business.
COVERED_TYPES = frozenset(
    {
        ComplaintType.NOT_TO_DOOR,
        ComplaintType.LOCKER_WITHOUT_CONSENT,
        ComplaintType.RETURN_PICKUP_MISSED,
        ComplaintType.NO_CALL,
    }
)
# Complaints about the delivery itself need a delivery scan; the others may come before it.
NEEDS_DELIVERY = frozenset({ComplaintType.NOT_TO_DOOR, ComplaintType.LOCKER_WITHOUT_CONSENT, ComplaintType.NO_CALL})
BREACH_METHODS = frozenset({"locker", "station"})


class EventFacts(Protocol):
    code: str
    occurred_at: datetime
    delivery_method: str
    proof_type: str
    proof_url: str
    late: bool  # a delivery scan pushed long after it happened (DESIGN §3a)


@dataclass(frozen=True)
class Decision:
    action: str  # OPEN_CLAIM, FORWARD or REJECT
    reason: str  # readable by the buyer and the merchant
    amount: Decimal | None = None

    @property
    def opens_claim(self) -> bool:
        return self.action == OPEN_CLAIM


def _last_delivery(events: Sequence[EventFacts]) -> EventFacts | None:
    delivered = [e for e in events if e.code == "DELIVERED"]
    return max(delivered, key=lambda e: e.occurred_at) if delivered else None


def route_complaint(
    *,
    complaint_type: str,
    filed_at: datetime,
    has_waybill: bool,
    events: Sequence[EventFacts],
    covered: bool,
    payout: Decimal | None,
    window_days: int,
) -> Decision:
    """What happens to one complaint: a claim against the carrier, the merchant, or a refusal."""
    if not has_waybill:
        return Decision(FORWARD, _("订单尚未发货，没有物流信息，已转商家处理"))
    if complaint_type not in COVERED_TYPES:
        return Decision(FORWARD, _("此类问题不属于音尊达赔付范围，已转商家处理售后"))
    if not covered:
        return Decision(FORWARD, _("该订单未购买音尊达服务，已转商家处理"))
    delivery = _last_delivery(events)
    # A late-pushed delivery scan never closes the window in the past: it could be backdated.
    if delivery is not None and not delivery.late and filed_at > delivery.occurred_at + timedelta(days=window_days):
        return Decision(
            REJECT, _("已超过签收后 %(days)d 天的投诉期限，不予受理") % {"days": window_days}
        )
    if complaint_type in NEEDS_DELIVERY and delivery is None:
        return Decision(REJECT, _("物流轨迹显示包裹尚未签收；签收后如有问题可再次投诉"))
    if complaint_type == ComplaintType.RETURN_PICKUP_MISSED and any(e.code == "RETURN_PICKED_UP" for e in events):
        return Decision(REJECT, _("物流轨迹显示退货已上门取件"))
    if payout is None:
        return Decision(FORWARD, _("该快递资费未包含此类赔付，已转商家处理"))
    if delivery is not None and delivery.delivery_method in BREACH_METHODS:
        reason = _("物流轨迹显示包裹被放至快递柜或驿站，已向快递公司索赔")
    elif delivery is not None and delivery.delivery_method == "door" and (delivery.proof_type or delivery.proof_url):
        reason = _("已向快递公司索赔；轨迹显示送货上门并有凭证，快递公司可提出申诉，由平台仲裁")
    else:
        reason = _("已向快递公司索赔，快递公司将在答复时限内答复")
    return Decision(OPEN_CLAIM, reason, payout)


def route_tracking_event(
    *, event: EventFacts, covered: bool, payout: Decimal | None, enabled: bool
) -> Decision:
    """A Yinzunda parcel scanned as delivered to a locker or station is a breach on its face."""
    if not enabled:
        return Decision(REJECT, "tracking claims disabled")
    if event.code != "DELIVERED" or event.delivery_method not in BREACH_METHODS:
        return Decision(REJECT, "not a locker/station delivery")
    if not covered:
        return Decision(REJECT, "no active Yinzunda purchase")
    if payout is None:
        return Decision(REJECT, "tariff has no payout for this breach")
    return Decision(OPEN_CLAIM, _("轨迹显示音尊达包裹被放至快递柜或驿站（未送货上门），系统自动索赔"), payout)


def answer_due_at(filed_at: datetime, *, days: int, working_days: bool) -> datetime:
    """When the carrier must have answered a complaint filed at `filed_at` (a Beijing time).

    《快递暂行条例》 Art. 28: within 7 days of receiving it (calendar days, the default); a
    deployment may count working days instead, on the official calendar with its make-up days.
    """
    if working_days:
        return workdays.working_days_after(filed_at, days)
    return filed_at + timedelta(days=days)


def answer_clock_calendar_gaps(*, today: date, days: int, working_days: bool) -> list[int]:
    """Years an answer clock started `today` could reach that the holiday calendar does not know
    (working-day mode only): there it counts Monday–Friday, and operators must be told."""
    if not working_days:
        return []
    reach = today + timedelta(days=days * 2 + 14)  # N working days span at most 2N days and a long holiday
    return workdays.unknown_years(range(today.year, reach.year + 1))
