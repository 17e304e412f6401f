"""What each index and foreign-key check of the events table costs an insert, at the table's real size.

Every variant runs the same batches in its own transaction that drops one index or constraint
first and is rolled back at the end: PostgreSQL's DDL is transactional, so the index comes back
intact with no rebuild, and the rows inserted are gone. The statement is the set-based insert the
events API uses (rows as one JSON document), without ON CONFLICT so that the variant without the
unique index can run it too, with every constraint checked at the end of the statement (not at the
commit a rolled-back transaction never reaches); the cost of a piece is the median batch time with
it minus without it.
The two foreign keys (carrier, waybill) are no database constraints since waybills 0009: their
variants add them back instead, as Django declared them, NOT VALID on each leaf partition (the rows
already stored are not re-checked; each new row is), and report what they would cost.
Variants run interleaved, `repeats` times each in a rotating order after an uncounted warm-up
pass, so a neighbour's burst and a cold cache hit them alike.
"""
from __future__ import annotations

import json
import statistics
import time

from benchmarks._support import connect

TABLE = "waybills_trackingevent"
_INSERT = f"""
INSERT INTO {TABLE} (carrier_id, waybill_id, event_id, code, occurred_at, location, delivery_method,
                     proof_type, proof_url, note, received_at, late)
SELECT u.carrier_id, u.waybill_id, u.event_id, u.code, u.occurred_at, u.location, u.delivery_method,
       u.proof_type, u.proof_url, u.note, now(), false
FROM jsonb_to_recordset(%s::jsonb)
     AS u(carrier_id bigint, waybill_id bigint, event_id text, code text, occurred_at timestamptz, location text,
          delivery_method text, proof_type text, proof_url text, note text)
"""  # noqa: S608 - our own table name


def pieces(cursor) -> list[tuple[str, str, str]]:
    """(label, kind, name) of each index (primary key aside: claims reference it) and foreign key of
    the events table; on a partitioned table, the parent's (dropping it drops the partitions')."""
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname
           FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY 1""",
        [TABLE],
    )
    found = []
    for index, definition, constraint in cursor.fetchall():
        columns = definition[definition.index("(") + 1:definition.rindex(")")]
        label = f"{'unique ' if ' UNIQUE ' in definition else ''}index ({columns})"
        found.append((label, "constraint" if constraint else "index", constraint or index))
    cursor.execute(
        """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname""",
        [TABLE],
    )
    for name, definition in cursor.fetchall():
        found.append((f"foreign key {definition.split(' REFERENCES ')[0].removeprefix('FOREIGN KEY ')} → "
                      f"{definition.split(' REFERENCES ')[1].split('(')[0]}", "constraint", name))
    return found


# The checks waybills 0009 dropped, to measure what keeping them would cost: (label, column, table).
DROPPED_FOREIGN_KEYS = [
    ("foreign key (carrier_id) → carriers_carrier", "carrier_id", "carriers_carrier"),
    ("foreign key (waybill_id) → waybills_waybill", "waybill_id", "waybills_waybill"),
]


def _leaves(cursor) -> list[str]:
    cursor.execute("SELECT relid::text FROM pg_partition_tree(%s) WHERE isleaf", [TABLE])
    return [name for name, in cursor.fetchall()] or [TABLE]


def _add_back(cursor, column: str, target: str) -> None:
    """The dropped foreign key, DEFERRABLE as Django made it, on every leaf: PostgreSQL refuses a NOT
    VALID foreign key on a partitioned parent, and a valid one would re-check every stored row."""
    for number, leaf in enumerate(_leaves(cursor)):
        cursor.execute(f'ALTER TABLE "{leaf}" ADD CONSTRAINT "probe_{column}_{number}" FOREIGN KEY ({column}) '  # noqa: S608
                       f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED NOT VALID")


def _change(cursor, kind: str, name: str) -> None:
    """A variant's change: drop an index or constraint, or (add_fk) add a dropped foreign key back."""
    if kind == "add_fk":
        column, target = name.split(" ")
        _add_back(cursor, column, target)
        return
    if kind == "constraint":
        cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')  # noqa: S608 - names read from the catalog
    else:
        cursor.execute(f"DROP INDEX {name}")  # noqa: S608 - a regclass text from the catalog


def measure(url: str, batches: list[list[dict]], *, repeats: int) -> dict:
    """Median ms per batch with everything, and what dropping each piece (and all of them) saves."""
    conn = connect(url)
    documents = [json.dumps(rows, ensure_ascii=False) for rows in batches]
    with conn.cursor() as cursor:
        found = pieces(cursor)
    conn.rollback()
    present = {label for label, _, _ in found}
    variants = [("everything", [])] + [(label, [(kind, name)]) for label, kind, name in found]
    variants.append(("primary key only", [(kind, name) for _, kind, name in found]))
    added = [(label, "add_fk", f"{column} {target}") for label, column, target in DROPPED_FOREIGN_KEYS
             if label not in present]
    variants += [(f"with {label}", [(kind, name)]) for label, kind, name in added]
    times: dict[str, list[float]] = {label: [] for label, _ in variants}
    warm_up = [("warm-up", [])]  # the first pass reads the indexes' right edges into the cache: not counted
    for repeat in range(repeats):
        order = variants[repeat % len(variants):] + variants[:repeat % len(variants)]  # rotating: none is always first
        for label, changes in warm_up + order if repeat == 0 else order:
            with conn.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '30s'")
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit, which
                # these transactions never reach. Immediate, each statement pays its own checks.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for kind, name in changes:
                    _change(cursor, kind, name)
                for document in documents:
                    started = time.perf_counter()
                    cursor.execute(_INSERT, [document])
                    times.setdefault(label, []).append((time.perf_counter() - started) * 1000)
            conn.rollback()
    conn.close()
    medians = {label: statistics.median(times[label]) for label, _ in variants}
    base = medians["everything"]
    rows = len(batches[0]) if batches else 0
    print(f"insert cost by piece ({len(batches)} batches of {rows} rows x {repeats}, rolled back; median ms per batch):",
          flush=True)
    print(f"  everything: {base:.1f} ms", flush=True)
    for label, changes in variants[1:]:
        if changes[0][0] == "add_fk":
            cost = medians[label] - base
            print(f"  {label} (dropped in waybills 0009, added back): {medians[label]:.1f} ms "
                  f"(would cost {cost:+.1f} ms, {cost / base:+.0%})", flush=True)
            continue
        name = f"without {label}" if len(changes) == 1 else f"{label} (all of the above dropped)"
        saved = base - medians[label]
        print(f"  {name}: {medians[label]:.1f} ms (saves {saved:+.1f} ms, {saved / base:+.0%})", flush=True)
    return {"batch_rows": rows, "batches": len(batches), "repeats": repeats, "median_ms": medians,
            "pieces": [label for label, _, _ in found], "added_back": [label for label, _, _ in added]}
