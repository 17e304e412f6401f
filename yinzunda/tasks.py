"""Kernel tasks: the outbox runner, its sweep and purge."""
from __future__ import annotations

from celery import shared_task

from . import outbox


@shared_task(acks_late=True)
def outbox_run(message_id: int, task_name: str | None = None) -> str:
    """Run one outbox message once (published after commit and by the sweep)."""
    return outbox.outbox_message_run(message_id, task_name)


@shared_task
def outbox_sweep() -> int:
    """Beat: publish again every outbox message that is due and not done."""
    return outbox.outbox_sweep()


@shared_task
def outbox_purge() -> int:
    """Beat: forget outbox rows done a week ago and expired fallback rate counters."""
    return outbox.outbox_purge()
