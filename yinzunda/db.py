"""Database helpers the services share."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def commit_without_waiting_for_disk() -> None:
    """This transaction's COMMIT does not wait for its WAL to reach disk (PostgreSQL's
    `synchronous_commit = off`, for this transaction only).

    Only for work that is safe to redo: a database crash can lose the last few hundred
    milliseconds of such commits, never corrupt them, and the work's outbox row (not done, as
    it committed in the same transaction) is published again by the sweep. The buyer's
    complaint itself is stored with a normal, durable commit before anyone is answered.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@contextmanager
def index_lookups_only() -> Iterator[None]:
    """Run the joins inside as index look-ups (nested loops), never hash or merge joins.

    For a page that walks *one merchant's* rows: left to itself PostgreSQL may hash-join them
    against a sequential scan of every merchant's waybills or purchases, so the page would slow
    down as other merchants grow. Walking the merchant's own rows (index
    `order_merchant_recent`) and looking each related row up by its unique key keeps the work
    proportional to what the page shows. The previous settings are restored on the way out
    (inside an enclosing transaction a SET LOCAL would otherwise outlive this block).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),"
            " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
        )
        hashjoin, mergejoin, *_ = cursor.fetchone()
        yield
        cursor.execute(
            "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_mergejoin', %s, true)",
            [hashjoin, mergejoin],
        )
