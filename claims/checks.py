"""System checks of the claims settings: the answer clock's mode and its holiday calendar.

Imported by apps.py when the app loads, so it imports no models (only the pure routing rules)."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils import timezone

from .routing import answer_clock_calendar_gaps

ANSWER_CLOCK_MODES = ("calendar", "working")


@register()
def answer_clock_check(app_configs=None, **kwargs) -> list:
    """`manage.py check` (and every runserver/migrate) tells operators when the holiday calendar
    lacks a year the working-day answer clock needs: it then counts Monday–Friday."""
    if settings.YINZUNDA_ANSWER_CLOCK not in ANSWER_CLOCK_MODES:
        return [Error(
            f"YINZUNDA_ANSWER_CLOCK is {settings.YINZUNDA_ANSWER_CLOCK!r}; expected 'calendar' or 'working'.",
            id="claims.E001",
        )]
    gaps = answer_clock_calendar_gaps(
        today=timezone.localdate(), days=settings.YINZUNDA_ANSWER_DAYS,
        working_days=settings.YINZUNDA_ANSWER_CLOCK == "working",
    )
    if not gaps:
        return []
    years = ", ".join(str(y) for y in gaps)
    return [Warning(
        f"The holiday calendar (chinesecalendar) has no data for {years}: the working-day answer clock "
        "counts Monday-Friday there, without holidays or make-up days.",
        hint="Upgrade chinesecalendar (pip install -U chinesecalendar) once that year's holidays are published.",
        id="claims.W001",
    )]
