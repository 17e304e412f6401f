"""The festival hour's parcels: what each one's scans before the hour were, what it is scanned in the
hour, and whether that breaks a promise (DESIGN §3a) — so the bench knows every claim to expect.

Each run gets its own parcels (orders, waybills, Yinzunda purchases, consents and earlier scans,
written by COPY before the hour starts) and, for the COPY baseline, a twin parcel per parcel
that receives the same rows. A parcel's scans of the hour travel in one batch of its carrier.
Every clock is hours away from its due moment, so the verdict cannot depend on how fast the
machine replays the hour.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from benchmarks._support import copy_rows
from benchmarks.festival_data import CARRIERS, LOCATIONS

RUN_SERIAL_BASE = 2_000_000_000  # run parcels' serials: RUN_SERIAL_BASE + waybill id (prefill: 1e9 + n)
PREMIUM_EVERY = 33  # ~3 % of parcels carry 音尊达 (DESIGN §1: merchants buy it for 0–3 % of orders)
H = timedelta(hours=1)
_FIRST_LEG = ["PICKED_UP", "ARRIVED_AT_HUB", "DEPARTED_HUB", "ARRIVED_AT_HUB"]
_TO_STATION = [("PICKED_UP", -30 * H), ("ARRIVED_AT_STATION", -3 * H)]
_DELIVERED_LONG_AGO = [("PICKED_UP", -100 * H), ("ARRIVED_AT_HUB", -96 * H), ("DEPARTED_HUB", -92 * H),
                       ("ARRIVED_AT_STATION", -80 * H), ("OUT_FOR_DELIVERY", -78 * H), ("DELIVERED", -77 * H)]

# name: (premium, earlier scans (code, offset from the run's start), the hour's scans, buyer consent
# to a locker drop, the breach it shows: rule or None). DELIVERED scans name their method: "DELIVERED:locker".
SCENARIOS: dict[str, tuple[bool, list, list[str], bool, str | None]] = {
    # ~97 % of parcels: no 音尊达, so no drop or late pickup of theirs is a claim.
    "first_leg": (False, [], _FIRST_LEG, False, None),
    "last_leg": (False, [("PICKED_UP", -20 * H), ("ARRIVED_AT_HUB", -16 * H), ("DEPARTED_HUB", -12 * H)],
                 ["ARRIVED_AT_STATION", "OUT_FOR_DELIVERY", "DELIVERED:door"], False, None),
    "locker_drop": (False, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:locker"], False, None),
    "station_drop": (False, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:station"], False, None),
    "return_scheduled": (False, _DELIVERED_LONG_AGO, ["RETURN_PICKUP_SCHEDULED"], False, None),
    "return_missed": (False, [*_DELIVERED_LONG_AGO, ("RETURN_PICKUP_SCHEDULED", -55 * H)], ["RETURN_PICKED_UP"],
                      False, None),
    # ~3 %: 音尊达 parcels, each promise watched.
    "premium_first_leg": (True, [], _FIRST_LEG, False, None),
    "premium_door": (True, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:door"], False, None),
    "premium_locker_drop": (True, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:locker"], False, "drop"),
    "premium_station_drop": (True, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:station"], False, "drop"),
    "premium_locker_consented": (True, _TO_STATION, ["OUT_FOR_DELIVERY", "DELIVERED:locker"], True, None),
    "premium_station_held": (True, [("PICKED_UP", -50 * H), ("ARRIVED_AT_HUB", -46 * H), ("DEPARTED_HUB", -42 * H),
                                    ("ARRIVED_AT_STATION", -30 * H)],
                             ["OUT_FOR_DELIVERY", "DELIVERED:door"], False, "station_hold"),
    "premium_return_scheduled": (True, _DELIVERED_LONG_AGO, ["RETURN_PICKUP_SCHEDULED"], False, None),
    "premium_return_missed": (True, [*_DELIVERED_LONG_AGO, ("RETURN_PICKUP_SCHEDULED", -55 * H)],
                              ["RETURN_PICKED_UP"], False, "return_pickup"),
}
# The cycles parcels are drawn from (per carrier, in order).
_PLAIN = ["first_leg"] * 3 + ["last_leg"] * 3 + ["locker_drop", "station_drop", "return_scheduled", "return_missed"]
_PREMIUM = [name for name, spec in SCENARIOS.items() if spec[0]]


@dataclass
class Parcel:
    carrier: str
    scenario: str
    waybill_id: int = 0
    twin_id: int = 0
    number: str = ""
    batch: int = -1
    events: list[dict] = field(default_factory=list)


@dataclass
class Hour:
    run: str
    parcels: list[Parcel]
    batches: list[tuple[str, list[dict]]]  # (carrier code, events)
    last: dict[str, tuple[str, datetime]]  # waybill number → latest scan (code, time)

    @property
    def events(self) -> int:
        return sum(len(events) for _, events in self.batches)

    def expected(self) -> dict[int, str]:
        """waybill id → the breach rule its claim must carry (the parcels that break a promise)."""
        return {p.waybill_id: SCENARIOS[p.scenario][4] for p in self.parcels if SCENARIOS[p.scenario][4]}

    def mix(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for parcel in self.parcels:
            counts[parcel.scenario] = counts.get(parcel.scenario, 0) + 1
        return counts


def _scenario(index: int) -> str:
    if index % PREMIUM_EVERY == 0:
        return _PREMIUM[(index // PREMIUM_EVERY) % len(_PREMIUM)]
    return _PLAIN[index % len(_PLAIN)]


def plan(*, run: str, events: int, batch_size: int, now: datetime) -> Hour:
    """The hour's parcels and batches: `events` scans over the three carriers, occurred_at spread over
    the hour ending 5 minutes before `now`, each parcel's scans in one batch of its carrier."""
    rng = random.Random(run)
    per_carrier = -(-events // len(CARRIERS))
    parcels: list[Parcel] = []
    queues: dict[str, list[list[Parcel]]] = {}
    for code, _, _ in CARRIERS:
        batches, current, size, sent, index = [], [], 0, 0, 0
        while sent < per_carrier:
            parcel = Parcel(code, _scenario(index))
            index += 1
            count = len(SCENARIOS[parcel.scenario][2])
            if size + count > batch_size:
                batches.append(current)
                current, size = [], 0
            current.append(parcel)
            parcels.append(parcel)
            size += count
            sent += count
        batches.append(current)
        queues[code] = batches
    # Carriers' batches interleaved, as their pushes arrive over the hour.
    ordered: list[tuple[str, list[Parcel]]] = []
    for k in range(max(len(b) for b in queues.values())):
        ordered += [(code, queues[code][k]) for code, _, _ in CARRIERS if k < len(queues[code])]
    start, span = now - timedelta(minutes=65), timedelta(minutes=60)
    total = sum(len(SCENARIOS[p.scenario][2]) for p in parcels)
    hour = Hour(run=run, parcels=parcels, batches=[], last={})
    serial = 0
    for number, (code, batch) in enumerate(ordered):
        events_: list[dict] = []
        for parcel in batch:
            parcel.batch = number
            for scan in SCENARIOS[parcel.scenario][2]:
                serial += 1
                code_, _, method = scan.partition(":")
                item = {"event_id": f"FH-{run}-{serial:09d}", "waybill_number": "", "code": code_,
                        "occurred_at": (start + span * serial / total).isoformat(timespec="milliseconds"),
                        "location": rng.choice(LOCATIONS)}
                if method:
                    item.update(delivery_method=method, proof_type="photo",
                                proof_url=f"https://proof.bench.example/{run}/{serial}.jpg", note="本人签收")
                parcel.events.append(item)
                events_.append(item)
        hour.batches.append((code, events_))
    return hour


def world_write(cursor, hour: Hour, *, carriers: dict, merchants: list[int], now: datetime) -> dict[str, int]:
    """COPY the run's parcels (and their twins), purchases, consents and earlier scans; fill in ids
    and numbers in `hour`. Returns rows written per table."""
    from waybills.models import EVENT_STATUS
    from waybills.numbers import format_waybill_number

    cursor.execute("SELECT coalesce(max(id), 0) FROM orders_order")
    order_id = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) FROM waybills_waybill")
    waybill_id = cursor.fetchone()[0]
    issued = now - timedelta(days=5)
    orders, waybills, purchases, consents, history = [], [], [], [], []
    serial = 0
    for n, parcel in enumerate(hour.parcels):
        premium, earlier, _, consented, _ = SCENARIOS[parcel.scenario]
        ref = carriers[parcel.carrier]
        merchant = merchants[n % len(merchants)]
        for twin in (False, True):
            order_id += 1
            waybill_id += 1
            number = format_waybill_number(ref["prefix"], RUN_SERIAL_BASE + waybill_id)
            orders.append((order_id, merchant, f"FH{hour.run}{waybill_id:010d}", "李四", f"139{waybill_id % 10**8:08d}",
                           "浙江省杭州市西湖区文三路 100 号", "99.00", issued.isoformat()))
            status, status_at, delivered_at, method = "created", None, None, ""
            if not twin:
                parcel.waybill_id, parcel.number = waybill_id, number
                for code, offset in earlier:
                    serial += 1
                    at = now + offset
                    delivered = code == "DELIVERED"
                    history.append((ref["id"], waybill_id, f"FE-{hour.run}-{serial:09d}", code, at.isoformat(),
                                    LOCATIONS[serial % len(LOCATIONS)], "door" if delivered else "",
                                    "photo" if delivered else "", "", "", at.isoformat(), "f"))
                    status, status_at = str(EVENT_STATUS[code]), at.isoformat()
                    if delivered:
                        delivered_at, method = at.isoformat(), "door"
                if premium:
                    purchases.append((order_id, merchant, ref["tariff"], "0.80", "active", issued.isoformat()))
                if consented:
                    consents.append((waybill_id, "grant", "buyer", "buyer_page", "locker", "小区北门快递柜", None, "",
                                     None, None, (now - 20 * H).isoformat()))
            else:
                parcel.twin_id = waybill_id
            waybills.append((waybill_id, number, ref["id"], order_id, "t",
                             '["SVC-WBHOMEDELIVERY"]' if premium and not twin else "[]", status, status_at, method,
                             delivered_at, issued.isoformat(), issued.isoformat(), "[]"))
    for parcel in hour.parcels:
        for item in parcel.events:
            item["waybill_number"] = parcel.number
            hour.last[parcel.number] = (item["code"], datetime.fromisoformat(item["occurred_at"]))
    written = {
        "orders_order": copy_rows(cursor, "orders_order", ["id", "merchant_id", "order_number", "recipient_name",
                                                            "recipient_phone", "recipient_address", "amount",
                                                            "created_at"], orders),
        "waybills_waybill": copy_rows(cursor, "waybills_waybill", [
            "id", "number", "carrier_id", "order_id", "is_platform_issued", "service_codes", "status", "status_at",
            "delivery_method", "delivered_at", "created_at", "updated_at", "label_service_codes"], waybills),
        "orders_yinzundapurchase": copy_rows(cursor, "orders_yinzundapurchase", [
            "order_id", "merchant_id", "tariff_id", "fee", "status", "purchased_at"], purchases),
        "waybills_deliveryconsent": copy_rows(cursor, "waybills_deliveryconsent", [
            "waybill_id", "kind", "source", "channel", "method", "place", "valid_until", "evidence", "carrier_id",
            "tracking_event_id", "recorded_at"], consents),
        "waybills_trackingevent": copy_rows(cursor, "waybills_trackingevent", [
            "carrier_id", "waybill_id", "event_id", "code", "occurred_at", "location", "delivery_method",
            "proof_type", "proof_url", "note", "received_at", "late"], history),
    }
    for table in ("orders_order", "waybills_waybill"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
    for table in ("orders_order", "waybills_waybill", "orders_yinzundapurchase", "waybills_deliveryconsent"):
        cursor.execute(f"ANALYZE {table}")  # noqa: S608 - our own table names
    return written


def world(run: str, events: int, batch_size: int, now_iso: str, out: str) -> None:
    """Child (Django set up on the bench database): plan the hour, write its world, one token per
    carrier; the plan goes to `out` as JSON for the parent."""
    import json

    import django

    django.setup()
    from django.db import connection, transaction

    from benchmarks.festival_data import reference
    from carriers.models import Carrier
    from carriers.services import carrier_token_create

    now = datetime.fromisoformat(now_iso)
    hour = plan(run=run, events=events, batch_size=batch_size, now=now)
    ref = reference(_url(connection.settings_dict))
    with transaction.atomic(), connection.cursor() as wrapper:
        written = world_write(wrapper.cursor, hour, carriers=ref["carriers"], merchants=ref["merchants"], now=now)
    tokens = {}
    for code, _, _ in CARRIERS:
        carrier = Carrier.objects.get(code=code)
        carrier.tokens.filter(name="festival").delete()
        tokens[code] = carrier_token_create(carrier=carrier, name="festival")[1]
    plan_ = {
        "tokens": tokens, "written": written, "mix": hour.mix(),
        "carrier_ids": {code: ref["carriers"][code]["id"] for code in ref["carriers"]},
        "batches": hour.batches,
        "parcels": [(p.waybill_id, p.twin_id, p.batch, p.scenario, p.number) for p in hour.parcels],
        "expected": hour.expected(),
        "last": {number: at.isoformat() for number, (_, at) in hour.last.items()},
    }
    with open(out, "w") as handle:
        json.dump(plan_, handle, ensure_ascii=False)


def _url(settings_dict: dict) -> str:
    """The Django connection's database as a URL for benchmarks._support.connect."""
    user, host = settings_dict.get("USER") or "postgres", settings_dict.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}"
