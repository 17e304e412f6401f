"""Writes on waybills: issuing platform e-waybill numbers and ingesting carrier tracking events."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from carriers.models import Carrier
from claims.routing import BREACH_METHODS
from orders.models import Order

from .models import DeliveryMethod, EventCode, ProofType, TrackingEvent, Waybill, WaybillSequence
from .numbers import format_waybill_number, validate_waybill_number


@transaction.atomic
def waybill_numbers_allocate(*, carrier: Carrier, count: int = 1) -> list[str]:
    """Reserve `count` consecutive serials; the sequence row lock makes concurrent issue safe."""
    WaybillSequence.objects.get_or_create(carrier=carrier)
    sequence = WaybillSequence.objects.select_for_update().get(carrier=carrier)
    first = sequence.next_serial
    sequence.next_serial = first + count
    sequence.save(update_fields=["next_serial"])
    return [format_waybill_number(carrier.waybill_prefix, serial) for serial in range(first, first + count)]


@transaction.atomic
def waybill_issue(*, carrier: Carrier, order: Order, service_codes: list[str] | None = None) -> Waybill:
    (number,) = waybill_numbers_allocate(carrier=carrier, count=1)
    return Waybill.objects.create(
        number=number, carrier=carrier, order=order, is_platform_issued=True, service_codes=service_codes or []
    )


# ---------------------------------------------------------------------------------------
# Tracking event ingestion (carrier API, DESIGN §3.3 and §6)
# ---------------------------------------------------------------------------------------

# The one map from a carrier scan to the waybill's current status.
EVENT_STATUS: dict[str, str] = {
    EventCode.PICKED_UP: Waybill.Status.PICKED_UP,
    EventCode.ARRIVED_AT_HUB: Waybill.Status.IN_TRANSIT,
    EventCode.DEPARTED_HUB: Waybill.Status.IN_TRANSIT,
    EventCode.ARRIVED_AT_STATION: Waybill.Status.AT_STATION,
    EventCode.OUT_FOR_DELIVERY: Waybill.Status.OUT_FOR_DELIVERY,
    EventCode.DELIVERED: Waybill.Status.DELIVERED,
    EventCode.DELIVERY_FAILED: Waybill.Status.DELIVERY_FAILED,
    EventCode.RETURNED_TO_SENDER: Waybill.Status.RETURNED,
    EventCode.RETURN_PICKUP_SCHEDULED: Waybill.Status.RETURN_SCHEDULED,
    EventCode.RETURN_PICKED_UP: Waybill.Status.RETURN_PICKED_UP,
}

MAX_EVENTS_PER_BATCH = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)  # carrier clocks drift a little
MAX_UTC_OFFSET = timedelta(hours=14)
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
EVENT_ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")  # visible ASCII, as carriers' ids are
_FIELD_LIMITS = {"location": 200, "note": 500, "proof_url": 500}
_URL_VALIDATOR = URLValidator(schemes=["https"])
_CODES = frozenset(EventCode.values)
_METHODS = frozenset(DeliveryMethod.values)
_PROOF_TYPES = frozenset(ProofType.values)


@dataclass
class EventRejection:
    index: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "code": self.code, "error": self.message}


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[EventRejection] = field(default_factory=list)
    claim_candidate_ids: list[int] = field(default_factory=list)  # new DELIVERED locker/station events

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
        }


class _Reject(Exception):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


def _text(raw: dict, name: str, *, required: bool = False, limit: int | None = None) -> str:
    """A string field: not null when required, no NUL, valid Unicode, within its limit."""
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise _Reject(name, "required", gettext("该字段必填。"))
        return ""
    if not isinstance(value, str):
        raise _Reject(name, "invalid_type", gettext("应为字符串。"))
    if "\x00" in value:
        raise _Reject(name, "null_character", gettext("不能包含 NUL 字符。"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Reject(name, "invalid_unicode", gettext("包含无效的 Unicode 字符。")) from None
    if limit is not None and len(value) > limit:
        raise _Reject(name, "max_length", gettext("不能超过 %(n)d 个字符。") % {"n": limit})
    return value


def _occurred_at(value: str, latest: datetime) -> datetime:
    """An aware moment, in UTC, not after `latest` (now plus the clock-skew tolerance)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Reject("occurred_at", "invalid_datetime", gettext("应为带时区偏移的 ISO 8601 时间。")) from None
    offset = moment.utcoffset()
    if offset is None:
        raise _Reject("occurred_at", "naive_datetime", gettext("时间必须带时区偏移，例如 +08:00。"))
    if abs(offset) > MAX_UTC_OFFSET:  # PostgreSQL refuses such offsets; no real zone has one
        raise _Reject("occurred_at", "invalid_offset", gettext("时区偏移超出范围（±14:00）。"))
    if moment < EARLIEST_EVENT:
        raise _Reject("occurred_at", "too_old", gettext("发生时间过早。"))
    moment = moment.astimezone(UTC)
    if moment > latest:
        raise _Reject("occurred_at", "future_datetime", gettext("发生时间不能晚于当前时间。"))
    return moment


