"""Enqueue a Celery task after the surrounding transaction commits, by the task's name.

Services name the task instead of importing it, so a service never imports a tasks module
(the tasks import the services). A failed publish is logged, never raised to the caller:
each task's periodic sweep picks up the rows left waiting.
"""
from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_publish(name: str, *args) -> bool:
    """Publish now; False (and a log line) when the broker refused it."""
    task = current_app.tasks.get(name)
    if task is None:  # tasks modules are discovered lazily: load them before the first publish
        current_app.loader.import_default_modules()
        task = current_app.tasks[name]
    try:
        task.apply_async(args, retry=True, retry_policy={"max_retries": 1, "interval_start": 0.1})
    except Exception:  # the broker is down: the sweep of this task's rows catches up
        logger.exception("task %s%r not enqueued (broker down): the sweep will route it later", name, args)
        return False
    return True


def task_enqueue_on_commit(name: str, *args) -> None:
    transaction.on_commit(lambda: task_publish(name, *args))
