"""Demo complaints: buyers complain about some parcels; the routing service decides each one.

The picks aim at the routing's outcomes (forwarded to the merchant, refused, a claim) but only
file the complaint: what happens, and the wording the buyer reads, come from claims.routing.
"""
from __future__ import annotations

from datetime import timedelta

from carriers.choices import ComplaintType
from claims.services.complaints import complaint_file, complaint_route
from waybills.models import DROP_METHODS, EventCode

from .plans import ComplaintPlan, DemoContext, Plan

# What buyers write (their words, shown to the merchant and the carrier).
DESCRIPTIONS = {
    ComplaintType.NOT_TO_DOOR: "买了送货上门服务，快递员没有送到家门口，直接放在楼下驿站，也没打电话。",
    ComplaintType.LOCKER_WITHOUT_CONSENT: "没有经过我同意就放进了快递柜，我在外地出差取不了。",
    ComplaintType.RETURN_PICKUP_MISSED: "预约了上门取件退货，等了两天没人来取。",
    ComplaintType.STUCK_IN_TRANSIT: "包裹在转运中心好几天没有动静。",
    ComplaintType.NO_CALL: "派送前没有打电话，直接放门卫了。",
    ComplaintType.COURIER_CONDUCT: "快递员态度很差，让我自己下楼拿。",
    ComplaintType.DAMAGED: "外箱破损，里面的瓶子碎了。",
    ComplaintType.LOST: "显示已签收但是我没有收到。",
}


def complaint_picks(ctx: DemoContext, plans: list[Plan], repeat: int) -> list[ComplaintPlan]:
    """Complaints about ordinary parcels, `repeat` of each kind, plus two filed minutes ago."""
    rng = ctx.rng
    now = ctx.now
    taken: set[int] = set()
    picks: list[ComplaintPlan] = []
    shipped = [p for p in plans if p.waybill is not None and p.events and not p.scenario]
    delivered = [p for p in shipped if p.delivered()]
    recent = [p for p in delivered if p.events[-1].at > now - timedelta(days=6)]

    def pick(candidates: list[Plan], complaint_type: str, *, days_after: int = 0) -> None:
        free = [p for p in candidates if id(p) not in taken]
        if not free:
            return
        plan = rng.choice(free)
        taken.add(id(plan))
        filed = plan.events[-1].at + timedelta(days=days_after) + ctx.hours(2, 40)
        picks.append(ComplaintPlan(plan, complaint_type, min(filed, now - timedelta(minutes=20))))

    for _ in range(repeat):
        pick(recent, ComplaintType.DAMAGED)
        pick(recent, ComplaintType.COURIER_CONDUCT)
        pick([p for p in recent if any(e.note.startswith("转运中心") for e in p.events)] or recent,
             ComplaintType.STUCK_IN_TRANSIT)
        pick([p for p in recent if not p.covered and p.events[-1].method in DROP_METHODS], ComplaintType.NOT_TO_DOOR)
        pick([p for p in recent if not p.covered], ComplaintType.LOCKER_WITHOUT_CONSENT)
        pick([p for p in shipped if p.covered and not p.delivered()], ComplaintType.NOT_TO_DOOR)
        pick([p for p in delivered if p.covered and p.events[-1].code == EventCode.DELIVERED
              and p.events[-1].at < now - timedelta(days=12)], ComplaintType.NOT_TO_DOOR, days_after=8)
        pick([p for p in delivered if p.events[-1].code == EventCode.RETURN_PICKED_UP],
             ComplaintType.RETURN_PICKUP_MISSED)
    # Two just filed: the router (or its sweep) has not reached them yet.
    for minutes in (5, 12):
        free = [p for p in recent if id(p) not in taken]
        if free:
            plan = rng.choice(free)
            taken.add(id(plan))
            picks.append(ComplaintPlan(plan, ComplaintType.NOT_TO_DOOR, now - timedelta(minutes=minutes), routed=False))
    return picks


def complaints_file(ctx: DemoContext, complaints: list[ComplaintPlan]) -> None:
    """File each complaint as the buyer did, in time order, and route it a few seconds later."""
    for item in sorted(complaints, key=lambda c: c.filed_at):
        complaint = complaint_file(
            order=item.plan.order, complaint_type=item.complaint_type, description=DESCRIPTIONS[item.complaint_type],
            now=item.filed_at, rng=ctx.rng,
        )
        if item.routed:
            complaint_route(complaint_id=complaint.pk, now=item.filed_at + timedelta(seconds=ctx.rng.randint(2, 40)))
