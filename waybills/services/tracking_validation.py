"""Validation of one carrier scan event: every field checked, the first bad one named."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext

from yinzunda.timestamps import TimestampInvalid, parse_aware_datetime

from ..models import DeliveryMethod, EventCode, ProofType
from ..numbers import validate_waybill_number

MAX_EVENTS_PER_BATCH = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)  # carrier clocks drift a little
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
EVENT_ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")  # visible ASCII, as carriers' ids are
_FIELD_LIMITS = {"location": 200, "note": 500, "proof_url": 500, "consent_evidence": 500}
# A carrier may say the buyer consented to the drop this scan records (DESIGN §3a): evidence only.
_CONSENT_METHODS = frozenset({DeliveryMethod.LOCKER, DeliveryMethod.STATION, DeliveryMethod.RECEPTION})
_URL_VALIDATOR = URLValidator(schemes=["https"])
# What carriers send (https, a plain DNS name, a printable ASCII path) in ~1 µs instead of
# URLValidator's ~10 µs: a strict subset of what URLValidator accepts, so anything else (IDN hosts,
# IP literals, user info, long hosts) still goes through it.
_URL_PLAIN = re.compile(
    r"https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::[0-9]{1,5})?(?:/[!-~]*)?\Z", re.IGNORECASE
)
_URL_PLAIN_MAX = len("https://") + 253  # URLValidator's host limit, kept by bounding the whole URL
_CODES = frozenset(EventCode.values)
_METHODS = frozenset(DeliveryMethod.values)
_PROOF_TYPES = frozenset(ProofType.values)


class EventInvalid(Exception):
    """One event of a batch is refused; `field` and `code` name why."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


