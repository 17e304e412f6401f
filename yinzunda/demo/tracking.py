"""Demo tracking: each parcel's scans, pushed by its carrier in periodic batches through the
ingest service (which moves the waybills' status); locker and station drops of Yinzunda
parcels are then evaluated by the claims service, as the worker does after each batch."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from claims.services.watcher import promises_watch
from waybills.models import EventCode
from waybills.services.tracking import tracking_events_ingest

from .places import COMMUNITIES, SURNAMES, city_named, mobile_number
from .plans import DemoContext, EventRow, Plan

# Carriers push what they scanned twice a day (the API takes up to 1,000 scans a batch).
PUSH_EVERY = timedelta(hours=12)
BATCH_LIMIT = 1000
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def timeline(
    ctx: DemoContext, plan: Plan, *, method: str, delay_days: int = 0, failed_first: bool = False,
    refused: bool = False, return_flow: str | None = None,
) -> list[EventRow]:
    """A parcel's whole story of scans, from pickup to delivery and maybe a return."""
    rng = ctx.rng
    origin = city_named(plan.spec.city)
    dest = plan.city
    courier = rng.choice(SURNAMES) + "师傅"
    mobile = mobile_number(rng)
    rows = []
    t = plan.shipped_at + ctx.hours(1, 8)
    rows.append(EventRow(EventCode.PICKED_UP, t, f"{origin.name}{origin.districts[0]}揽收网点"))
    hubs = [origin.hub] if origin.hub == dest.hub else [origin.hub, dest.hub]
    delayed_hub = rng.randrange(len(hubs)) if delay_days else -1
    for index, hub in enumerate(hubs):
        t += ctx.hours(3, 8) if index == 0 else ctx.hours(8, 30)
        rows.append(EventRow(EventCode.ARRIVED_AT_HUB, t, hub))
        t += ctx.hours(1, 4)
        note = ""
        if index == delayed_hub:
            t += timedelta(days=delay_days) + ctx.hours(0, 10)
            note = "转运中心爆仓，包裹滞留后已发出"
        rows.append(EventRow(EventCode.DEPARTED_HUB, t, hub, note=note))
    station = f"{dest.name}{plan.district}{rng.choice(COMMUNITIES)}营业部"
    t += ctx.hours(3, 10)
    rows.append(EventRow(EventCode.ARRIVED_AT_STATION, t, station))
    t += ctx.hours(1, 6)
    rows.append(EventRow(EventCode.OUT_FOR_DELIVERY, t, station, note=f"快递员 {courier}（{mobile}）正在派送"))
    if failed_first or refused:
        t += ctx.hours(1, 4)
        note = rng.choice(["电话无人接听，改日派送", "收件人不在家，已约次日派送", "地址不详，已联系收件人"])
        rows.append(EventRow(EventCode.DELIVERY_FAILED, t, plan.address[:60], note=note))
        t += ctx.hours(16, 26)
        rows.append(EventRow(EventCode.OUT_FOR_DELIVERY, t, station, note=f"快递员 {courier}（{mobile}）再次派送"))
    if refused:
        t += ctx.hours(24, 72)
        rows.append(EventRow(EventCode.RETURNED_TO_SENDER, t, origin.hub, note="收件人拒收，已退回寄件人"))
        return rows
    t += ctx.hours(1, 4)
    rows.append(_delivery(ctx, plan, t, method, station))
    if return_flow:
        t += ctx.hours(20, 60)
        rows.append(EventRow(EventCode.RETURN_PICKUP_SCHEDULED, t, station, note="买家申请退货，已预约上门取件"))
        if return_flow == "picked":
            t += ctx.hours(6, 30)
            rows.append(EventRow(EventCode.RETURN_PICKED_UP, t, plan.address[:60], note=f"快递员 {courier} 已上门取件"))
    return rows


def _delivery(ctx: DemoContext, plan: Plan, at: datetime, method: str, station: str) -> EventRow:
    rng = ctx.rng
    carrier_host = plan.carrier.code.lower()
    proof_type = proof_url = ""
    if method == "door":
        note = "已送货上门，本人签收"
        if rng.random() < 0.7:
            proof_type = "photo"
            proof_url = f"https://proof.{carrier_host}.example/pod/{rng.randrange(16**12):012x}.jpg"
    elif method == "locker":
        note = f"已放入{plan.city.name}{rng.choice(COMMUNITIES)}丰巢快递柜，取件码 {rng.randint(100000, 999999)}"
    elif method == "station":
        note = f"已放至{station.removesuffix('营业部')}菜鸟驿站，请凭取件码领取"
    elif method == "reception":
        note = "已由门卫/前台代收"
        proof_type = "signature"
        proof_url = f"https://proof.{carrier_host}.example/sign/{rng.randrange(16**12):012x}.png"
    else:
        note = "收件人已到网点自提"
    return EventRow(EventCode.DELIVERED, at, plan.address[:60] if method in {"door", "reception"} else station,
                    method=method, proof_type=proof_type, proof_url=proof_url, note=note)


def random_timeline(ctx: DemoContext, plan: Plan) -> list[EventRow]:
    """What has happened to a shipped parcel so far."""
    rng = ctx.rng
    roll = rng.random()
    method = ("door" if roll < 0.55 else "locker" if roll < 0.73 else "station" if roll < 0.88
              else "reception" if roll < 0.95 else "self_pickup")
    if plan.covered:  # the carrier mostly keeps the promise it is paid for
        method = "door" if rng.random() < 0.93 else "reception"
    delay = rng.randint(2, 5) if rng.random() < 0.08 else 0
    refused = rng.random() < 0.01
    failed = rng.random() < 0.08
    return_roll = rng.random()
    return_flow = "picked" if return_roll < 0.04 else "missed" if return_roll < 0.055 else None
    rows = timeline(ctx, plan, method=method, delay_days=delay, failed_first=failed, refused=refused,
                    return_flow=return_flow)
    return [r for r in rows if r.at <= ctx.now]


def tracking_push(ctx: DemoContext, plans: list[Plan]) -> None:
    """Every scan through the ingest service, batch by batch in time order, then the claim check."""
    batches: dict[tuple[datetime, str], list[dict]] = defaultdict(list)
    for plan in plans:
        if plan.waybill is None:
            continue
        code = plan.carrier.code
        for row in plan.events:
            serial = ctx.event_serial[code] = ctx.event_serial.get(code, 0) + 1
            batches[(min(_push_time(row.at), ctx.now), code)].append({
                "event_id": f"{code}-EV{serial:09d}", "waybill_number": plan.waybill.number, "code": row.code,
                "occurred_at": row.at.isoformat(), "location": row.location, "delivery_method": row.method,
                "proof_type": row.proof_type, "proof_url": row.proof_url, "note": row.note,
            })
    for (received_at, code), events in sorted(batches.items()):
        for start in range(0, len(events), BATCH_LIMIT):
            result = tracking_events_ingest(
                carrier=ctx.carriers[code], events=events[start:start + BATCH_LIMIT], now=received_at
            )
            if result.rejected:
                raise RuntimeError(f"the demo's scans were refused: {result.rejected[0].as_dict()}")
            promises_watch(waybill_ids=result.watch_waybill_ids, now=received_at)


def _push_time(at: datetime) -> datetime:
    """The end of the push period the scan falls in."""
    periods = (at - _EPOCH) // PUSH_EVERY + 1
    return _EPOCH + periods * PUSH_EVERY
