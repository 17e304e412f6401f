"""THE seam for side effects: `task_enqueue_on_commit(task_name, *args)`.

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