def _text(raw: dict, name: str, *, required: bool = False, limit: int | None = None) -> str:
    """A string field: not null when required, no NUL, valid Unicode, within its limit."""
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise EventInvalid(name, "required", gettext("该字段必填。"))
        return ""
    if not isinstance(value, str):
        raise EventInvalid(name, "invalid_type", gettext("应为字符串。"))
    if "\x00" in value:
        raise EventInvalid(name, "null_character", gettext("不能包含 NUL 字符。"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventInvalid(name, "invalid_unicode", gettext("包含无效的 Unicode 字符。")) from None
    if limit is not None and len(value) > limit:
        raise EventInvalid(name, "max_length", gettext("不能超过 %(n)d 个字符。") % {"n": limit})
    return value


def _occurred_at(value: str, latest: datetime) -> datetime:
    """An aware moment, in UTC, not after `latest` (now plus the clock-skew tolerance)."""
    try:
        moment = parse_aware_datetime(value)
    except TimestampInvalid as exc:
        raise EventInvalid("occurred_at", exc.code, exc.message) from None
    if moment < EARLIEST_EVENT:
        raise EventInvalid("occurred_at", "too_old", gettext("发生时间过早。"))
    if moment > latest:
        raise EventInvalid("occurred_at", "future_datetime", gettext("发生时间不能晚于当前时间。"))
    return moment


_OPTIONAL = ("location", "delivery_method", "proof_type", "proof_url", "note", "consent_evidence")


def event_clean(raw, now: datetime, numbers: dict[str, str]) -> dict:
    """One event, validated; raises EventInvalid naming the first bad field.

    The common case (every field a clean string) is checked in one pass over the joined
    strings; only an event that fails it goes through the field-by-field path that says why.
    `numbers` caches validated waybill numbers within a batch (a parcel has several scans).
    """
    if not isinstance(raw, dict):
        raise EventInvalid("", "invalid_type", gettext("每个事件应为 JSON 对象。"))
    get = raw.get
    event_id, number, code, occurred = get("event_id"), get("waybill_number"), get("code"), get("occurred_at")
    location, method, proof_type, proof_url, note, consent = (get(name, "") for name in _OPTIONAL)
    if not (
        type(event_id) is str and type(number) is str and type(code) is str and type(occurred) is str
        and type(location) is str and type(method) is str and type(proof_type) is str
        and type(proof_url) is str and type(note) is str and type(consent) is str
    ):
        return _event_clean_slow(raw, now)  # nulls, numbers, lists...: the slow path says which
    joined = event_id + number + code + occurred + location + method + proof_type + proof_url + note + consent
    if "\x00" in joined or not (joined.isascii() or _utf8_ok(joined)):
        return _event_clean_slow(raw, now)
    if not (
        0 < len(event_id) <= 64 and 0 < len(number) <= 32 and 0 < len(code) <= 32 and 0 < len(occurred) <= 40
        and len(location) <= 200 and len(method) <= 16 and len(proof_type) <= 16 and len(proof_url) <= 500
        and len(note) <= 500 and len(consent) <= 500
    ):
        return _event_clean_slow(raw, now)
    if not EVENT_ID_RE.match(event_id):
        raise EventInvalid("event_id", "invalid", gettext("事件编号只能包含可见 ASCII 字符（1–64 个）。"))
    normal = numbers.get(number)
    if normal is None:
        normal = numbers[number] = _waybill_number_clean(number)
    if code not in _CODES:
        raise EventInvalid("code", "unknown_code", gettext("未知的事件代码。"))
    occurred_at = _occurred_at(occurred, now + FUTURE_TOLERANCE)
    _method_check(code, method)
    _proof_check(proof_type, proof_url)
    _consent_check(method, consent)
    return {
        "event_id": event_id, "waybill_number": normal, "code": code, "occurred_at": occurred_at,
        "location": location, "delivery_method": method, "proof_type": proof_type, "proof_url": proof_url,
        "note": note, "consent_evidence": consent,
    }


def _consent_check(method: str, consent: str) -> None:
    if consent and method not in _CONSENT_METHODS:
        raise EventInvalid(
            "consent_evidence", "not_allowed",
            gettext("只有放至快递柜、驿站或前台代收的 DELIVERED 事件可以附带买家同意凭证。"),
        )


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
        raise EventInvalid("waybill_number", exc.code or "invalid", str(exc.messages[0])) from None


def _method_check(code: str, method: str) -> None:
    if code == EventCode.DELIVERED:
        if not method:
            raise EventInvalid("delivery_method", "required", gettext("DELIVERED 事件必须提供签收方式。"))
        if method not in _METHODS:
            raise EventInvalid("delivery_method", "unknown_code", gettext("未知的签收方式。"))
    elif method:
        raise EventInvalid("delivery_method", "not_allowed", gettext("只有 DELIVERED 事件可以提供签收方式。"))


def _proof_check(proof_type: str, proof_url: str) -> None:
    if proof_type and proof_type not in _PROOF_TYPES:
        raise EventInvalid("proof_type", "unknown_code", gettext("未知的凭证类型。"))
    if proof_url:
        if not proof_url.startswith("https://"):
            raise EventInvalid("proof_url", "invalid_url", gettext("应为 https 链接。"))
        if len(proof_url) <= _URL_PLAIN_MAX and _URL_PLAIN.match(proof_url):
            return
        try:
            _URL_VALIDATOR(proof_url)
        except ValidationError:
            raise EventInvalid("proof_url", "invalid_url", gettext("应为 https 链接。")) from None


def _event_clean_slow(raw: dict, now: datetime) -> dict:
    event_id = _text(raw, "event_id", required=True, limit=64)
    if not EVENT_ID_RE.match(event_id):
        raise EventInvalid("event_id", "invalid", gettext("事件编号只能包含可见 ASCII 字符（1–64 个）。"))
    number = _waybill_number_clean(_text(raw, "waybill_number", required=True, limit=32))
    code = _text(raw, "code", required=True, limit=32)
    if code not in _CODES:
        raise EventInvalid("code", "unknown_code", gettext("未知的事件代码。"))
    occurred_at = _occurred_at(_text(raw, "occurred_at", required=True, limit=40), now + FUTURE_TOLERANCE)
    method = _text(raw, "delivery_method", limit=16)
    _method_check(code, method)
    proof_type = _text(raw, "proof_type", limit=16)
    proof_url = _text(raw, "proof_url", limit=_FIELD_LIMITS["proof_url"])
    _proof_check(proof_type, proof_url)
    consent = _text(raw, "consent_evidence", limit=_FIELD_LIMITS["consent_evidence"])
    _consent_check(method, consent)
    return {
        "event_id": event_id, "waybill_number": number, "code": code, "occurred_at": occurred_at,
        "location": _text(raw, "location", limit=_FIELD_LIMITS["location"]), "delivery_method": method,
        "proof_type": proof_type, "proof_url": proof_url, "note": _text(raw, "note", limit=_FIELD_LIMITS["note"]),
        "consent_evidence": consent,
    }