_OPTIONAL = ("location", "delivery_method", "proof_type", "proof_url", "note")


def _event_clean(raw, now: datetime, numbers: dict[str, str]) -> dict:
    """One event, validated; raises _Reject naming the first bad field.

    The common case (every field a clean string) is checked in one pass over the joined
    strings; only an event that fails it goes through the field-by-field path that says why.
    `numbers` caches validated waybill numbers within a batch (a parcel has several scans).
    """
    if not isinstance(raw, dict):
        raise _Reject("", "invalid_type", gettext("每个事件应为 JSON 对象。"))
    get = raw.get
    event_id, number, code, occurred = get("event_id"), get("waybill_number"), get("code"), get("occurred_at")
    location, method, proof_type, proof_url, note = (get(name, "") for name in _OPTIONAL)
    if not (
        type(event_id) is str and type(number) is str and type(code) is str and type(occurred) is str
        and type(location) is str and type(method) is str and type(proof_type) is str
        and type(proof_url) is str and type(note) is str
    ):
        return _event_clean_slow(raw, now)  # nulls, numbers, lists...: the slow path says which
    joined = event_id + number + code + occurred + location + method + proof_type + proof_url + note
    if "\x00" in joined or not (joined.isascii() or _utf8_ok(joined)):
        return _event_clean_slow(raw, now)
    if not (
        0 < len(event_id) <= 64 and 0 < len(number) <= 32 and 0 < len(code) <= 32 and 0 < len(occurred) <= 40
        and len(location) <= 200 and len(method) <= 16 and len(proof_type) <= 16 and len(proof_url) <= 500
        and len(note) <= 500
    ):
        return _event_clean_slow(raw, now)
    if not EVENT_ID_RE.match(event_id):
        raise _Reject("event_id", "invalid", gettext("事件编号只能包含可见 ASCII 字符（1–64 个）。"))
    normal = numbers.get(number)
    if normal is None:
        normal = numbers[number] = _waybill_number_clean(number)
    if code not in _CODES:
        raise _Reject("code", "unknown_code", gettext("未知的事件代码。"))
    occurred_at = _occurred_at(occurred, now + FUTURE_TOLERANCE)
    _method_check(code, method)
    _proof_check(proof_type, proof_url)
    return {
        "event_id": event_id, "waybill_number": normal, "code": code, "occurred_at": occurred_at,
        "location": location, "delivery_method": method, "proof_type": proof_type, "proof_url": proof_url,
        "note": note,
    }


def _utf8_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _waybill_number_clean(number: str) -> str:
    try:
        return validate_waybill_number(number)
    except ValidationError as exc:
        raise _Reject("waybill_number", exc.code or "invalid", str(exc.messages[0])) from None


def _method_check(code: str, method: str) -> None:
    if code == EventCode.DELIVERED:
        if not method:
            raise _Reject("delivery_method", "required", gettext("DELIVERED 事件必须提供签收方式。"))
        if method not in _METHODS:
            raise _Reject("delivery_method", "unknown_code", gettext("未知的签收方式。"))
    elif method:
        raise _Reject("delivery_method", "not_allowed", gettext("只有 DELIVERED 事件可以提供签收方式。"))


def _proof_check(proof_type: str, proof_url: str) -> None:
    if proof_type and proof_type not in _PROOF_TYPES:
        raise _Reject("proof_type", "unknown_code", gettext("未知的凭证类型。"))
    if proof_url:
        if not proof_url.startswith("https://"):
            raise _Reject("proof_url", "invalid_url", gettext("应为 https 链接。"))
        try:
            _URL_VALIDATOR(proof_url)
        except ValidationError:
            raise _Reject("proof_url", "invalid_url", gettext("应为 https 链接。")) from None


def _event_clean_slow(raw: dict, now: datetime) -> dict:
    event_id = _text(raw, "event_id", required=True, limit=64)
    if not EVENT_ID_RE.match(event_id):
        raise _Reject("event_id", "invalid", gettext("事件编号只能包含可见 ASCII 字符（1–64 个）。"))
    number = _waybill_number_clean(_text(raw, "waybill_number", required=True, limit=32))
    code = _text(raw, "code", required=True, limit=32)
    if code not in _CODES:
        raise _Reject("code", "unknown_code", gettext("未知的事件代码。"))
    occurred_at = _occurred_at(_text(raw, "occurred_at", required=True, limit=40), now + FUTURE_TOLERANCE)
    method = _text(raw, "delivery_method", limit=16)
    _method_check(code, method)
    proof_type = _text(raw, "proof_type", limit=16)
    proof_url = _text(raw, "proof_url", limit=_FIELD_LIMITS["proof_url"])
    _proof_check(proof_type, proof_url)
    return {
        "event_id": event_id, "waybill_number": number, "code": code, "occurred_at": occurred_at,
        "location": _text(raw, "location", limit=_FIELD_LIMITS["location"]), "delivery_method": method,
        "proof_type": proof_type, "proof_url": proof_url, "note": _text(raw, "note", limit=_FIELD_LIMITS["note"]),
    }


