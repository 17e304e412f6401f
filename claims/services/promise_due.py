"""When the watcher must next look at a parcel: `Waybill.promise_due_at` (DESIGN §3a).

A scan re-judges its own parcel on ingest; what no scan announces is a clock running out (a
parcel left at a station, a hub, a return pickup never collected). Each time the watcher looks
at parcels it stores, per parcel, the earliest due moment of a clock still running and not yet
due: the sweep then reads only the parcels whose moment has come (a range of a partial index),
not every parcel in flight with its whole scan history.

The moment is counted from the later of the parcel's last scan and now, so a clock that was
already due when the watcher looked (and was judged then) is not looked at again, and buying
the tier, cancelling it or recording consent later is re-judged by the same refresh.
"""
from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from ..selectors.breaches import (
    PURCHASES_OF_SCOPED,
    SCOPE_IDS,
    SCOPE_SWEEP,
    SCOPED_WAYBILLS,
    TRANSIT_END_SQL,
)

# %(scope)s filters waybills_waybill aliased `wb`; the parameters are now (and ids).
_REFRESH_SQL = f"""
WITH {SCOPED_WAYBILLS}, w AS (
    SELECT wb.id AS waybill_id, t.station_hold_hours, t.hub_dwell_hours, t.transit_hours, t.return_pickup_hours
    FROM wb
    JOIN orders_yinzundapurchase p ON p.order_id = wb.order_id AND p.status = 'active'
    JOIN carriers_tariff t ON t.id = p.tariff_id
    WHERE {PURCHASES_OF_SCOPED}
), e AS MATERIALIZED (
    SELECT ev.waybill_id, ev.code, ev.occurred_at,
           row_number() OVER (PARTITION BY ev.waybill_id ORDER BY ev.occurred_at DESC, ev.id DESC) AS from_last
    FROM waybills_trackingevent ev JOIN w ON w.waybill_id = ev.waybill_id
), s AS (
    SELECT waybill_id, max(occurred_at) AS last_at,
           min(occurred_at) FILTER (WHERE code = 'ARRIVED_AT_STATION') AS station_at,
           min(occurred_at) FILTER (WHERE code = 'PICKED_UP') AS pickup_at,
           min(occurred_at) FILTER (WHERE code = 'RETURN_PICKUP_SCHEDULED') AS sched_at,
           max(occurred_at) FILTER (WHERE from_last = 1 AND code = 'ARRIVED_AT_HUB') AS hub_at
    FROM e GROUP BY waybill_id
), x AS (
    SELECT s.*,
           bool_or(e.code = 'DELIVERED' AND e.occurred_at >= s.station_at) AS station_ended,
           bool_or(e.code IN ({TRANSIT_END_SQL}) AND e.occurred_at >= s.pickup_at) AS transit_ended,
           bool_or(e.code = 'RETURN_PICKED_UP' AND e.occurred_at >= s.sched_at) AS return_ended
    FROM s JOIN e ON e.waybill_id = s.waybill_id
    GROUP BY s.waybill_id, s.last_at, s.station_at, s.pickup_at, s.sched_at, s.hub_at
), clocks AS (
    SELECT x.waybill_id, greatest(x.last_at, %(now)s::timestamptz) AS floor_at,
           CASE WHEN NOT x.station_ended THEN x.station_at + make_interval(hours => w.station_hold_hours) END AS station_due,
           CASE WHEN NOT x.transit_ended THEN x.pickup_at + make_interval(hours => w.transit_hours) END AS transit_due,
           CASE WHEN NOT x.return_ended THEN x.sched_at + make_interval(hours => w.return_pickup_hours) END AS return_due,
           x.hub_at + make_interval(hours => w.hub_dwell_hours) AS hub_due
    FROM x JOIN w ON w.waybill_id = x.waybill_id
), due AS (
    SELECT waybill_id, least(
        CASE WHEN station_due >= floor_at THEN station_due END, CASE WHEN transit_due >= floor_at THEN transit_due END,
        CASE WHEN return_due >= floor_at THEN return_due END, CASE WHEN hub_due >= floor_at THEN hub_due END
    ) AS due_at
    FROM clocks
)
UPDATE waybills_waybill target SET promise_due_at = d.due_at
FROM (SELECT wb.id, due.due_at FROM wb LEFT JOIN due ON due.waybill_id = wb.id) d
WHERE target.id = d.id AND target.promise_due_at IS DISTINCT FROM d.due_at
"""  # noqa: S608 - only our own constants are inlined; every value is a bound parameter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def promises_due_refresh(*, waybill_ids: list[int] | None, now: datetime | None) -> int:
    """Store each parcel's next due moment (None: every parcel in flight, e.g. after a migration).

    `now=None` counts from each parcel's last scan only, as the watcher would have on ingest.
    Returns how many parcels' moments changed. PostgreSQL only: elsewhere the sweep reads every
    parcel in flight and needs no moment.
    """
    if connection.vendor != "postgresql" or (waybill_ids is not None and not waybill_ids):
        return 0
    scope = SCOPE_SWEEP if waybill_ids is None else SCOPE_IDS
    params = {"now": now or _EPOCH, **({} if waybill_ids is None else {"ids": list(waybill_ids)})}
    with connection.cursor() as cursor:
        cursor.execute(_REFRESH_SQL.replace("%(scope)s", scope), params)
        return cursor.rowcount

