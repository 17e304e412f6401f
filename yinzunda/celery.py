"""Celery application: configured from Django settings (CELERY_* names).

Workers log through Django's LOGGING (not Celery's own format), so every line a task writes
carries the request id of the request that caused it (bound by the outbox from its row), in
text or JSON (LOG_FORMAT) like the web processes; `celery worker -l <level>` still sets the level.
Database connections live across tasks as across requests (CONN_MAX_AGE, health checks).
"""
import logging
import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinzunda.settings.base")

app = Celery("yinzunda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(loglevel=None, **_kwargs) -> None:
    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@task_prerun.connect
@task_postrun.connect
def _database_connections(task=None, **_kwargs) -> None:
    """Around each task, what Django does around each request: keep the connection within
    CONN_MAX_AGE, drop one that broke (health-checked before its next use). Celery's own
    fixup would open a new PostgreSQL connection per task (CELERY_DB_REUSE_MAX defers it)."""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inline by its caller, inside the caller's transaction: not a worker's task
    close_old_connections()
