"""Reads of the carrier scorecard: a week's figures per carrier, the ranking, the trend, one
carrier's places. Everything comes from the `CarrierWeekScore` rollup (a few rows per week)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carriers.choices import ComplaintType

from ..models import CarrierWeekScore

# The door-delivery promise is broken by these breaches (DESIGN §3a): the ranking's measure.
DOOR_PROMISE = (ComplaintType.NOT_TO_DOOR, ComplaintType.LOCKER_WITHOUT_CONSENT)
TREND_WEEKS = 8


def _per_thousand(count: int, parcels: int) -> float | None:
    return round(count * 1000 / parcels, 1) if parcels else None


def _share(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


@dataclass
class ScoreRow:
    score: CarrierWeekScore
    previous: CarrierWeekScore | None = None

    @property
    def carrier(self):
        return self.score.carrier

    @property
    def door_rate(self) -> float | None:
        return _share(self.score.door, self.score.parcels)

    @property
    def complaint_rate(self) -> float | None:
        return _share(self.score.complaints, self.score.parcels)

    @property
    def door_breaches(self) -> int:
        return sum(self.score.breaches.get(t, 0) for t in DOOR_PROMISE)

    @property
    def door_breach_rate(self) -> float | None:
        return _per_thousand(self.door_breaches, self.score.parcels)

    @property
    def previous_door_breach_rate(self) -> float | None:
        if self.previous is None:
            return None
        return _per_thousand(sum(self.previous.breaches.get(t, 0) for t in DOOR_PROMISE), self.previous.parcels)

    @property
    def trend(self) -> float | None:
        """Change of the door-promise breach rate against the previous week (per 1,000 parcels)."""
        now, before = self.door_breach_rate, self.previous_door_breach_rate
        return None if now is None or before is None else round(now - before, 1)

    @property
    def breach_rates(self) -> list[tuple[str, int, float | None]]:
        return [
            (label, self.score.breaches.get(value, 0), _per_thousand(self.score.breaches.get(value, 0), self.score.parcels))
            for value, label in ComplaintType.choices
        ]

    @property
    def webhook_success(self) -> float | None:
        return _share(self.score.webhooks_delivered, self.score.webhooks_total)


def scorecard_weeks_available() -> list[date]:
    return list(CarrierWeekScore.objects.order_by("-week_start").values_list("week_start", flat=True).distinct()[:52])


def scorecard_week(*, week_start: date) -> list[ScoreRow]:
    """Every carrier's row for the week, ranked: most door-promise breaches per 1,000 parcels first."""
    scores = CarrierWeekScore.objects.select_related("carrier").filter(
        week_start__in=[week_start, week_start - timedelta(weeks=1)]
    )
    this = {s.carrier_id: s for s in scores if s.week_start == week_start}
    before = {s.carrier_id: s for s in scores if s.week_start != week_start}
    rows = [ScoreRow(score=s, previous=before.get(cid)) for cid, s in this.items()]
    rows.sort(key=lambda r: (-(r.door_breach_rate or 0), -r.door_breaches, r.carrier.code))
    return rows


def scorecard_trend(*, week_start: date, carrier_id: int | None = None) -> dict[str, list[tuple[date, float | None]]]:
    """Door-promise breaches per 1,000 parcels by week, per carrier name, oldest week first."""
    since = week_start - timedelta(weeks=TREND_WEEKS - 1)
    scores = CarrierWeekScore.objects.select_related("carrier").filter(week_start__gte=since, week_start__lte=week_start)
    if carrier_id is not None:
        scores = scores.filter(carrier_id=carrier_id)
    series: dict[str, list[tuple[date, float | None]]] = {}
    for score in scores.order_by("week_start"):
        row = ScoreRow(score=score)
        series.setdefault(score.carrier.name, []).append((score.week_start, row.door_breach_rate))
    return series


def scorecard_carrier_week(*, carrier_id: int, week_start: date) -> ScoreRow | None:
    scores = {
        s.week_start: s
        for s in CarrierWeekScore.objects.select_related("carrier").filter(
            carrier_id=carrier_id, week_start__in=[week_start, week_start - timedelta(weeks=1)]
        )
    }
    if week_start not in scores:
        return None
    return ScoreRow(score=scores[week_start], previous=scores.get(week_start - timedelta(weeks=1)))


def scorecard_freshness() -> datetime | None:
    latest = CarrierWeekScore.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    return latest


def scorecard_rows_for_export(*, weeks: int = TREND_WEEKS, until: date) -> list[ScoreRow]:
    since = until - timedelta(weeks=weeks - 1)
    scores = list(
        CarrierWeekScore.objects.select_related("carrier").filter(week_start__gte=since - timedelta(weeks=1), week_start__lte=until)
        .order_by("week_start", "carrier__code")
    )
    by_key = {(s.carrier_id, s.week_start): s for s in scores}
    return [
        ScoreRow(score=s, previous=by_key.get((s.carrier_id, s.week_start - timedelta(weeks=1))))
        for s in scores if s.week_start >= since
    ]
