"""Working days of the official holiday calendar (国务院办公厅 holiday notices, make-up days
included), through the `chinesecalendar` package; Monday–Friday for a year it does not know."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import chinese_calendar

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()


def calendar_knows(year: int) -> bool:
    """Whether the installed calendar has the holidays of `year` (published each November)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def unknown_years(years: Iterable[int]) -> list[int]:
    return sorted({year for year in years if not calendar_knows(year)})


def is_working_day(day: date) -> bool:
    """An official working day; for a year the calendar lacks, Monday–Friday (and a warning, once)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "chinesecalendar has no holidays for %s: working days counted Monday-Friday; "
                "upgrade chinesecalendar once the State Council publishes that year's holidays",
                day.year,
            )
        return day.weekday() < 5


def working_days_after(start: datetime, days: int) -> datetime:
    """The same local time `days` working days after `start` (pass a local, Beijing time)."""
    moment, remaining = start, days
    while remaining > 0:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            remaining -= 1
    return moment
