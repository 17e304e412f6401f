"""Rollup tables kept exact by PostgreSQL statement triggers: the SQL the migrations install.

A rollup is a table of sums keyed by a few columns (merchant, day, ...); a figure is the SUM of
the rows of its key. Each figure comes from *facts*: SELECTs over the source tables that yield
one row of (keys..., amounts...) per contributing row. A statement that inserts, updates or
deletes rows of one source table appends to the rollup the facts of the rows it wrote (with the
other tables as they stand: one statement writes one table) minus the facts of the rows it
replaced, in the same transaction, so the rollup equals the full computation at every commit,
whatever code path wrote the rows (services, admin, bulk COPY).

Deltas are *appended*, never upserted: concurrent writers of the same merchant and day never
wait for each other or deadlock on a shared row (an upsert would hold the merchant's row of the
day until commit, and lock it in whatever order the transaction's statements came).
`compact_sql` folds each key's rows back into one, every few minutes (claims.tasks.rollups_compact):
in one statement, so a reader's snapshot sees either the deltas or their sum, never both.
Statement-level triggers with transition tables aggregate a 100,000-row COPY into one insert per
key; an UPDATE that changes none of the watched columns writes nothing (and costs one hash
join of its transition tables).

Joins inside the trigger functions run as index look-ups (hash and merge joins off for the
function only), so the work is proportional to the rows written, never to the tables.
"""
# ruff: noqa: S608 - SQL assembled from the migrations' constant table and column names, never input
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection


def rollups_kept() -> bool:
    """The triggers exist on PostgreSQL only: elsewhere (the SQLite first run) readers compute
    their figures from the rows themselves."""
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Source:
    """A table whose writes change the rollup: its placeholder in the facts, the expressions
    (over alias `{t}`) whose change matters on UPDATE, and the operations to watch."""

    table: str
    watched: tuple[str, ...] = ()
    ops: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Rollup:
    name: str  # prefix of the trigger functions
    table: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    facts: tuple[str, ...]  # SELECT templates: {placeholder} per source table, {sign} = 1 or -1
    sources: dict[str, Source] = field(default_factory=dict)

    def _facts(self, rows: dict[str, str], sign: int, only: str | None = None) -> list[str]:
        tables = {placeholder: source.table for placeholder, source in self.sources.items()} | rows
        return [
            fact.format(sign=sign, **tables) for fact in self.facts if only is None or "{" + only + "}" in fact
        ]

    def _insert(self, selects: list[str]) -> str:
        keys, sums = ", ".join(self.keys), ", ".join(self.sums)
        union = "\n    UNION ALL\n    ".join(selects)
        return (
            f"INSERT INTO {self.table} ({keys}, {sums})\n"
            f"SELECT {keys}, {_totals(self.sums)} FROM (\n    {union}\n) AS facts ({keys}, {sums})\n"
            f"GROUP BY {keys} HAVING {_nonzero(self.sums)}"
        )

    def backfill_sql(self) -> str:
        """Recompute the whole rollup from the source tables (migration backfill)."""
        return f"DELETE FROM {self.table};\n" + self._insert(self._facts({}, 1)) + ";"

    def create_sql(self) -> str:
        """The trigger functions and triggers (CREATE OR REPLACE: a later migration re-runs it
        to install a newer body)."""
        parts = []
        for placeholder, source in self.sources.items():
            bodies = {
                "INSERT": ("NEW TABLE AS new_rows", self._body(self._facts({placeholder: "new_rows"}, 1, placeholder))),
                "DELETE": ("OLD TABLE AS old_rows", self._body(self._facts({placeholder: "old_rows"}, -1, placeholder))),
                "UPDATE": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", self._update_body(placeholder, source)),
            }
            for op in source.ops:
                referencing, body = bodies[op]
                function = f"{self.name}_{source.table}_{op.lower()}"
                parts.append(
                    f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql\n"
                    f"SET enable_hashjoin = off SET enable_mergejoin = off AS $$\n{body}\n$$;\n"
                    f"CREATE OR REPLACE TRIGGER {function} AFTER {op} ON {source.table}\n"
                    f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
                )
        return "\n".join(parts)

    def _body(self, selects: list[str]) -> str:
        return f"BEGIN\n{self._insert(selects)};\nRETURN NULL;\nEND;"

    def _update_body(self, placeholder: str, source: Source) -> str:
        """Only the rows whose watched columns changed count, old facts out and new ones in. They
        are paired by id in one hash join of the two transition tables (with hash joins off, as
        for the rest of the function, that join is a nested loop: quadratic in the rows updated,
        12 ms of a 1,000-scan batch's 370 status moves), kept in two arrays; an UPDATE that
        changed no watched column (a scan moving a status) stops there."""
        changed = " OR ".join(
            f"({w.format(t='o')}) IS DISTINCT FROM ({w.format(t='n')})" for w in source.watched
        ) or "FALSE"
        selects = (self._facts({placeholder: "(SELECT * FROM unnest(old_changed))"}, -1, placeholder)
                   + self._facts({placeholder: "(SELECT * FROM unnest(new_changed))"}, 1, placeholder))
        return (
            f"DECLARE\n    old_changed {source.table}[];\n    new_changed {source.table}[];\nBEGIN\n"
            "SET LOCAL enable_hashjoin = on;\n"  # restored at the function's exit (its SET clause)
            f"SELECT array_agg(o), array_agg(n) INTO old_changed, new_changed\n"
            f"FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed};\n"
            "SET LOCAL enable_hashjoin = off;\n"
            "IF old_changed IS NULL THEN\n    RETURN NULL;\nEND IF;\n"
            f"{self._insert(selects)};\nRETURN NULL;\nEND;"
        )

    def drop_sql(self) -> str:
        parts = []
        for source in self.sources.values():
            for op in source.ops:
                function = f"{self.name}_{source.table}_{op.lower()}"
                parts.append(f"DROP TRIGGER IF EXISTS {function} ON {source.table};")
                parts.append(f"DROP FUNCTION IF EXISTS {function}();")
        return "\n".join(parts)


def _totals(sums) -> str:
    return ", ".join(f"SUM({s})" for s in sums)


def _nonzero(sums) -> str:
    return " OR ".join(f"SUM({s}) <> 0" for s in sums)


def compact_sql(*, table: str, keys: tuple[str, ...], sums: tuple[str, ...]) -> str:
    """One statement folding every key with several delta rows into one row (dropping keys whose
    figures sum to zero). Concurrent inserts are untouched (not in this statement's snapshot)."""
    names = ", ".join((*keys, *sums))
    key_list = ", ".join(keys)
    match = " AND ".join(f"t.{k} = d.{k}" for k in keys)
    return (
        f"WITH dup AS (SELECT {key_list} FROM {table} GROUP BY {key_list} HAVING COUNT(*) > 1),\n"
        f"moved AS (DELETE FROM {table} t USING dup d WHERE {match} RETURNING {', '.join('t.' + n for n in (*keys, *sums))})\n"
        f"INSERT INTO {table} ({names})\n"
        f"SELECT {key_list}, {_totals(sums)} FROM moved GROUP BY {key_list} HAVING {_nonzero(sums)}"
    )


def utc_day(column: str) -> str:
    """SQL: the UTC date of a timestamptz column (rollup days never depend on TIME_ZONE)."""
    return f"(({column}) AT TIME ZONE 'UTC')::date"