def tracking_events_ingest(*, carrier: Carrier, events: list, now: datetime | None = None) -> IngestResult:
    """Store a batch of scan events: each validated alone, duplicates ignored, set-based writes.

    A fixed number of statements per batch whatever its size: one locking lookup of the
    carrier's waybills, one INSERT ... ON CONFLICT DO NOTHING, one UPDATE of the waybills'
    current status. The status follows the latest `occurred_at`, not the latest arrival.
    """
    now = now or timezone.now()
    result = IngestResult()
    cleaned: list[tuple[int, dict]] = []
    seen: set[str] = set()
    numbers: dict[str, str] = {}
    for index, raw in enumerate(events):
        try:
            event = _event_clean(raw, now, numbers)
        except _Reject as exc:
            result.rejected.append(EventRejection(index, exc.field, exc.code, exc.message))
            continue
        if event["event_id"] in seen:  # repeated inside the batch: the first one counts
            result.duplicates += 1
            continue
        seen.add(event["event_id"])
        cleaned.append((index, event))
    if not cleaned:
        return result

    with transaction.atomic():
        waybill_ids = _waybills_lock(carrier=carrier, numbers={e["waybill_number"] for _, e in cleaned})
        rows: list[dict] = []
        for index, event in cleaned:
            waybill_id = waybill_ids.get(event["waybill_number"])
            if waybill_id is None:
                # Unknown and other carriers' waybills look the same: nothing leaks.
                result.rejected.append(
                    EventRejection(index, "waybill_number", "unknown_waybill", gettext("面单号不存在。"))
                )
                continue
            event["waybill_id"] = waybill_id
            rows.append(event)
        if rows:
            inserted, candidates = _events_store(carrier=carrier, rows=rows, now=now)
            result.accepted = inserted
            result.duplicates += len(rows) - inserted
            result.claim_candidate_ids = candidates
            if candidates:
                transaction.on_commit(partial(_tracking_evaluate_enqueue, candidates), robust=True)
    result.rejected.sort(key=lambda r: r.index)
    return result


def _tracking_evaluate_enqueue(event_ids: list[int]) -> None:
    # Robust on_commit: events are stored even if the broker is down; the claims sweep catches up.
    from claims.tasks import tracking_evaluate

    tracking_evaluate.delay(event_ids)


def _waybills_lock(*, carrier: Carrier, numbers: set[str]) -> dict[str, int]:
    """The carrier's waybills among `numbers`, locked in id order so concurrent batches never deadlock."""
    rows = (
        Waybill.objects.filter(carrier=carrier, number__in=numbers)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("number", "pk")
    )
    return dict(rows)


def _sql_status_case() -> str:
    """EVENT_STATUS as a SQL CASE; the values are our own constants, checked before inlining."""
    pattern = re.compile(r"^[A-Za-z_]+$")
    assert all(pattern.match(k) and pattern.match(v) for k, v in EVENT_STATUS.items())
    whens = " ".join(f"WHEN '{code}' THEN '{status}'" for code, status in EVENT_STATUS.items())
    return f"CASE l.code {whens} END"


