"""WSGI entry point (gunicorn yinzunda.wsgi)."""
import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinzunda.settings.base")
application = get_wsgi_application()
# Every view imported now, then the whole loaded application moved out of the collector's sight:
# a full collection no longer walks Django's hundreds of thousands of long-lived objects on each
# request that allocates enough to trigger one (a 1,000-event batch does: ~2 ms of a 20 ms
# batch; docs/PERFORMANCE.md). Nothing is leaked: frozen objects are the ones that live for
# the process anyway.
get_resolver().url_patterns  # noqa: B018 - imports the URLconf and its views
gc.freeze()
