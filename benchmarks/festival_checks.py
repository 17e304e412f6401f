"""What the festival bench reads back after the hour: nothing lost or doubled, claim latency, the events
table's partitions and sizes."""
from __future__ import annotations

from datetime import datetime

from benchmarks._support import connect, percentile
from benchmarks.events_probes import statuses_check


def checks(url: str, run: str, hour: dict, expected: dict[int, str], numbers: dict[str, int],
           replay_accepted: int) -> dict:
    """Nothing lost or doubled: stored events, claims per parcel, statuses."""
    sent = sum(len(events) for _, events in hour["batches"])
    parcels = [wid for wid, _, _, _, _ in hour["parcels"]] + [twin for _, twin, _, _, _ in hour["parcels"]]
    conn = connect(url)
    with conn.cursor() as cursor:
        # Through the parcels' (waybill_id, occurred_at) index: a LIKE alone would read all 50M rows.
        counted = ("SELECT count(*), count(DISTINCT (carrier_id, event_id)) FROM waybills_trackingevent"
                   " WHERE waybill_id = ANY(%s) AND event_id LIKE %s")
        cursor.execute(counted, [[wid for wid, _, _, _, _ in hour["parcels"]], f"FH-{run}-%"])
        stored, distinct = cursor.fetchone()
        cursor.execute(counted, [[twin for _, twin, _, _, _ in hour["parcels"]], f"FC-{run}-%"])
        copied, copied_distinct = cursor.fetchone()
        cursor.execute("SELECT waybill_id, count(*), array_agg(breach->>'rule') FROM claims_claim"
                       " WHERE waybill_id = ANY(%s) GROUP BY waybill_id", [parcels])
        claims = {wid: (n, rules) for wid, n, rules in cursor.fetchall()}
    conn.close()
    last = {number: (None, datetime.fromisoformat(at)) for number, at in hour["last"].items()}
    wrong_status = statuses_check(url, last)
    doubled = sorted(wid for wid, (n, _) in claims.items() if n > 1)
    missing = sorted(set(expected) - set(claims))
    unexpected = sorted(set(claims) - set(expected))
    wrong_rule = sorted(wid for wid, rule in expected.items() if wid in claims and claims[wid][1] != [rule])
    failures = []
    if stored != sent or distinct != sent:
        failures.append(f"{sent} events accepted, {stored} stored ({distinct} distinct)")
    if copied != sent or copied_distinct != sent:
        failures.append(f"{sent} events COPYed, {copied} stored ({copied_distinct} distinct)")
    if replay_accepted:
        failures.append(f"replayed batches stored {replay_accepted} events")
    if doubled:
        failures.append(f"{len(doubled)} parcels with more than one claim, e.g. {doubled[:5]}")
    if missing:
        failures.append(f"{len(missing)} breaches without a claim, e.g. {missing[:5]}")
    if unexpected:
        failures.append(f"{len(unexpected)} claims on parcels that kept their promises, e.g. {unexpected[:5]}")
    if wrong_rule:
        failures.append(f"{len(wrong_rule)} claims for another rule than the breach, e.g. {wrong_rule[:5]}")
    if wrong_status:
        failures.append(f"{wrong_status} waybills not at their latest scan")
    return {"ok": not failures, "failures": failures, "sent": sent, "stored": stored, "copied": copied,
            "claims": sum(n for n, _ in claims.values()), "expected_claims": len(expected),
            "replay_stored": replay_accepted, "wrong_status": wrong_status}


def latency(url: str, run: str, hour: dict, numbers: dict[str, int], answered: list[float]) -> dict:
    """Per claim of the hour: its batch's HTTP answer → the claim's opened_at."""
    batch_of = {wid: batch for wid, _, batch, _, _ in hour["parcels"]}
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT waybill_id, extract(epoch FROM opened_at) FROM claims_claim WHERE waybill_id = ANY(%s)",
                       [list(batch_of)])
        rows = cursor.fetchall()
    conn.close()
    samples = [(float(opened) - answered[batch_of[wid]]) * 1000 for wid, opened in rows]
    if not samples:
        return {"claims": 0}
    return {"claims": len(samples), "p50_ms": percentile(samples, 0.5), "p99_ms": percentile(samples, 0.99),
            "max_ms": max(samples), "min_ms": min(samples)}


def partitions(url: str) -> list[dict]:
    """The events table's leaf partitions with their sizes (heap, indexes, TOAST), newest last; the table
    itself when it is not partitioned."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            """SELECT t.relid::regclass::text, pg_total_relation_size(t.relid),
                      pg_get_expr(c.relpartbound, c.oid)
               FROM pg_partition_tree('waybills_trackingevent') t JOIN pg_class c ON c.oid = t.relid
               WHERE t.isleaf ORDER BY c.relname"""
        )
        rows = cursor.fetchall()
        if not rows:  # not partitioned: the table is its one "partition"
            cursor.execute("SELECT 'waybills_trackingevent', pg_total_relation_size('waybills_trackingevent'), NULL")
            rows = cursor.fetchall()
    conn.close()
    return [{"name": name, "bytes": size, "bound": bound} for name, size, bound in rows]


def database_size(url: str) -> int:
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    conn.close()
    return size


def stored_total(url: str) -> int:
    """Rows in the events table, as ANALYZE estimates them (an exact count would read every partition)."""
    conn = connect(url)
    with conn.cursor() as cursor:
        cursor.execute("ANALYZE waybills_trackingevent")
        cursor.execute("SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_class c WHERE c.oid IN ("
                       " SELECT relid FROM pg_partition_tree('waybills_trackingevent') WHERE isleaf"
                       " UNION SELECT 'waybills_trackingevent'::regclass) AND c.relkind = 'r'")
        total = cursor.fetchone()[0]
    conn.commit()
    conn.close()
    return int(total or 0)
