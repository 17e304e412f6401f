"""Tracking events partitioned by occurred_at (PostgreSQL): the conversion keeps every row, dedup
keeps its promise within the horizon, partitions are made ahead and retired to an archive, and a
waybill's history reads only the partitions it can be in."""
from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import CarrierFactory, WaybillFactory
from waybills.models import TrackingEvent
from waybills.partitioning import (
    DEFAULT_PARTITION,
    TABLE,
    events_partitions_cover,
    events_partitions_maintain,
    strategy,
)
from waybills.services.tracking import tracking_events_ingest


def _partitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass", [TABLE],
        )
        return dict(cursor.fetchall())


def _scan(waybill, event_id: str, at: datetime, code: str = "ARRIVED_AT_HUB") -> dict:
    return {"event_id": event_id, "waybill_number": waybill.number, "code": code, "occurred_at": at.isoformat()}


def _where(event_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE event_id = %s", [event_id])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_events_table_is_partitioned_by_occurred_at_with_partitions_ahead_and_a_default():
    partitions = _partitions()
    assert partitions[DEFAULT_PARTITION] == "DEFAULT"
    ahead = list(strategy().to_create())
    assert all(p.table() in partitions for p in ahead)
    assert len(ahead) == 4  # YINZUNDA_EVENTS_PARTITIONS_AHEAD, weekly by default
    # a scan of today lands in this week's partition, not in the DEFAULT one
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(days=1))
    result = tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "today-1", timezone.now())])
    assert result.accepted == 1
    assert _where("today-1") == ahead[0].table()


@pytest.mark.django_db
def test_replay_with_the_same_occurred_at_is_a_duplicate():
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(days=3))
    scan = _scan(waybill, "E-1", timezone.now() - timedelta(hours=5))
    assert tracking_events_ingest(carrier=waybill.carrier, events=[scan]).accepted == 1
    again = tracking_events_ingest(carrier=waybill.carrier, events=[scan])
    assert (again.accepted, again.duplicates) == (0, 1)
    assert TrackingEvent.objects.filter(event_id="E-1").count() == 1


@pytest.mark.django_db
def test_reused_event_id_with_another_occurred_at_within_the_horizon_is_a_duplicate(settings):
    # given: a scan stored two days ago (partitions of different weeks may hold the two moments)
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(days=20))
    first = timezone.now() - timedelta(days=12)
    tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "E-2", first)])
    # when: the carrier pushes the same id with a moment ten days later (horizon 14 days)
    result = tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "E-2", first + timedelta(days=10))])
    # then: nothing changes, as for any replay (DESIGN §5.5)
    assert (result.accepted, result.duplicates) == (0, 1)
    assert list(TrackingEvent.objects.filter(event_id="E-2").values_list("occurred_at", flat=True)) == [first]


@pytest.mark.django_db
def test_reused_event_id_beyond_the_horizon_is_a_new_scan(settings):
    settings.YINZUNDA_EVENT_ID_HORIZON = timedelta(days=2)
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(days=20))
    first = timezone.now() - timedelta(days=12)
    tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "E-3", first)])
    result = tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "E-3", first + timedelta(days=3))])
    assert (result.accepted, result.duplicates) == (1, 0)
    assert TrackingEvent.objects.filter(event_id="E-3").count() == 2


@pytest.mark.django_db
def test_the_horizon_check_is_per_carrier():
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(days=3))
    other = WaybillFactory(created_at=timezone.now() - timedelta(days=3))
    at = timezone.now() - timedelta(hours=5)
    tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "E-4", at)])
    result = tracking_events_ingest(carrier=other.carrier, events=[_scan(other, "E-4", at + timedelta(hours=1))])
    assert result.accepted == 1