# One statement: insert the new events (duplicates skipped by the unique constraint), then move
# each touched waybill to its latest event's status, if that is later than the status it has.
_STORE_SQL = f"""
WITH ins AS (
    INSERT INTO waybills_trackingevent
        (carrier_id, waybill_id, event_id, code, occurred_at, location, delivery_method,
         proof_type, proof_url, note, received_at)
    SELECT %s, u.waybill_id, u.event_id, u.code, u.occurred_at, u.location, u.delivery_method,
           u.proof_type, u.proof_url, u.note, %s
    FROM jsonb_to_recordset(%s::jsonb)
         AS u(waybill_id bigint, event_id text, code text, occurred_at timestamptz, location text,
              delivery_method text, proof_type text, proof_url text, note text)
    ON CONFLICT (carrier_id, event_id) DO NOTHING
    RETURNING id, waybill_id, code, occurred_at, delivery_method
), latest AS (
    SELECT DISTINCT ON (waybill_id) waybill_id, code, occurred_at
    FROM ins ORDER BY waybill_id, occurred_at DESC, id DESC
), delivered AS (
    SELECT DISTINCT ON (waybill_id) waybill_id, occurred_at, delivery_method
    FROM ins WHERE code = 'DELIVERED' ORDER BY waybill_id, occurred_at DESC, id DESC
), v AS (
    SELECT l.waybill_id AS id, {_sql_status_case()} AS status, l.occurred_at AS status_at,
           d.occurred_at AS delivered_at, d.delivery_method
    FROM latest l LEFT JOIN delivered d USING (waybill_id)
), moved AS (
    UPDATE waybills_waybill AS w SET
        status = CASE WHEN w.status_at IS NULL OR w.status_at < v.status_at THEN v.status ELSE w.status END,
        status_at = GREATEST(w.status_at, v.status_at),
        delivery_method = CASE WHEN v.delivered_at IS NOT NULL AND (w.delivered_at IS NULL OR w.delivered_at < v.delivered_at)
                               THEN v.delivery_method ELSE w.delivery_method END,
        delivered_at = CASE WHEN v.delivered_at IS NOT NULL AND (w.delivered_at IS NULL OR w.delivered_at < v.delivered_at)
                            THEN v.delivered_at ELSE w.delivered_at END
    FROM v
    WHERE w.id = v.id
      AND (w.status_at IS NULL OR w.status_at < v.status_at
           OR (v.delivered_at IS NOT NULL AND (w.delivered_at IS NULL OR w.delivered_at < v.delivered_at)))
    RETURNING w.id
)
SELECT count(*),
       coalesce(array_agg(id ORDER BY id) FILTER (
           WHERE code = 'DELIVERED' AND delivery_method IN ('locker', 'station')), '{{}}')
FROM ins
"""  # noqa: S608 - the only interpolation is the CASE built from EVENT_STATUS constants
_COLUMNS = ("waybill_id", "event_id", "code", "occurred_at", "location", "delivery_method",
            "proof_type", "proof_url", "note")


def _events_store(*, carrier: Carrier, rows: list[dict], now: datetime) -> tuple[int, list[int]]:
    """Store new rows and move their waybills' status; returns (inserted, claim candidate ids)."""
    if connection.vendor == "postgresql":
        # The rows travel as one JSON document: far cheaper for PostgreSQL to parse than
        # thousands of array literals, and still a single bound parameter.
        document = json.dumps(
            [{**{c: row[c] for c in _COLUMNS}, "occurred_at": row["occurred_at"].isoformat()} for row in rows],
            ensure_ascii=False,
        )
        with connection.cursor() as cursor:
            cursor.execute(_STORE_SQL, [carrier.pk, now, document])
            inserted, candidates = cursor.fetchone()
        return inserted, list(candidates)
    return _events_store_portable(carrier=carrier, rows=rows, now=now)


def _events_store_portable(*, carrier: Carrier, rows: list[dict], now: datetime) -> tuple[int, list[int]]:
    """The SQLite first-run setup: same result, more statements."""
    ids = [row["event_id"] for row in rows]
    existing = set(TrackingEvent.objects.filter(carrier=carrier, event_id__in=ids).values_list("event_id", flat=True))
    new_rows = [row for row in rows if row["event_id"] not in existing]
    TrackingEvent.objects.bulk_create(
        [TrackingEvent(carrier=carrier, received_at=now, **{c: row[c] for c in _COLUMNS}) for row in new_rows],
        ignore_conflicts=True,
    )
    pks = dict(
        TrackingEvent.objects.filter(carrier=carrier, event_id__in=[r["event_id"] for r in new_rows])
        .values_list("event_id", "pk")
    )
    latest: dict[int, dict] = {}
    delivered: dict[int, dict] = {}
    for row in new_rows:
        wid = row["waybill_id"]
        if wid not in latest or row["occurred_at"] > latest[wid]["occurred_at"]:
            latest[wid] = row
        if row["code"] == EventCode.DELIVERED and (wid not in delivered or row["occurred_at"] > delivered[wid]["occurred_at"]):
            delivered[wid] = row
    for wid, row in latest.items():
        at = row["occurred_at"]
        Waybill.objects.filter(Q(status_at__isnull=True) | Q(status_at__lt=at), pk=wid).update(
            status=EVENT_STATUS[row["code"]], status_at=at
        )
    for wid, row in delivered.items():
        at = row["occurred_at"]
        Waybill.objects.filter(Q(delivered_at__isnull=True) | Q(delivered_at__lt=at), pk=wid).update(
            delivered_at=at, delivery_method=row["delivery_method"]
        )
    # Locker/station deliveries may open a claim without any complaint (DESIGN §3.5).
    candidates = sorted(
        pks[r["event_id"]] for r in new_rows
        if r["code"] == EventCode.DELIVERED and r["delivery_method"] in BREACH_METHODS
    )
    return len(pks), candidates
