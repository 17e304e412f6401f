"""The one parser of ISO 8601 timestamps with an offset, as carriers send them (scans, filters, cursors)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext

MAX_UTC_OFFSET = timedelta(hours=14)  # PostgreSQL refuses larger offsets; no real zone has one
_SPACED_OFFSET = re.compile(r" \d\d:?\d\d$")  # an unencoded "+08:00" in a query string arrives as " 08:00"


class TimestampInvalid(ValueError):
    """`code` is machine-readable (invalid_datetime, naive_datetime, invalid_offset, out_of_range)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_aware_datetime(value: str) -> datetime:
    """An aware moment in UTC, or `TimestampInvalid` saying why not."""
    if _SPACED_OFFSET.search(value):
        value = value[: value.rindex(" ")] + "+" + value[value.rindex(" ") + 1 :]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TimestampInvalid("invalid_datetime", gettext("应为带时区偏移的 ISO 8601 时间。")) from None
    offset = moment.utcoffset()
    if offset is None:
        raise TimestampInvalid("naive_datetime", gettext("时间必须带时区偏移，例如 +08:00。"))
    if abs(offset) > MAX_UTC_OFFSET:
        raise TimestampInvalid("invalid_offset", gettext("时区偏移超出范围（±14:00）。"))
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-14:00 is past the last representable moment
        raise TimestampInvalid("out_of_range", gettext("时间超出范围。")) from None
