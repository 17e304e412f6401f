"""The promise rule table of DESIGN §3a as pure functions over scans, consent records and clocks.

This is the readable statement of every rule; `claims.selectors.breaches` states the same
rules in set-based SQL for the watcher, and the property tests hold the two to agreement.

Every clock is judged the same way: it starts at a scan, is due `clock` later, and ends at the
first scan that keeps the promise; it is broken when it ended after the due moment, or has not
ended and the due moment has passed. Exactly at the due moment it is still kept.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from carriers.choices import RULE_COMPLAINT_TYPE, RULE_PROMISE, BreachRule, Promise
from yinzunda.texts import Message, label_message, message, render

from .choices import DROP_METHODS, DeliveryMethod, EventCode

KEPT = "kept"
RUNNING = "running"
AT_RISK = "at_risk"
BROKEN = "broken"
STATE_LABELS = {
    KEPT: gettext_lazy("已兑现"), RUNNING: gettext_lazy("计时中"), AT_RISK: gettext_lazy("即将超时"),
    BROKEN: gettext_lazy("已违约"),
}
# A running clock with less than this share left is shown "at risk".
AT_RISK_SHARE = 0.25
# The scans that end priority transit: the parcel is out for delivery (or already delivered).
TRANSIT_END_CODES = frozenset({EventCode.OUT_FOR_DELIVERY.value, EventCode.DELIVERED.value})


class EventFacts(Protocol):
    id: int
    code: str
    occurred_at: datetime
    delivery_method: str


class ConsentFacts(Protocol):
    id: int
    kind: str
    source: str
    method: str
    valid_until: datetime | None
    recorded_at: datetime


@dataclass(frozen=True)
class Clocks:
    station_hold: timedelta = timedelta(hours=24)
    hub_dwell: timedelta = timedelta(hours=12)
    transit: timedelta = timedelta(hours=72)
    return_pickup: timedelta = timedelta(hours=48)

    @classmethod
    def of_tariff(cls, tariff) -> Clocks:
        return cls(
            station_hold=timedelta(hours=tariff.station_hold_hours),
            hub_dwell=timedelta(hours=tariff.hub_dwell_hours),
            transit=timedelta(hours=tariff.transit_hours),
            return_pickup=timedelta(hours=tariff.return_pickup_hours),
        )


@dataclass(frozen=True)
class RuleState:
    """One rule of the table applied to one parcel: its clock and whether it holds."""

    rule: str
    state: str  # KEPT, RUNNING, AT_RISK or BROKEN
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None
    clock: timedelta
    now: datetime
    source_event_id: int
    event_ids: tuple[int, ...] = field(default=())
    method: str = ""
    carrier_consent: bool = False
    late: bool = False  # the delivery scan was pushed long after it happened: it closes no window

    @property
    def promise(self) -> str:
        return RULE_PROMISE[self.rule]

    @property
    def complaint_type(self) -> str:
        return RULE_COMPLAINT_TYPE[self.rule]

    @property
    def broken(self) -> bool:
        return self.state == BROKEN

    @property
    def elapsed(self) -> timedelta:
        return (self.ended_at or self.now) - self.started_at

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def promise_label(self) -> str:
        return str(Promise(self.promise).label)

    def text(self) -> str:
        """The clock in a buyer's words, e.g. 驿站滞留 26 小时，超过 24 小时时限."""
        return rule_text(self)

    def observed_message(self) -> Message:
        """A claim's breach as seen when the claim was opened: a hold still running then says
        when it was measured (a later scan may show it ended; the claim is not changed by it)."""
        if self.ended_at is None and self.rule != BreachRule.DROP:
            at = timezone.localtime(self.now).strftime("%m-%d %H:%M")
            return message(gettext_noop("%(text)s（立案时 %(at)s 的计时）"), text=rule_message(self), at=at)
        return rule_message(self)

    def observed_text(self) -> str:
        return render(self.observed_message())


