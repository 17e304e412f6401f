"""Database helpers the services share."""
from __future__ import annotations

from django.db import connection


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
