"""The promise clocks of one Yinzunda parcel (DESIGN §3a), for every page and API that shows them."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from carriers.choices import RULE_COMPLAINT_TYPE
from carriers.models import Tariff
from waybills.models import TrackingEvent, Waybill
from waybills.promises import Clocks, RuleState, promises_evaluate
from waybills.selectors import waybill_consents

from ..models import YinzundaPurchase
from .orders import purchase_active_get


def waybill_promises(
    *, waybill: Waybill, now: datetime | None = None, covered_only: bool = True, purchase: YinzundaPurchase | None = None
) -> list[RuleState]:
    """Each promise clock of the parcel with its state (kept / running / at risk / broken).

    Empty when the order has no active Yinzunda purchase. With `covered_only` only the rules
    the tariff pays for are shown: a tariff covers a promise only with a payout for it.
    """
    purchase = purchase or purchase_active_get(order_id=waybill.order_id)
    if purchase is None:
        return []
    return promise_states(
        tariff=purchase.tariff, events=list(TrackingEvent.objects.of_waybill(waybill).order_by("occurred_at", "id")),
        consents=list(waybill_consents(waybill=waybill)), now=now, covered_only=covered_only,
    )


def promise_states(
    *, tariff: Tariff, events: list, consents: list, now: datetime | None = None, covered_only: bool = True
) -> list[RuleState]:
    """waybill_promises over rows already in hand (prefetched events, consents, `tariff.payouts`)."""
    states = promises_evaluate(events=events, consents=consents, clocks=Clocks.of_tariff(tariff), now=now or timezone.now())
    if not covered_only:
        return states
    paid = {payout.complaint_type for payout in tariff.payouts.all()}
    return [s for s in states if RULE_COMPLAINT_TYPE[s.rule] in paid]


def promise_clocks(states: list[RuleState]) -> list[dict]:
    """Promise clocks as plain data (API): promise, rule, state, start, due, clock, text."""
    return [
        {"promise": s.promise, "rule": s.rule, "state": s.state, "started_at": s.started_at, "due_at": s.due_at,
         "clock_hours": int(s.clock.total_seconds() // 3600), "text": s.text()}
        for s in states
    ]


def waybill_promise_clocks(*, waybill: Waybill, now: datetime | None = None) -> list[dict]:
    """The parcel's promise clocks as plain data (the carrier's waybill detail uses this)."""
    return promise_clocks(waybill_promises(waybill=waybill, now=now))
