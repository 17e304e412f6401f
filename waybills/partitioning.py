"""Time partitions of waybills_trackingevent on PostgreSQL, kept by django-postgres-extra.

`manage.py pgpartition --yes` and the beat task (waybills.tasks.events_partitions_maintain) run
the same manager: create YINZUNDA_EVENTS_PARTITIONS_AHEAD partitions ahead of now, retire those
entirely older than YINZUNDA_EVENTS_RETENTION_DAYS. A retired partition is written to a gzipped
CSV in YINZUNDA_EVENTS_ARCHIVE_DIR, then detached and dropped, unless a live complaint or claim
still needs it (YINZUNDA_EVENTS_RETENTION_HOLDS). Rows no range partition covers land in the
DEFAULT partition; a new partition takes its range's rows out of it (docs/SCALING.md).
"""
from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Generator
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string
from psqlextra.partitioning import (
    PostgresCurrentTimePartitioningStrategy,
    PostgresPartitioningConfig,
    PostgresPartitioningManager,
    PostgresTimePartition,
    PostgresTimePartitionSize,
)

from .models import TrackingEvent

logger = logging.getLogger(__name__)

TABLE = TrackingEvent._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
NAME_FORMAT = "p%Y%m%d"  # waybills_trackingevent_p20261123: the partition's first day (UTC)
SIZES = {"day": {"days": 1}, "week": {"weeks": 1}, "month": {"months": 1}}
# Autovacuum of each partition (PostgreSQL keeps storage parameters per partition, none on the
# parent): an insert-only partition is vacuumed (visibility map, freezing) and analyzed after 1 %
# new rows, not the default 20 % of a partition that may hold a billion (docs/SCALING.md). Set
# on every partition created here; migration waybills 0010 set it on those that existed.
PARTITION_STORAGE = {"autovacuum_vacuum_insert_scale_factor": "0.01", "autovacuum_analyze_scale_factor": "0.01"}


def partition_storage_set(cursor, table: str) -> None:
    options = ", ".join(f"{name} = {value}" for name, value in PARTITION_STORAGE.items())
    cursor.execute(f'ALTER TABLE "{table}" SET ({options})')


def partition_size(name: str | None = None) -> PostgresTimePartitionSize:
    name = name or settings.YINZUNDA_EVENTS_PARTITION_SIZE
    if name not in SIZES:
        raise ValueError(f"YINZUNDA_EVENTS_PARTITION_SIZE must be one of {sorted(SIZES)}, not {name!r}")
    return PostgresTimePartitionSize(**SIZES[name])


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _midnight(moment: datetime) -> datetime:
    return _utc(moment).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class TrackingEventPartition(PostgresTimePartition):
    """One range of occurred_at; created out of the DEFAULT partition's rows, retired to an archive."""

    @property
    def start(self) -> datetime:
        return _utc(self.start_datetime)

    @property
    def end(self) -> datetime:
        return _utc(self.end_datetime)

    def table(self) -> str:
        return f"{TABLE}_{self.name()}"

    def create(self, model, schema_editor, comment: str | None = None) -> None:
        quote = schema_editor.quote_name
        with schema_editor.connection.cursor() as cursor:
            stranded = _default_exists(cursor)
            if stranded:
                cursor.execute(
                    f"SELECT EXISTS (SELECT 1 FROM {quote(DEFAULT_PARTITION)} WHERE occurred_at >= %s AND occurred_at < %s)",  # noqa: S608
                    [self.start, self.end],
                )
                stranded = cursor.fetchone()[0]
            if not stranded:
                super().create(model, schema_editor, comment)
                partition_storage_set(cursor, self.table())
                return
            # Scans the DEFAULT partition caught for this range (the beat stopped for longer than
            # the partitions ahead): PostgreSQL refuses the new partition while they sit there.
            cursor.execute(f"ALTER TABLE {quote(TABLE)} DETACH PARTITION {quote(DEFAULT_PARTITION)}")
            super().create(model, schema_editor, comment)
            partition_storage_set(cursor, self.table())
            where = "occurred_at >= %s AND occurred_at < %s"
            cursor.execute(
                f"INSERT INTO {quote(TABLE)} SELECT * FROM {quote(DEFAULT_PARTITION)} WHERE {where}",  # noqa: S608
                [self.start, self.end],
            )
            moved = cursor.rowcount
            cursor.execute(f"DELETE FROM {quote(DEFAULT_PARTITION)} WHERE {where}", [self.start, self.end])  # noqa: S608
            cursor.execute(f"ALTER TABLE {quote(TABLE)} ATTACH PARTITION {quote(DEFAULT_PARTITION)} DEFAULT")
        logger.warning("events partition %s created with %d scans moved out of the DEFAULT partition", self.table(), moved)

    def delete(self, model, schema_editor) -> None:
        """Archive (if an archive directory is set), detach and drop, in the plan's transaction.

        The partition is locked against writes first (a late scan for its range waits, then
        lands in the DEFAULT partition), so the archive holds exactly the rows dropped.
        """
        quote = schema_editor.quote_name
        name = self.table()
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {quote(name)} IN SHARE MODE")
            rows = events_archive(cursor, table=name, query=f"SELECT * FROM {quote(name)} ORDER BY id")  # noqa: S608
            cursor.execute(f"ALTER TABLE {quote(TABLE)} DETACH PARTITION {quote(name)}")
            cursor.execute(f"DROP TABLE {quote(name)}")
        logger.info("events partition %s retired: %s rows archived", name, rows)


