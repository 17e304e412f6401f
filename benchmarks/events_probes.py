"""What the events bench measures besides speed: CPU (from /proc), WAL, waybill updates, index sizes;
and the prefill of a grown table."""
from __future__ import annotations

import io
import os
import time
from datetime import datetime
from pathlib import Path

from benchmarks._support import connect


class Probe:
    """CPU seconds of the web workers and the bench database's sessions, and WAL written, over a run."""

    def __init__(self, url: str, web_group: int | None) -> None:
        self.url, self.web_group = url, web_group
        self.web = self._cpu(group(web_group)) if web_group else {}
        self.db, self.lsn = self._db()

    def _db(self) -> tuple[dict[int, float], str]:
        conn = connect(self.url)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            pids = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            lsn = cursor.fetchone()[0]
        conn.close()
        return self._cpu(pids), lsn

    def _cpu(self, pids: list[int]) -> dict[int, float]:
        seconds = {pid: cpu_seconds(pid) for pid in pids}
        return {pid: value for pid, value in seconds.items() if value >= 0}

    def done(self, events: int) -> dict:
        web = self._cpu(group(self.web_group)) if self.web_group else {}
        db, lsn = self._db()
        conn = connect(self.url)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_wal_lsn_diff(%s, %s)", [lsn, self.lsn])
            wal = float(cursor.fetchone()[0])
        conn.close()

        def spent(after: dict, before: dict) -> float:
            return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())

        per = 1000 / events
        return {"web_cpu_ms": spent(web, self.web) * 1000 * per, "db_cpu_ms": spent(db, self.db) * 1000 * per,
                "wal_kib": wal / 1024 * per}


EVENTS_COPY_SQL = ("COPY waybills_trackingevent (carrier_id, waybill_id, event_id, code, occurred_at, location, "
                   "delivery_method, proof_type, proof_url, note, received_at) FROM STDIN")


def events_copy(url: str, buffers: list[bytes]) -> tuple[float, float]:
    """COPY each buffer of events rows and commit, on one connection; (seconds, CPU seconds of its
    database session, read before it closes: the session's process ends with it)."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    conn.commit()
    cpu_before = cpu_seconds(backend)
    started = time.perf_counter()
    with conn.cursor() as cursor:
        for buffer in buffers:
            cursor.copy_expert(EVENTS_COPY_SQL, io.BytesIO(buffer))
            conn.commit()
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(backend) - cpu_before
    conn.close()
    return elapsed, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (-1 if it is gone or not ours to read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def prefill(url: str, carrier_id: int, count: int) -> int:
    """`count` older scans of the bench's waybills, written server-side, so the bench measures a grown table."""
    started = time.perf_counter()
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM waybills_waybill WHERE carrier_id = %s", [carrier_id])
        ids = cursor.fetchone()[0]
        done = 0
        # Spread over 28 days (from 29 days ago): several time partitions fill, as in production.
        spread_ms = 28 * 86_400_000 / max(count, 1)
        while done < count:  # 1M rows per statement and commit
            step = min(1_000_000, count - done)
            cursor.execute(
                "INSERT INTO waybills_trackingevent (carrier_id, waybill_id, event_id, code, occurred_at, location,"
                " delivery_method, proof_type, proof_url, note, received_at, late)"
                " SELECT %s, (%s::bigint[])[1 + (g * 7919) %% %s], 'fill-' || g, 'ARRIVED_AT_HUB',"
                " now() - interval '29 days' + g * %s * interval '1 millisecond', '杭州转运中心', '', '', '', '', now(), false"
                " FROM generate_series(%s::bigint, %s::bigint) AS g",
                [carrier_id, ids, len(ids), spread_ms, done, done + step - 1],
            )
            conn.commit()
            done += step
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE waybills_trackingevent")
    conn.close()
    print(f"prefill: {count:,} events stored in {time.perf_counter() - started:.0f} s", flush=True)
    return count


def waybill_updates(url: str, above: int | None = None) -> int:
    """Rows of waybills_waybill updated since the database's statistics began (pg_stat_user_tables)."""
    conn = connect(url)
    conn.autocommit = True
    value = 0
    with conn.cursor() as cursor:
        previous = None
        for _ in range(40):  # ended sessions report their counts within a moment: wait until it holds still
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'waybills_waybill'")
            value = cursor.fetchone()[0]
            if above is None or (value > above and value == previous):
                break
            previous = value
            time.sleep(0.5)
    conn.close()
    return value


def statuses_check(url: str, last: dict[str, tuple[str, datetime]]) -> int:
    """How many waybills do not show the time of the latest scan sent for them (or are missing)."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT number, status_at FROM waybills_waybill WHERE number = ANY(%s)", [list(last)])
        rows = cursor.fetchall()
    conn.close()
    wrong = sum(1 for number, at in rows if at is None or abs((at - last[number][1]).total_seconds()) > 0.001)
    return wrong + len(last) - len(rows)


def index_sizes(url: str) -> dict[str, int]:
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            # A partitioned table's index is the sum of its partitions' indexes.
            "SELECT indexrelid::regclass::text,"
            " (SELECT sum(pg_relation_size(relid))::bigint FROM pg_partition_tree(indexrelid)) FROM pg_index"
            " WHERE indrelid = 'waybills_trackingevent'::regclass ORDER BY 1"
        )
        sizes = dict(cursor.fetchall())
    conn.close()
    return sizes
