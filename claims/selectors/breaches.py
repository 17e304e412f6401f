"""The breaches of DESIGN §3a on Yinzunda parcels, found set-based: one SQL statement on
PostgreSQL for any number of waybills, the rule table in Python (waybills.promises) elsewhere.

Both paths give the same rows: per (waybill, promise) the earliest-due broken rule whose
complaint type the parcel's tariff pays for. `tests/claims/test_watcher_property.py` holds
the SQL to the Python rules.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from carriers.choices import RULE_COMPLAINT_TYPE, RULE_PROMISE, BreachRule
from carriers.models import TariffPayout
from orders.models import YinzundaPurchase
from waybills.models import DROP_METHODS, DeliveryConsent, TrackingEvent, Waybill
from waybills.promises import TRANSIT_END_CODES, Clocks, breaches_by_promise, promises_evaluate

# Parcels whose clocks may still run out with no new scan: the sweep looks at these only
# (a scan re-evaluates its own parcel on ingest, so delivered parcels need no sweep).
IN_FLIGHT_STATUSES = (
    Waybill.Status.PICKED_UP, Waybill.Status.IN_TRANSIT, Waybill.Status.AT_STATION,
    Waybill.Status.OUT_FOR_DELIVERY, Waybill.Status.DELIVERY_FAILED, Waybill.Status.RETURN_SCHEDULED,
)


@dataclass(frozen=True)
class Breach:
    waybill_id: int
    rule: str
    promise: str
    complaint_type: str
    source_event_id: int
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None
    end_event_id: int | None
    clock_hours: int
    method: str
    carrier_consent: bool
    tariff_id: int
    amount: Decimal


def _case(mapping: dict[str, str], column: str) -> str:
    """A constant map as a SQL CASE; the values are our own identifiers, checked before inlining."""
    pattern = re.compile(r"^[a-z_]+$")
    assert all(pattern.match(k) and pattern.match(v) for k, v in mapping.items())
    return "CASE " + column + " " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items()) + " END"


def _consent_covers(method: str, moment: str, waybill: str) -> str:
    """SQL: a buyer grant for `method` recorded by `moment`, valid then, with no buyer withdrawal after it."""
    return f"""EXISTS (
        SELECT 1 FROM waybills_deliveryconsent g
        WHERE g.waybill_id = {waybill} AND g.source = 'buyer' AND g.kind = 'grant' AND g.method = {method}
          AND g.recorded_at <= {moment} AND (g.valid_until IS NULL OR g.valid_until >= {moment})
          AND NOT EXISTS (
              SELECT 1 FROM waybills_deliveryconsent x
              WHERE x.waybill_id = g.waybill_id AND x.source = 'buyer' AND x.kind = 'withdraw'
                AND (x.recorded_at, x.id) > (g.recorded_at, g.id) AND x.recorded_at <= {moment}))"""  # noqa: S608 - column expressions of our own, no values


# The waybills in scope first (%(scope)s filters waybills_waybill aliased `wb`), then their own
# active purchases by index, one probe each: left to itself the planner hashed every purchase on
# the platform to find the few among a batch's few hundred parcels (4 of a 5 ms watcher run at
# 16,000 purchases, and growing with the platform; docs/PERFORMANCE.md).
SCOPED_WAYBILLS = """wb AS MATERIALIZED (
    SELECT wb.id, wb.carrier_id, wb.order_id FROM waybills_waybill wb WHERE %(scope)s
)"""
PURCHASES_OF_SCOPED = "p.order_id = ANY(ARRAY(SELECT order_id FROM wb))"
_DROP_METHODS_SQL = ", ".join(f"'{m}'" for m in sorted(DROP_METHODS))
TRANSIT_END_SQL = ", ".join(f"'{c}'" for c in sorted(TRANSIT_END_CODES))
_IN_FLIGHT_SQL = ", ".join(f"'{s}'" for s in IN_FLIGHT_STATUSES)

# %(scope)s is one of the two fixed filters below; the parameters are (now, scope param...).
_BREACHES_SQL = f"""
WITH {SCOPED_WAYBILLS}, w AS (
    SELECT wb.id AS waybill_id, wb.carrier_id, wb.order_id, o.merchant_id, p.tariff_id,
           t.station_hold_hours, t.hub_dwell_hours, t.transit_hours, t.return_pickup_hours
    FROM wb
    JOIN orders_yinzundapurchase p ON p.order_id = wb.order_id AND p.status = 'active'
    JOIN carriers_tariff t ON t.id = p.tariff_id
    JOIN orders_order o ON o.id = wb.order_id
    WHERE {PURCHASES_OF_SCOPED}
), e AS MATERIALIZED (
    SELECT ev.id, ev.waybill_id, ev.code, ev.occurred_at, ev.delivery_method,
           lead(ev.id) OVER win AS next_id, lead(ev.occurred_at) OVER win AS next_at
    FROM waybills_trackingevent ev JOIN w ON w.waybill_id = ev.waybill_id
    WINDOW win AS (PARTITION BY ev.waybill_id ORDER BY ev.occurred_at, ev.id)
), starts AS (
    SELECT waybill_id,
           min(occurred_at) FILTER (WHERE code = 'ARRIVED_AT_STATION') AS station_at,
           min(occurred_at) FILTER (WHERE code = 'PICKED_UP') AS pickup_at,
           min(occurred_at) FILTER (WHERE code = 'RETURN_PICKUP_SCHEDULED') AS sched_at
    FROM e
    WHERE code IN ('ARRIVED_AT_STATION', 'PICKED_UP', 'RETURN_PICKUP_SCHEDULED')
    GROUP BY waybill_id
), spans AS (
    SELECT s.waybill_id, s.station_at, s.pickup_at, s.sched_at,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code = 'ARRIVED_AT_STATION'))[1] AS station_ev,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code = 'DELIVERED' AND e.occurred_at >= s.station_at))[1] AS station_end_ev,
        min(e.occurred_at) FILTER (WHERE e.code = 'DELIVERED' AND e.occurred_at >= s.station_at) AS station_end,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code = 'PICKED_UP'))[1] AS pickup_ev,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code IN ({TRANSIT_END_SQL}) AND e.occurred_at >= s.pickup_at))[1] AS transit_end_ev,
        min(e.occurred_at) FILTER (WHERE e.code IN ({TRANSIT_END_SQL}) AND e.occurred_at >= s.pickup_at) AS transit_end,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code = 'RETURN_PICKUP_SCHEDULED'))[1] AS sched_ev,
        (array_agg(e.id ORDER BY e.occurred_at, e.id) FILTER (WHERE e.code = 'RETURN_PICKED_UP' AND e.occurred_at >= s.sched_at))[1] AS return_end_ev,
        min(e.occurred_at) FILTER (WHERE e.code = 'RETURN_PICKED_UP' AND e.occurred_at >= s.sched_at) AS return_end
    FROM starts s JOIN e ON e.waybill_id = s.waybill_id
    WHERE e.code IN ('ARRIVED_AT_STATION', 'DELIVERED', 'PICKED_UP', 'OUT_FOR_DELIVERY',
                     'RETURN_PICKUP_SCHEDULED', 'RETURN_PICKED_UP')
    GROUP BY s.waybill_id, s.station_at, s.pickup_at, s.sched_at
), rules AS (
    (SELECT DISTINCT ON (e.waybill_id) e.waybill_id, 'drop' AS rule, e.id AS start_ev, e.occurred_at AS started_at,
           e.occurred_at AS due_at, e.occurred_at AS ended_at, NULL::bigint AS end_ev, 0 AS clock_hours,
           e.delivery_method AS method
    FROM e
    WHERE e.code = 'DELIVERED' AND e.delivery_method IN ({_DROP_METHODS_SQL})
      AND NOT {_consent_covers("e.delivery_method", "e.occurred_at", "e.waybill_id")}
    ORDER BY e.waybill_id, e.occurred_at, e.id)
    UNION ALL
    (SELECT DISTINCT ON (e.waybill_id) e.waybill_id, 'hub_dwell', e.id, e.occurred_at,
           e.occurred_at + make_interval(hours => w.hub_dwell_hours), e.next_at, e.next_id, w.hub_dwell_hours, ''
    FROM e JOIN w ON w.waybill_id = e.waybill_id
    WHERE e.code = 'ARRIVED_AT_HUB'
      AND coalesce(e.next_at, %(now)s) > e.occurred_at + make_interval(hours => w.hub_dwell_hours)
    ORDER BY e.waybill_id, e.occurred_at, e.id)
    UNION ALL
    SELECT s.waybill_id, 'station_hold', s.station_ev, s.station_at,
           s.station_at + make_interval(hours => w.station_hold_hours), s.station_end, s.station_end_ev,
           w.station_hold_hours, ''
    FROM spans s JOIN w ON w.waybill_id = s.waybill_id
    WHERE s.station_at IS NOT NULL
      AND coalesce(s.station_end, %(now)s) > s.station_at + make_interval(hours => w.station_hold_hours)
      AND NOT {_consent_covers("'station'", "(s.station_at + make_interval(hours => w.station_hold_hours))", "s.waybill_id")}
    UNION ALL
    SELECT s.waybill_id, 'transit', s.pickup_ev, s.pickup_at,
           s.pickup_at + make_interval(hours => w.transit_hours), s.transit_end, s.transit_end_ev, w.transit_hours, ''
    FROM spans s JOIN w ON w.waybill_id = s.waybill_id
    WHERE s.pickup_at IS NOT NULL
      AND coalesce(s.transit_end, %(now)s) > s.pickup_at + make_interval(hours => w.transit_hours)
    UNION ALL
    SELECT s.waybill_id, 'return_pickup', s.sched_ev, s.sched_at,
           s.sched_at + make_interval(hours => w.return_pickup_hours), s.return_end, s.return_end_ev,
           w.return_pickup_hours, ''
    FROM spans s JOIN w ON w.waybill_id = s.waybill_id
    WHERE s.sched_at IS NOT NULL
      AND coalesce(s.return_end, %(now)s) > s.sched_at + make_interval(hours => w.return_pickup_hours)
), paid AS (
    SELECT DISTINCT ON (r.waybill_id, {_case(RULE_PROMISE, "r.rule")})
           r.*, {_case(RULE_PROMISE, "r.rule")} AS promise, po.complaint_type, po.amount, w.tariff_id,
           w.carrier_id, w.merchant_id, w.order_id
    FROM rules r
    JOIN w ON w.waybill_id = r.waybill_id
    JOIN carriers_tariffpayout po
      ON po.tariff_id = w.tariff_id AND po.complaint_type = {_case(RULE_COMPLAINT_TYPE, "r.rule")}
    ORDER BY r.waybill_id, {_case(RULE_PROMISE, "r.rule")}, r.due_at, r.rule COLLATE "C"
)
SELECT paid.*,
       paid.rule = 'drop' AND EXISTS (
           SELECT 1 FROM waybills_deliveryconsent c
           WHERE c.waybill_id = paid.waybill_id AND c.source = 'carrier' AND c.method = paid.method
       ) AS carrier_consent