@pytest.mark.django_db
def test_a_scan_older_than_every_partition_lands_in_default_and_moves_out_when_its_partition_is_made():
    # given: a parcel issued 30 weeks ago scanned then (no partition covers it yet)
    long_ago = timezone.now() - timedelta(weeks=30)
    waybill = WaybillFactory(created_at=long_ago - timedelta(hours=1))
    assert tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "old-1", long_ago)]).accepted == 1
    assert _where("old-1") == DEFAULT_PARTITION
    # when: partitions are made back to that week
    created = events_partitions_cover(long_ago)
    # then: the scan sits in its week's partition, same id, and the DEFAULT partition is empty
    assert created >= 25
    assert _where("old-1") != DEFAULT_PARTITION
    assert TrackingEvent.objects.filter(event_id="old-1").count() == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION}")  # noqa: S608
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_retention_archives_then_drops_partitions_past_it_and_keeps_younger_ones(settings, tmp_path):
    # given: scans 40 and 10 weeks old, a 26-week retention and an archive directory
    settings.YINZUNDA_EVENTS_RETENTION_DAYS = 26 * 7
    settings.YINZUNDA_EVENTS_ARCHIVE_DIR = str(tmp_path)
    events_partitions_cover(timezone.now() - timedelta(weeks=41))
    old_at, young_at = timezone.now() - timedelta(weeks=40), timezone.now() - timedelta(weeks=10)
    old = WaybillFactory(created_at=old_at - timedelta(hours=1), status_at=old_at)
    young = WaybillFactory(created_at=young_at - timedelta(hours=1), status_at=young_at)
    tracking_events_ingest(carrier=old.carrier, events=[_scan(old, "gone-1", old_at)], now=old_at + timedelta(hours=1))
    tracking_events_ingest(carrier=young.carrier, events=[_scan(young, "kept-1", young_at)], now=young_at + timedelta(hours=1))
    old_id = TrackingEvent.objects.get(event_id="gone-1").pk
    old_partition = _where("gone-1")
    # when (in production retention runs in a transaction of its own: no foreign-key checks pending)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    created, retired = events_partitions_maintain()
    # then: every partition wholly older than 26 weeks is archived and dropped, nothing younger
    assert retired >= 14
    assert old_partition not in _partitions()
    assert not TrackingEvent.objects.filter(event_id="gone-1").exists()
    assert TrackingEvent.objects.filter(event_id="kept-1").exists()
    cutoff = datetime.now(UTC) - timedelta(weeks=26)
    for name, bound in _partitions().items():
        if bound != "DEFAULT":
            upper = datetime.fromisoformat(bound.split("TO ('")[1].split("'")[0])
            assert upper > cutoff, name
    with gzip.open(tmp_path / f"{old_partition}.csv.gz", "rt") as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read())))
    assert [(int(r["id"]), r["event_id"]) for r in rows] == [(old_id, "gone-1")]


