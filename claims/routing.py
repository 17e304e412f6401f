"""The routing rules of complaints and tracking evidence, in one readable place (DESIGN §3.5).

Pure functions: they read plain facts (complaint type, dates, the parcel's promise clocks from
waybills.promises, the Yinzunda purchase's payout) and return a Decision. Services gather the
facts, lock rows and apply it. Complaints are judged by the same rule table as the watcher.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _

from carriers.choices import COMPLAINT_PROMISE, COMPLAINT_RULES, BreachRule, ComplaintType
from waybills.choices import DROP_METHODS, DeliveryMethod
from waybills.promises import AT_RISK, RUNNING, RuleState, duration_message, rule_message
from yinzunda import workdays
from yinzunda.texts import Message, label_message, message, render

_FAR = datetime.max.replace(tzinfo=UTC)

OPEN_CLAIM = "open_claim"
JOIN = "join"  # the breach is claimed already: the complaint joins that claim
HOLD = "hold"  # the data cannot settle it yet: judged again at recheck_at
FORWARD = "forward"
REJECT = "reject"

# The promises Yinzunda sells (DESIGN §3a): door delivery (no locker/station without consent),
# priority transit, the return pickup, a call before delivery. A breach is paid by the carrier;
# damage, loss and conduct are the merchant's ordinary after-sales business.
COVERED_TYPES = frozenset(COMPLAINT_PROMISE)
# A complaint the data cannot settle is held at most this long, then forwarded to the merchant.
MAX_HOLD = timedelta(days=14)
# When no clock says when to look again (e.g. not picked up yet), look again after this.
RECHECK_EVERY = timedelta(hours=6)


@dataclass(frozen=True)
class Decision:
    action: str  # OPEN_CLAIM, JOIN, HOLD, FORWARD or REJECT
    message: Message  # readable by the buyer and the merchant: why, and what happens next (stored as is)
    amount: Decimal | None = None
    breach: RuleState | None = None
    recheck_at: datetime | None = None
    claim_id: int | None = None

    @property
    def reason(self) -> str:
        """The message in the active language."""
        return render(self.message)

    @property
    def opens_claim(self) -> bool:
        return self.action == OPEN_CLAIM


def window_start(state: RuleState) -> datetime:
    """Where a complaint's window counts from (DESIGN §3a): the moment the promise was due —
    the delivery for a drop, the station arrival for a hold, the deadline for transit, the
    scheduling for a return pickup."""
    if state.rule in (BreachRule.STATION_HOLD, BreachRule.RETURN_PICKUP):
        return state.started_at
    return state.due_at


def _hold(filed_at: datetime, now: datetime, states: Sequence[RuleState], reason: Message) -> Decision:
    if filed_at + MAX_HOLD <= now:
        return Decision(FORWARD, message(_("物流数据长时间无法判断；已转商家核实处理，商家会联系您")))
    running = [s.due_at for s in states if s.state in (RUNNING, AT_RISK)]
    recheck = min(running) + timedelta(minutes=1) if running else now + RECHECK_EVERY
    return Decision(HOLD, reason, recheck_at=min(recheck, filed_at + MAX_HOLD))


def route_complaint(
    *,
    complaint_type: str,
    filed_at: datetime,
    now: datetime,
    has_waybill: bool,
    covered: bool,
    payout: Decimal | None,
    window_days: int,
    states: Sequence[RuleState],
    existing_claim: tuple[int, str] | None = None,
) -> Decision:
    """What happens to one complaint, judged by the same rule table as the watcher.

    `states` are the parcel's promise clocks now (waybills.promises); `existing_claim` is the
    (id, status) of the claim already open on this complaint's (waybill, promise), if any.
    """
    if not has_waybill:
        return Decision(FORWARD, message(_("订单尚未发货，没有物流信息；已转商家处理，商家会联系您")))
    if complaint_type not in COVERED_TYPES:
        return Decision(FORWARD, message(_("此类问题不属于音尊达赔付范围；已转商家按售后处理，商家会联系您")))
    if not covered:
        return Decision(FORWARD, message(_("该订单未购买音尊达服务；已转商家处理，商家会联系您")))
    if existing_claim is not None:
        claim_id, status = existing_claim
        if status == "dismissed":
            # A ruling is final: filing again neither reopens it nor lets a silent carrier pay.
            return Decision(REJECT, message(_(
                "平台此前已核实过这个包裹的同一问题：快递公司提供的证据成立，裁定不予赔付。"
                "这个裁定是最终结果，再次投诉不会重新索赔。如包裹仍有问题，请联系商家协商售后。"
            )), claim_id=claim_id)
        return Decision(JOIN, joined_message(claim_id), claim_id=claim_id)
    if payout is None:
        return Decision(FORWARD, message(_("该快递的资费不含此类赔付；已转商家处理，商家会联系您")))
    window = timedelta(days=window_days)
    late = _("已超过投诉期限（%(from)s后 %(days)d 天）；如仍有问题请联系商家")
    relevant = [s for s in states if s.rule in COMPLAINT_RULES.get(complaint_type, ())]
    broken = sorted((s for s in relevant if s.broken), key=lambda s: (s.due_at, s.rule))
    if broken:
        breach = broken[0]
        # A late-pushed delivery scan never closes the window in the past: it could be backdated.
        if not breach.late and filed_at > window_start(breach) + window:
            return Decision(REJECT, message(late, **{"from": label_message(_WINDOW_FROM[breach.rule]), "days": window_days}))
        return Decision(
            OPEN_CLAIM, message(_("%(clock)s：已向快递公司索赔，快递公司将在答复时限内答复"), clock=rule_message(breach)),
            payout, breach=breach,
        )
    if filed_at > filed_at_limit(complaint_type, states, window):
        return Decision(REJECT, message(late, **{"from": message(_("签收")), "days": window_days}))
    if complaint_type in (ComplaintType.NOT_TO_DOOR, ComplaintType.LOCKER_WITHOUT_CONSENT):
        drop = next((s for s in relevant if s.rule == BreachRule.DROP), None)
        if drop is None:
            hold = next((s for s in relevant if s.rule == BreachRule.STATION_HOLD and s.state in (RUNNING, AT_RISK)), None)
            if hold is not None:
                # Waiting at a station: the buyer is told the clock is running and claims itself.
                return _hold(filed_at, now, relevant, message(_(
                    "包裹已在驿站 %(held)s；如 %(clock)d 小时时限到仍未送货上门，平台将自动索赔，无需再次投诉"
                ), held=duration_message(hold.elapsed), clock=int(hold.clock.total_seconds() // 3600)))
            return _hold(filed_at, now, relevant, message(_(
                "包裹尚未签收，现在还无法判断；平台会在派送后自动重新判断，无需再次投诉"
            )))
        if drop.method != DeliveryMethod.DOOR and drop.method in DROP_METHODS:
            return Decision(REJECT, message(_("您已在平台同意放至%(method)s，这不属于违约；如需撤回同意，可在订单页操作"),
                                            method=label_message(DeliveryMethod(drop.method).label)))
        reason = message(_("已向快递公司索赔；轨迹显示已签收，快递公司可提出申诉，由平台仲裁"))
        return Decision(OPEN_CLAIM, reason, payout)
    if complaint_type == ComplaintType.NO_CALL:
        if not any(s.rule == BreachRule.DROP for s in states):
            return _hold(filed_at, now, [], message(_("包裹尚未签收，现在还无法判断；签收后平台会自动重新判断，无需再次投诉")))
        return Decision(OPEN_CLAIM, message(_("已向快递公司索赔；快递公司可凭通话记录申诉，由平台仲裁")), payout)
    if any(s.state in (RUNNING, AT_RISK) for s in relevant) or not relevant:
        what = message(
            _("退货取件时限还没到，现在还无法判断；时限到后平台会自动重新判断，无需再次投诉")
            if complaint_type == ComplaintType.RETURN_PICKUP_MISSED
            else _("包裹仍在运输中、转运时限还没到，现在还无法判断；时限到后平台会自动重新判断，无需再次投诉")
        )
        return _hold(filed_at, now, relevant, what)
    if complaint_type == ComplaintType.RETURN_PICKUP_MISSED:
        return Decision(REJECT, message(_("物流轨迹显示退货已在时限内上门取件；如有疑问请联系商家")))
    return Decision(REJECT, message(_("物流轨迹显示包裹在转运时限内已开始派送，没有超时；如有疑问请联系商家")))


def joined_message(claim_id: int) -> Message:
    return message(_("同一包裹已有索赔 #%(id)s，本投诉并入该索赔，不重复赔付"), id=claim_id)


_WINDOW_FROM = {
    BreachRule.DROP: gettext_lazy("签收"),
    BreachRule.STATION_HOLD: gettext_lazy("到达驿站"),
    BreachRule.HUB_DWELL: gettext_lazy("转运时限到期"),
    BreachRule.TRANSIT: gettext_lazy("转运时限到期"),
    BreachRule.RETURN_PICKUP: gettext_lazy("预约退货取件"),
}


def filed_at_limit(complaint_type: str, states: Sequence[RuleState], window: timedelta) -> datetime:
    """The last moment a complaint about a kept promise may be filed: the window after delivery."""
    drop = next((s for s in states if s.rule == BreachRule.DROP), None)
    if drop is None or drop.late or complaint_type not in (
        ComplaintType.NOT_TO_DOOR, ComplaintType.LOCKER_WITHOUT_CONSENT, ComplaintType.NO_CALL
    ):
        return _FAR
    return drop.started_at + window


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
