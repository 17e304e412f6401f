"""Celery application: configured from Django settings (CELERY_* names).

Workers log through Django's LOGGING (not Celery's own format), so every line a task writes
carries the request id of the request that caused it (bound by the outbox from its row), in
text or JSON (LOG_FORMAT) like the web processes; `celery worker -l <level>` still sets the level.
"""
import logging
import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging

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