def _default_exists(cursor) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [DEFAULT_PARTITION])
    return cursor.fetchone()[0]


def events_archive(cursor, *, table: str, query: str) -> int | None:
    """COPY the query's rows to <archive dir>/<table>.csv.gz (header line, PostgreSQL CSV);
    the number of rows written, None when no archive directory is set (nothing written)."""
    directory = settings.YINZUNDA_EVENTS_ARCHIVE_DIR
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{table}.csv.gz")
    partial = f"{path}.partial"
    with gzip.open(partial, "wb") as out:
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", out)
        rows = cursor.rowcount
    os.replace(partial, path)  # a crash mid-COPY leaves a .partial, never a short archive
    return rows


def events_needed_before(moment: datetime) -> bool:
    """Whether a live complaint, claim or complaint window still needs scans older than `moment`."""
    return any(import_string(path)(moment) for path in settings.YINZUNDA_EVENTS_RETENTION_HOLDS)


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=settings.YINZUNDA_EVENTS_RETENTION_DAYS)


class TrackingEventPartitioningStrategy(PostgresCurrentTimePartitioningStrategy):
    """psqlextra's current-time strategy, retiring only partitions that end before the cutoff
    and that no live complaint or claim needs."""

    def __init__(self, *, size: PostgresTimePartitionSize, count: int, retention_days: int | None) -> None:
        # psqlextra retires the partition *containing* now - max_age: one period more keeps every
        # partition that still holds a scan younger than the retention.
        max_age = relativedelta(days=retention_days) + size.as_delta() if retention_days else None
        super().__init__(size=size, count=count, max_age=max_age, name_format=NAME_FORMAT)
        self.retention_days = retention_days

    def get_start_datetime(self) -> datetime:
        # Midnight UTC: psqlextra 3.0.1 keeps the current hour in week and month starts, which
        # would shift each new partition's bounds with the hour the task happens to run.
        return _midnight(super().get_start_datetime())

    def _partition(self, start: datetime) -> TrackingEventPartition:
        return TrackingEventPartition(size=self.size, start_datetime=start, name_format=self.name_format)

    def to_create(self) -> Generator[TrackingEventPartition, None, None]:
        for partition in super().to_create():
            yield self._partition(partition.start_datetime)

    def to_delete(self) -> Generator[TrackingEventPartition, None, None]:
        cutoff = retention_cutoff(self.get_start_datetime())
        for partition in super().to_delete():
            retiring = self._partition(partition.start_datetime)
            if retiring.end > cutoff:  # never: max_age is a period longer than the retention
                continue
            if events_needed_before(retiring.end + settings.YINZUNDA_SCAN_CLOCK_SKEW):
                # This one and every older one wait for the next run (psqlextra walks back from here).
                logger.warning("events partition %s kept past retention: a live complaint or claim needs it", retiring.table())
                return
            yield retiring

    def covering(self, first: datetime) -> list[TrackingEventPartition]:
        """Partitions from the one holding `first` up to the ahead horizon (the conversion's set)."""
        partitions, start = [], self.size.start(_midnight(first))
        last = self.size.start(self.get_start_datetime()) + self.size.as_delta() * self.count
        while start < last:
            partitions.append(self._partition(start))
            start += self.size.as_delta()
        return partitions


def strategy() -> TrackingEventPartitioningStrategy:
    return TrackingEventPartitioningStrategy(
        size=partition_size(), count=settings.YINZUNDA_EVENTS_PARTITIONS_AHEAD,
        retention_days=settings.YINZUNDA_EVENTS_RETENTION_DAYS,
    )


class _SettingsManager(PostgresPartitioningManager):
    """The manager `pgpartition` loads, reading the settings each time it plans (tests override them)."""

    def __init__(self) -> None:
        super().__init__([])

    @property
    def configs(self) -> list[PostgresPartitioningConfig]:
        return [PostgresPartitioningConfig(model=TrackingEvent, strategy=strategy())]

    @configs.setter
    def configs(self, value) -> None:
        pass


manager = _SettingsManager()


def events_partitions_maintain() -> tuple[int, int]:
    """Create the partitions ahead and retire those past retention: (created, retired)."""
    if connection.vendor != "postgresql":
        return 0, 0
    plan = manager.plan()
    plan.apply()
    return len(plan.creations), len(plan.deletions)


def events_partitions_cover(since: datetime) -> int:
    """Create every missing partition from the one holding `since` to the ahead horizon (a bulk
    load of older scans, the benches' prefills): the number created."""
    from psqlextra.partitioning.constants import AUTO_PARTITIONED_COMMENT

    with connection.cursor() as cursor:
        existing = connection.introspection.get_partitioned_table(cursor, TABLE)
    missing = [p for p in strategy().covering(since) if not existing.partition_by_name(name=p.name())]
    with transaction.atomic(), connection.schema_editor() as schema_editor:
        for partition in missing:
            partition.create(TrackingEvent, schema_editor, comment=AUTO_PARTITIONED_COMMENT)
    return len(missing)
