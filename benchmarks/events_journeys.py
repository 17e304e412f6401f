"""The events bench's scans: a journey per waybill on one forward clock, so every batch moves real statuses."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

CARRIER_CODE = "BENCHZTO"
CST = timezone(timedelta(hours=8))
LOCATIONS = ["杭州转运中心", "上海青浦分拨中心", "广州白云转运中心", "北京顺义分拨中心", "成都双流转运中心",
             "浙江省杭州市西湖区文三路营业部", "江苏省南京市鼓楼区中山北路驿站"]
JOURNEY = ["PICKED_UP", "ARRIVED_AT_HUB", "DEPARTED_HUB", "ARRIVED_AT_HUB", "DEPARTED_HUB",
           "ARRIVED_AT_STATION", "OUT_FOR_DELIVERY", "DELIVERED"]


class Journeys:
    """The scans of a whole run, warm-up and rounds alike, so that every batch moves real statuses.

    Each waybill travels JOURNEY once: its first leg (4 scans) in one batch, its last leg (4 more,
    ending DELIVERED) in a batch at least LEG_GAP batches later, so two batches in flight never
    touch the same waybill. A single clock runs forward through the run: every scan is later than
    any scan before it, so each waybill in a batch moves to a new status (a round reusing an
    earlier window would make most status updates no-ops). Only when every waybill has been
    delivered does a waybill start a second journey (still a real move: its latest scan is newer).
    """

    LEG = 4
    LEG_GAP = 8

    def __init__(self, numbers: list[str], total_events: int, seed: str) -> None:
        self.rng = random.Random(seed)
        self.fresh = list(numbers)
        self.rng.shuffle(self.fresh)
        self.pending: list[tuple[int, str]] = []  # (first batch allowed, waybill) awaiting the last leg
        self.batch = 0
        self.serial = 0
        # Scans fill the last 20 hours up to 2 hours ago: not "late" (24 h), never in the future.
        span = timedelta(hours=18)
        self.start = datetime.now(CST) - timedelta(hours=20)
        self.step = min(timedelta(seconds=1), span / max(total_events, 1))
        self.journeys = 0
        self.last: dict[str, tuple[str, datetime]] = {}  # waybill → (code, occurred_at) of its latest scan

    def _leg(self, run: str, number: str, codes: list[str]) -> list[dict]:
        events = []
        for code in codes:
            self.serial += 1
            at = self.start + self.step * self.serial
            item = {
                "event_id": f"{CARRIER_CODE}-{run}-{self.serial:09d}",
                "waybill_number": number,
                "code": code,
                "occurred_at": at.isoformat(timespec="milliseconds"),
                "location": self.rng.choice(LOCATIONS),
            }
            if code == "DELIVERED":
                item["delivery_method"] = "door" if self.rng.random() < 0.97 else "locker"
                item["proof_type"] = "photo"
                item["proof_url"] = f"https://proof.bench.example/{run}/{self.serial}.jpg"
                item["note"] = "本人签收"
            self.last[number] = (code, at)
            events.append(item)
        return events

    def batches(self, run: str, count: int, size: int) -> tuple[list[list[dict]], list[int]]:
        """`count` batches of `size` scans, and how many waybills each batch moves."""
        if size % self.LEG:
            raise ValueError(f"batch size must be a multiple of {self.LEG}")
        batches, moved = [], []
        for _ in range(count):
            events: list[dict] = []
            while len(events) < size:
                if self.pending and self.pending[0][0] <= self.batch:
                    _, number = self.pending.pop(0)
                    events += self._leg(run, number, JOURNEY[self.LEG:])
                else:
                    if not self.fresh:  # every waybill delivered: start second journeys
                        self.fresh = [n for n in self.last if n not in {p for _, p in self.pending}]
                        self.rng.shuffle(self.fresh)
                    number = self.fresh.pop()
                    self.journeys += 1
                    events += self._leg(run, number, JOURNEY[:self.LEG])
                    self.pending.append((self.batch + self.LEG_GAP, number))
            batches.append(events[:size])
            moved.append(len({e["waybill_number"] for e in events[:size]}))
            self.batch += 1
        return batches, moved