FROM paid
"""  # noqa: S608 - only our own constants are inlined; every value is a bound parameter

SCOPE_IDS = "wb.id = ANY(%(ids)s)"
SCOPE_SWEEP = f"wb.status IN ({_IN_FLIGHT_SQL})"
_COLUMNS = (
    "waybill_id", "rule", "start_ev", "started_at", "due_at", "ended_at", "end_ev", "clock_hours", "method",
    "promise", "complaint_type", "amount", "tariff_id", "carrier_id", "merchant_id", "order_id", "carrier_consent",
)


def breaches_sql(*, waybill_ids: list[int] | None) -> tuple[str, dict]:
    """The breaches statement and its parameters (without `now`): for these waybills, or the sweep."""
    scope = SCOPE_SWEEP if waybill_ids is None else SCOPE_IDS
    sql = _BREACHES_SQL.replace("%(scope)s", scope)
    return sql, ({} if waybill_ids is None else {"ids": list(waybill_ids)})


def breaches_due_waybill_ids(*, now: datetime) -> list[int]:
    """The parcels whose next clock has run out by now (`Waybill.promise_due_at`): what the sweep judges."""
    return list(
        Waybill.objects.filter(promise_due_at__lte=now).order_by("promise_due_at").values_list("id", flat=True)
    )


def breaches_find(*, now: datetime, waybill_ids: list[int] | None = None) -> list[Breach]:
    """Every claimable breach of the given Yinzunda waybills (None: every parcel in flight)."""
    if connection.vendor != "postgresql":
        return _breaches_portable(now=now, waybill_ids=waybill_ids)
    sql, params = breaches_sql(waybill_ids=waybill_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM ({sql}) b", {**params, "now": now})  # noqa: S608
        rows = cursor.fetchall()
    return [_breach(dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def _breach(row: dict) -> Breach:
    return Breach(
        waybill_id=row["waybill_id"], rule=row["rule"], promise=row["promise"], complaint_type=row["complaint_type"],
        source_event_id=row["start_ev"], started_at=row["started_at"], due_at=row["due_at"],
        ended_at=row["ended_at"], end_event_id=row["end_ev"], clock_hours=row["clock_hours"], method=row["method"],
        carrier_consent=row["carrier_consent"], tariff_id=row["tariff_id"], amount=row["amount"],
    )


def _breaches_portable(*, now: datetime, waybill_ids: list[int] | None) -> list[Breach]:
    """The rule table in Python over the ORM: the SQLite first-run path, and the tests' reference."""
    purchases = YinzundaPurchase.objects.filter(status=YinzundaPurchase.Status.ACTIVE).select_related("tariff")
    waybills = Waybill.objects.all()
    if waybill_ids is None:
        waybills = waybills.filter(status__in=IN_FLIGHT_STATUSES)
    else:
        waybills = waybills.filter(pk__in=waybill_ids)
    by_order = {p.order_id: p for p in purchases.filter(order_id__in=waybills.values("order_id"))}
    waybill_rows = [w for w in waybills.only("id", "order_id") if w.order_id in by_order]
    ids = [w.pk for w in waybill_rows]
    events: dict[int, list] = defaultdict(list)
    for event in TrackingEvent.objects.filter(waybill_id__in=ids).only("id", "waybill_id", "code", "occurred_at", "delivery_method"):
        events[event.waybill_id].append(event)
    consents: dict[int, list] = defaultdict(list)
    for consent in DeliveryConsent.objects.filter(waybill_id__in=ids):
        consents[consent.waybill_id].append(consent)
    tariff_ids = {p.tariff_id for p in by_order.values()}
    payouts = {
        (p.tariff_id, p.complaint_type): p.amount
        for p in TariffPayout.objects.filter(Q(tariff_id__in=tariff_ids))
    }
    found = []
    for waybill in waybill_rows:
        tariff = by_order[waybill.order_id].tariff
        covered = [rule for rule in BreachRule.values if (tariff.pk, RULE_COMPLAINT_TYPE[rule]) in payouts]
        states = promises_evaluate(
            events=events[waybill.pk], consents=consents[waybill.pk], clocks=Clocks.of_tariff(tariff), now=now
        )
        for promise, state in breaches_by_promise(states, covered_rules=covered).items():
            found.append(Breach(
                waybill_id=waybill.pk, rule=state.rule, promise=promise, complaint_type=state.complaint_type,
                source_event_id=state.source_event_id, started_at=state.started_at, due_at=state.due_at,
                ended_at=state.ended_at, end_event_id=state.event_ids[1] if len(state.event_ids) > 1 else None,
                clock_hours=int(state.clock.total_seconds() // 3600), method=state.method,
                carrier_consent=state.carrier_consent, tariff_id=tariff.pk,
                amount=payouts[(tariff.pk, state.complaint_type)],
            ))
    return found

