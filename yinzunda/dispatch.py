"""THE seam for side effects: `task_enqueue_on_commit(task_name, *args)` (and
`tasks_enqueue_many_on_commit` for many calls of one task at once).

Services name the task instead of importing it, so a service never imports a tasks module
(the tasks import the services). The call writes an outbox row in the caller's transaction
(see `yinzunda.outbox`): the side effect commits with the change or not at all. After commit
the row is published best-effort; a failed publish is logged, never raised to the caller, and
the beat sweep (`yinzunda.tasks.outbox_sweep`) publishes whatever is still not done.
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction

from . import metrics
from .models import OutboxMessage
from .outbox import outbox_publish, task_queue
from .requestid import current_request_id


def task_enqueue_on_commit(name: str, *args) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        task_name=name, args=list(args), queue=task_queue(name), request_id=current_request_id()
    )
    metrics.OUTBOX_WRITTEN.labels(name).inc()
    if getattr(settings, "YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT", True):
        published = [(message.pk, message.queue, name)]
        transaction.on_commit(lambda: outbox_publish(published), robust=True)
    return message


def tasks_enqueue_many_on_commit(name: str, args_list: list[tuple]) -> list[OutboxMessage]:
    """task_enqueue_on_commit for many calls of one task: one INSERT, one publish after commit."""
    if not args_list:
        return []
    request_id, queue = current_request_id(), task_queue(name)
    messages = OutboxMessage.objects.bulk_create([
        OutboxMessage(task_name=name, args=list(args), queue=queue, request_id=request_id) for args in args_list
    ])
    metrics.OUTBOX_WRITTEN.labels(name).inc(len(messages))
    if getattr(settings, "YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT", True):
        published = [(message.pk, message.queue, name) for message in messages]
        transaction.on_commit(lambda: outbox_publish(published), robust=True)
    return messages
