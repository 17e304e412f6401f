"""Demo claims: stories with a known ending (accepted, disputed and ruled, overdue, refused).

Each story is an order covered by Yinzunda whose parcel is delivered in a way that leads to a
claim: opened by the tracking rule or by the buyer's complaint, as the routing decides. The
carrier's answers and the operator's rulings then go through claims.services at the hour
the story says.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from carriers.choices import ComplaintType
from claims.selectors.claims import claim_live_on_waybill
from claims.services.claims import claim_accept, claim_auto_accept, claim_dispute, claim_ruling
from waybills.models import EventCode

from .orders import order_save, plan_draw, ship, tier_buy
from .plans import ClaimScenario, DemoContext, Plan
from .reference import MERCHANTS
from .tracking import timeline

# ZTO is paid up to 5 days ago, YTO has an unpaid statement up to 2 days ago, Yunda none yet.
SCENARIOS = [
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 12, (("accept", 20),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "station", 14, (("auto", 49),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "door", 16, (("dispute", 20), ("uphold", 60))),
    ClaimScenario("ZTO", ComplaintType.NO_CALL, "locker", 9, (("accept", 30),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "reception", 10, (("dispute", 22), ("dismiss", 70))),
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 3, (("accept", 18),)),
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 0.5),
    ClaimScenario("YTO", ComplaintType.RETURN_PICKUP_MISSED, "door", 8, (("accept", 26),)),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "station", 6, (("auto", 49),)),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "door", 9, (("dispute", 20), ("uphold", 80))),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "door", 2, (("dispute", 12),)),
    ClaimScenario("YTO", None, "station", 0.8),
    ClaimScenario("YUNDA", None, "station", 4, (("accept", 24),)),
    ClaimScenario("YUNDA", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 1),
    ClaimScenario("YUNDA", ComplaintType.NOT_TO_DOOR, "station", 5, (("auto", 50),)),
    ClaimScenario("YUNDA", ComplaintType.NOT_TO_DOOR, "door", 7, (("dispute", 20), ("dismiss", 50))),
    ClaimScenario("YUNDA", ComplaintType.NO_CALL, "door", 3, (("dispute", 20),)),
    # The buyer waited too long: the complaint is refused, no claim.
    ClaimScenario("YUNDA", ComplaintType.NOT_TO_DOOR, "door", 2, waited_days=8),
]
# What the carriers and the operator write (their words, not the platform's).
ACCEPT_REASON = "核实属实，同意赔付"
DISPUTE_REASON = "已按约送货上门，附签收凭证"
DISPUTE_NOTE = "快递员称已电话联系买家并获同意"
UPHOLD_REASON = "凭证照片无法证明送货上门，支持赔付"
DISMISS_REASON = "签收凭证清晰，确认已送货上门，驳回索赔"


def scenario_plan(ctx: DemoContext, scenario: ClaimScenario) -> Plan:
    """An order whose delivery leads, filed_days_ago days ago, to the scenario's complaint or claim."""
    spec = ctx.rng.choice(MERCHANTS)
    filed_at = ctx.now - timedelta(days=scenario.filed_days_ago) + ctx.hours(-3, 3)
    filed_at = min(filed_at, ctx.now - timedelta(minutes=30))
    plan = plan_draw(ctx, spec, filed_at - timedelta(days=4))
    plan.carrier = ctx.carriers[scenario.carrier]
    plan.wants_tier = True
    plan.scenario = scenario
    return_flow = "missed" if scenario.complaint_type == ComplaintType.RETURN_PICKUP_MISSED else None
    events = timeline(ctx, plan, method=scenario.method, return_flow=return_flow)
    # Shift the story so its last scan lands a while before the complaint.
    if not scenario.complaint_type:
        anchor = next(e.at for e in events if e.code == EventCode.DELIVERED)
        target = filed_at
    else:
        anchor = events[-1].at
        wait = ctx.hours(30, 50) if return_flow else ctx.hours(3, 20)  # a return pickup is awaited longer
        target = filed_at - wait - timedelta(days=scenario.waited_days)
    shift = target - anchor
    plan.created_at += shift
    plan.shipped_at += shift
    plan.events = [dataclasses.replace(e, at=e.at + shift) for e in events if e.at + shift <= ctx.now]
    plan.filed_at = filed_at if scenario.complaint_type else None
    return plan


def scenario_cover(ctx: DemoContext, plan: Plan) -> Plan | None:
    """The scenario's order covered by Yinzunda; if its merchant's quota refused, the next shop's.

    The refused order stays as it is: an uncovered parcel with the same scans.
    """
    if plan.covered:
        return plan
    start = next(i for i, m in enumerate(MERCHANTS) if m.code == plan.spec.code)
    for step in range(1, len(MERCHANTS)):
        spec = MERCHANTS[(start + step) % len(MERCHANTS)]
        other = dataclasses.replace(
            plan, spec=spec, merchant=ctx.merchants[spec.code], order=None, waybill=None, purchase=None
        )
        order_save(ctx, other)
        ship(ctx, [other])
        if tier_buy(ctx, other):
            plan.scenario = plan.filed_at = None
            return other
    plan.scenario = plan.filed_at = None
    return None


def scenario_play(ctx: DemoContext, plan: Plan) -> None:
    """The carrier's answer and the operator's ruling on the parcel's claim, each at its hour."""
    claim = claim_live_on_waybill(waybill_id=plan.waybill.pk)
    if claim is None:
        return  # the routing opened none (a refused complaint, tracking claims switched off)
    carrier = plan.carrier
    delivered = next(e for e in reversed(plan.events) if e.code == EventCode.DELIVERED)
    for action, hours in plan.scenario.steps:
        at = claim.opened_at + timedelta(hours=hours) + ctx.hours(0, 1)
        if action == "auto":
            at = max(at, claim.deadline_at + timedelta(minutes=5))
        if at > ctx.now:
            return
        if action == "accept":
            claim = claim_accept(claim_id=claim.pk, carrier=carrier, reason=ACCEPT_REASON, now=at)
        elif action == "auto":
            claim = claim_auto_accept(claim_id=claim.pk, now=at) or claim
        elif action == "dispute":
            evidence = ([{"type": delivered.proof_type, "url": delivered.proof_url}] if delivered.proof_url
                        else [{"type": "note", "text": DISPUTE_NOTE}])
            claim = claim_dispute(claim_id=claim.pk, carrier=carrier, reason=DISPUTE_REASON, evidence=evidence, now=at)
        else:
            uphold = action == "uphold"
            claim = claim_ruling(claim_id=claim.pk, user=ctx.admin, uphold=uphold,
                                 reason=UPHOLD_REASON if uphold else DISMISS_REASON, now=at)
