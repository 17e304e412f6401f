"""Tracking events on PostgreSQL: time partitions (django-postgres-extra), retention, dedup horizon.

Read by settings/base.py; docs/SCALING.md ("Time-partitioned tracking events") explains the choices.
"""
import os
from datetime import timedelta
from pathlib import Path

# psqlextra's backend is plain Django PostgreSQL plus partitioning; SQLite (`make run`) keeps its own.
POSTGRES_ENGINES = {"django.db.backends.postgresql": "psqlextra.backend"}
PSQLEXTRA_PARTITIONING_MANAGER = "waybills.partitioning.manager"

# One partition per day, week or month of `occurred_at` (UTC boundaries). A week holds this
# deployment's trial volume in a few GB; at a 20 % national share (~1 bn scans a day) use "day".
YINZUNDA_EVENTS_PARTITION_SIZE = os.environ.get("YINZUNDA_EVENTS_PARTITION_SIZE", "week")
# Partitions kept created ahead of now: the beat task may stop this many periods before a scan
# lands in the DEFAULT partition (still stored; moved out when its partition is created).
YINZUNDA_EVENTS_PARTITIONS_AHEAD = int(os.environ.get("YINZUNDA_EVENTS_PARTITIONS_AHEAD", "4"))
# Partitions entirely older than this are archived (gzipped CSV) and dropped, never while an open
# complaint or a claim not yet final still concerns a parcel with scans in them.
YINZUNDA_EVENTS_RETENTION_DAYS = int(os.environ.get("YINZUNDA_EVENTS_RETENTION_DAYS", "400"))
# Where retired partitions are written before they are dropped; set to "" to drop without archive.
YINZUNDA_EVENTS_ARCHIVE_DIR = os.environ.get(
    "YINZUNDA_EVENTS_ARCHIVE_DIR", str(Path(__file__).resolve().parent.parent.parent / "var" / "events-archive")
)
# A carrier event id reused with another occurred_at within this many days either side of an
# event already stored is a duplicate (DESIGN §5.5); further apart it is a new scan.
YINZUNDA_EVENT_ID_HORIZON = timedelta(days=int(os.environ.get("YINZUNDA_EVENT_ID_HORIZON_DAYS", "14")))

EVENTS_PARTITIONS_BEAT = {
    "waybills-events-partitions": {"task": "waybills.tasks.events_partitions_maintain", "schedule": 6 * 3600.0},
}
# Asked before a partition is retired, with the partition's end: True keeps it (loaded by name:
# the complaint and claim rules live above the waybills app).
YINZUNDA_EVENTS_RETENTION_HOLDS = ["claims.selectors.retention.tracking_events_needed_before"]