def duration_message(value: timedelta) -> Message:
    minutes = max(int(value.total_seconds() // 60), 0)
    hours, rest = divmod(minutes, 60)
    if rest and hours:
        return message(gettext_noop("%(h)d 小时 %(m)d 分钟"), h=hours, m=rest)
    if rest:
        return message(gettext_noop("%(m)d 分钟"), m=rest)
    return message(gettext_noop("%(h)d 小时"), h=hours)


def duration_text(value: timedelta) -> str:
    return render(duration_message(value))


# (broken, running, kept) per clock rule: marked here, translated when one is chosen.
_CLOCK_TEXTS = {
    BreachRule.STATION_HOLD: (
        gettext_noop("驿站滞留 %(held)s，超过 %(clock)d 小时时限"),
        gettext_noop("驿站已滞留 %(held)s，%(clock)d 小时时限还剩 %(left)s"),
        gettext_noop("到站 %(held)s 后签收，未超过 %(clock)d 小时时限"),
    ),
    BreachRule.HUB_DWELL: (
        gettext_noop("转运中心滞留 %(held)s，超过 %(clock)d 小时时限"),
        gettext_noop("转运中心已停留 %(held)s，%(clock)d 小时时限还剩 %(left)s"),
        gettext_noop("转运中心停留 %(held)s，未超过 %(clock)d 小时时限"),
    ),
    BreachRule.TRANSIT: (
        gettext_noop("揽收后 %(held)s 未开始派送，超过 %(clock)d 小时时限"),
        gettext_noop("揽收已 %(held)s，%(clock)d 小时时限还剩 %(left)s"),
        gettext_noop("揽收后 %(held)s 开始派送，未超过 %(clock)d 小时时限"),
    ),
    BreachRule.RETURN_PICKUP: (
        gettext_noop("预约退货后 %(held)s 未上门取件，超过 %(clock)d 小时时限"),
        gettext_noop("预约退货已 %(held)s，%(clock)d 小时时限还剩 %(left)s"),
        gettext_noop("预约退货后 %(held)s 上门取件，未超过 %(clock)d 小时时限"),
    ),
}


def rule_text(state: RuleState) -> str:
    return render(rule_message(state))


def rule_message(state: RuleState) -> Message:
    """The clock as a stored message (rendered in each reader's language)."""
    if state.rule == BreachRule.DROP:
        method = label_message(DeliveryMethod(state.method).label) if state.method else ""
        if state.state != BROKEN:
            if state.method == DeliveryMethod.DOOR:
                return message(gettext_noop("已送货上门"))
            return message(gettext_noop("按买家在平台的同意放至%(method)s"), method=method)
        if state.carrier_consent:
            return message(gettext_noop("放至%(method)s，买家未在平台同意；快递公司称已获同意，可提出申诉"), method=method)
        return message(gettext_noop("放至%(method)s，买家未同意"), method=method)
    broken, running, kept = _CLOCK_TEXTS[state.rule]
    values = {"held": duration_message(state.elapsed), "clock": int(state.clock.total_seconds() // 3600)}
    if state.state == BROKEN:
        return message(broken, **values)
    if state.state == KEPT:
        return message(kept, **values)
    return message(running, **values, left=duration_message(state.due_at - state.now))


def consent_covers(consents: Iterable[ConsentFacts], *, method: str, at: datetime) -> bool:
    """Platform-recorded consent covers a drop by `method` at `at`: a buyer grant for that method
    recorded by then, still valid, and no buyer withdrawal after it (up to `at`)."""
    records = sorted(
        (c for c in consents if c.source == "buyer" and c.recorded_at <= at), key=lambda c: (c.recorded_at, c.id)
    )
    covered = False
    for record in records:
        if record.kind == "withdraw":
            covered = False
        elif record.method == method and (record.valid_until is None or record.valid_until >= at):
            covered = True
    return covered


def _carrier_asserts(consents: Iterable[ConsentFacts], *, method: str) -> bool:
    return any(c.source == "carrier" and c.method == method for c in consents)


def _clock(
    rule: str, start: EventFacts, end: EventFacts | None, clock: timedelta, now: datetime, ids: tuple[int, ...]
) -> RuleState:
    due = start.occurred_at + clock
    finish = end.occurred_at if end is not None else None
    if (finish or now) > due:
        state = BROKEN
    elif finish is not None:
        state = KEPT
    else:
        state = AT_RISK if (due - now) < clock * AT_RISK_SHARE else RUNNING
    return RuleState(
        rule=rule, state=state, started_at=start.occurred_at, due_at=due, ended_at=finish, clock=clock, now=now,
        source_event_id=start.id, event_ids=ids,
    )


def promises_evaluate(
    *, events: Sequence[EventFacts], consents: Sequence[ConsentFacts], clocks: Clocks, now: datetime
) -> list[RuleState]:
    """Every rule of §3a that applies to this parcel's scans, with its state; not-started rules are absent."""
    scans = sorted(events, key=lambda e: (e.occurred_at, e.id))
    found: list[RuleState] = []

    def first(code: str, *, after: EventFacts | None = None, codes: frozenset[str] | None = None) -> EventFacts | None:
        wanted = codes or frozenset({code})
        for scan in scans:
            if scan.code in wanted and (after is None or scan.occurred_at >= after.occurred_at):
                return scan
        return None

    # door delivery: a locker/station drop without platform consent is a breach at once.
    drops = [s for s in scans if s.code == EventCode.DELIVERED]
    if drops:
        uncovered = next(
            (s for s in drops if s.delivery_method in DROP_METHODS
             and not consent_covers(consents, method=s.delivery_method, at=s.occurred_at)),
            None,
        )
        chosen = uncovered or drops[0]
        found.append(RuleState(
            rule=BreachRule.DROP, state=BROKEN if uncovered else KEPT, started_at=chosen.occurred_at,
            due_at=chosen.occurred_at, ended_at=chosen.occurred_at, clock=timedelta(0), now=now,
            source_event_id=chosen.id, event_ids=(chosen.id,), method=chosen.delivery_method,
            carrier_consent=bool(uncovered) and _carrier_asserts(consents, method=chosen.delivery_method),
            late=bool(getattr(chosen, "late", False)),
        ))
    # door delivery: at the station, delivered within the hold clock (consent to the station covers it).
    arrival = first(EventCode.ARRIVED_AT_STATION)
    if arrival is not None:
        end = first(EventCode.DELIVERED, after=arrival)
        ids = (arrival.id,) + ((end.id,) if end else ())
        state = _clock(BreachRule.STATION_HOLD, arrival, end, clocks.station_hold, now, ids)
        if state.broken and consent_covers(consents, method=DeliveryMethod.STATION, at=state.due_at):
            state = RuleState(**{**state.__dict__, "state": KEPT})
        found.append(state)
    # priority transit: every hub left within the dwell limit (the parcel's next scan ends the dwell).
    hub_states = []
    for index, scan in enumerate(scans):
        if scan.code == EventCode.ARRIVED_AT_HUB:
            following = scans[index + 1] if index + 1 < len(scans) else None
            ids = (scan.id,) + ((following.id,) if following else ())
            hub_states.append(_clock(BreachRule.HUB_DWELL, scan, following, clocks.hub_dwell, now, ids))
    if hub_states:
        found.append(next((s for s in hub_states if s.broken), hub_states[-1]))
    # priority transit: out for delivery within the transit clock after pickup.
    pickup = first(EventCode.PICKED_UP)
    if pickup is not None:
        end = first("", after=pickup, codes=TRANSIT_END_CODES)
        ids = (pickup.id,) + ((end.id,) if end else ())
        found.append(_clock(BreachRule.TRANSIT, pickup, end, clocks.transit, now, ids))
    # return pickup: collected within its clock after the first scheduling.
    scheduled = first(EventCode.RETURN_PICKUP_SCHEDULED)
    if scheduled is not None:
        end = first(EventCode.RETURN_PICKED_UP, after=scheduled)
        ids = (scheduled.id,) + ((end.id,) if end else ())
        found.append(_clock(BreachRule.RETURN_PICKUP, scheduled, end, clocks.return_pickup, now, ids))
    return found


def breaches_by_promise(states: Iterable[RuleState], *, covered_rules: Iterable[str]) -> dict[str, RuleState]:
    """The breach a claim is opened for, per promise: the earliest-due broken rule the tariff pays."""
    paid = set(covered_rules)
    chosen: dict[str, RuleState] = {}
    for state in sorted(states, key=lambda s: (s.due_at, s.rule)):
        if state.broken and state.rule in paid and state.promise not in chosen:
            chosen[state.promise] = state
    return chosen


def breach_record(state: RuleState, *, observed_at: datetime) -> dict:
    """The breach as stored on a claim (JSON): enough to show its clock in any language later."""
    return {
        "rule": state.rule, "started_at": state.started_at.isoformat(), "due_at": state.due_at.isoformat(),
        "ended_at": state.ended_at.isoformat() if state.ended_at else None,
        "clock_hours": int(state.clock.total_seconds() // 3600), "source_event_id": state.source_event_id,
        "end_event_id": state.event_ids[1] if len(state.event_ids) > 1 else None, "method": state.method,
        "carrier_consent": state.carrier_consent, "observed_at": observed_at.isoformat(),
    }


def breach_state(record: dict) -> RuleState | None:
    """A stored breach record back as a RuleState (None for claims without one)."""
    if not record or record.get("rule") not in BreachRule.values:
        return None
    def moment(key: str) -> datetime | None:
        return datetime.fromisoformat(record[key]) if record.get(key) else None
    ids = tuple(i for i in (record.get("source_event_id"), record.get("end_event_id")) if i)
    return RuleState(
        rule=record["rule"], state=BROKEN, started_at=moment("started_at"), due_at=moment("due_at"),
        ended_at=moment("ended_at"), clock=timedelta(hours=record.get("clock_hours") or 0),
        now=moment("observed_at") or moment("due_at"), source_event_id=record.get("source_event_id") or 0,
        event_ids=ids, method=record.get("method") or "", carrier_consent=bool(record.get("carrier_consent")),
    )
