"""Celery tasks of the waybills app: thin wrappers around its services."""
from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def events_partitions_maintain() -> None:
    """Beat: tracking-event partitions ahead of now, retention (waybills.partitioning)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite (`make run`): one plain table
    from .partitioning import events_partitions_maintain as maintain  # imports psqlextra's models

    maintain()