@pytest.mark.django_db
def test_retention_keeps_partitions_a_claim_not_yet_final_still_needs(settings, tmp_path):
    from claims.models import Claim
    from tests.factories import ComplaintFactory

    settings.YINZUNDA_EVENTS_RETENTION_DAYS = 26 * 7
    settings.YINZUNDA_EVENTS_ARCHIVE_DIR = str(tmp_path)
    events_partitions_cover(timezone.now() - timedelta(weeks=41))
    old_at = timezone.now() - timedelta(weeks=40)
    old = WaybillFactory(created_at=old_at - timedelta(hours=1), status_at=old_at)
    tracking_events_ingest(carrier=old.carrier, events=[_scan(old, "held-1", old_at)], now=old_at + timedelta(hours=1))
    complaint = ComplaintFactory(order=old.order, waybill=old, status="received")
    assert complaint.pk and Claim.objects.count() == 0
    # when: retention runs while the complaint waits to be routed
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _, retired = events_partitions_maintain()
    # then: the partition holding its scans, and the older ones, stay
    assert TrackingEvent.objects.filter(event_id="held-1").exists()
    assert retired == 0
    assert TrackingEvent.objects.filter(event_id="held-1").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_a_waybills_history_reads_only_the_partitions_from_its_issue_on():
    # given: a year of weekly partitions and a parcel issued three weeks ago
    events_partitions_cover(timezone.now() - timedelta(weeks=52))
    waybill = WaybillFactory(created_at=timezone.now() - timedelta(weeks=3))
    all_partitions = len(_partitions())
    # when
    sql, params = TrackingEvent.objects.of_waybill(waybill).order_by("occurred_at", "id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # then: at most its issue week, the weeks since, the ones ahead and the DEFAULT partition
    read = set(re.findall(r"(?:Seq Scan|Index Scan using \S+|Index Only Scan using \S+|Bitmap Heap Scan) on (\S+)", plan))
    assert all_partitions > 50
    assert 1 < len(read) <= 4 + 4 + 1, plan


@pytest.mark.django_db(transaction=True)
def test_the_conversion_keeps_every_row_its_id_and_the_sequence():
    # given: the plain table of migration 0006, holding scans of several weeks
    executor = MigrationExecutor(connection)
    executor.migrate([("waybills", "0006_waybill_promise_due"), ("claims", "0013_merchant_answer_photos")])
    carrier = CarrierFactory()
    waybill = WaybillFactory(carrier=carrier, created_at=timezone.now() - timedelta(weeks=10))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (carrier_id, waybill_id, event_id, code, occurred_at, location, delivery_method,"  # noqa: S608
            " proof_type, proof_url, note, received_at, late)"
            " SELECT %s, %s, 'conv-' || g, 'ARRIVED_AT_HUB', now() - g * interval '1 hour', '', '', '', '', '', now(), false"
            " FROM generate_series(1, 1500) AS g",
            [carrier.pk, waybill.pk],
        )
        cursor.execute(f"DELETE FROM {TABLE} WHERE event_id = 'conv-7'")  # a gap in the ids  # noqa: S608
        cursor.execute(f"SELECT id, carrier_id, waybill_id, event_id, occurred_at FROM {TABLE} ORDER BY id")  # noqa: S608
        before = cursor.fetchall()
    # when: the conversion runs (and what depends on it)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then: every row is there with its id, in partitions, and new ids continue after the last
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, carrier_id, waybill_id, event_id, occurred_at FROM {TABLE} ORDER BY id")  # noqa: S608
        assert cursor.fetchall() == before
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        assert cursor.fetchone()[0] == "p"
        cursor.execute(f"SELECT count(DISTINCT tableoid) FROM {TABLE}")  # noqa: S608
        assert cursor.fetchone()[0] >= 9  # 1,500 hours: nine or ten weeks
    result = tracking_events_ingest(carrier=carrier, events=[_scan(waybill, "after-1", timezone.now())])
    assert result.accepted == 1
    assert TrackingEvent.objects.get(event_id="after-1").pk > before[-1][0]


@pytest.mark.django_db
def test_the_beat_task_and_pgpartition_create_the_partitions_ahead(settings):
    from django.core.management import call_command

    from waybills.tasks import events_partitions_maintain as task

    # given: two more partitions wanted ahead than exist
    assert "waybills-events-partitions" in settings.CELERY_BEAT_SCHEDULE
    settings.YINZUNDA_EVENTS_PARTITIONS_AHEAD = 6
    wanted = [p.table() for p in strategy().to_create()]
    assert sum(name in _partitions() for name in wanted) == 4
    # when: the beat task runs
    task.delay()
    # then: all six exist; pgpartition, run next, has nothing to do
    assert all(name in _partitions() for name in wanted)
    settings.YINZUNDA_EVENTS_PARTITIONS_AHEAD = 7
    call_command("pgpartition", "--yes", "--skip-delete")
    assert strategy().covering(timezone.now())[-1].table() in _partitions()


def _reloptions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = %s::regclass", [table])
        return dict(option.split("=", 1) for option in cursor.fetchone()[0])


@pytest.mark.django_db
def test_hot_tables_and_every_partition_made_now_or_later_carry_their_autovacuum_settings(settings):
    from waybills.partitioning import PARTITION_STORAGE

    # the migrations set them on the waybills, the outbox and the partitions that existed then
    assert _reloptions("waybills_waybill") == {
        "fillfactor": "80", "autovacuum_vacuum_scale_factor": "0.02", "autovacuum_analyze_scale_factor": "0.02",
    }
    assert _reloptions("yinzunda_outboxmessage") == {
        "autovacuum_vacuum_scale_factor": "0.01", "autovacuum_analyze_scale_factor": "0.02",
    }
    before = set(_partitions())
    assert before and all(_reloptions(name) == PARTITION_STORAGE for name in before)
    # partitions created later (ahead by the beat, or back in time for a bulk load) get them too
    settings.YINZUNDA_EVENTS_PARTITIONS_AHEAD = 6
    events_partitions_maintain()
    events_partitions_cover(timezone.now() - timedelta(weeks=30))
    created = set(_partitions()) - before
    assert len(created) >= 2 + 20
    assert all(_reloptions(name) == PARTITION_STORAGE for name in created)
    assert _reloptions(TABLE) == {}  # PostgreSQL keeps none on the partitioned parent
