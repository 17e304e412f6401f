"""Test-only Celery worker entry point: `python -m tests.support.worker_hook worker -A yinzunda ...`.

With ROUTING_TEST_DELAY and ROUTING_TEST_MARKER set, the first routing run (per marker file)
records its pid in the marker and sleeps inside the routing transaction, so a test can
`kill -9` the worker mid-routing. With YINZUNDA_TEST_LOCAL_WEBHOOK_RECEIVERS set, webhooks may
reach the tests' local http receivers. Nothing in the product reads these variables.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _install_delay() -> None:
    delay = float(os.environ.get("ROUTING_TEST_DELAY", "0"))
    marker = os.environ.get("ROUTING_TEST_MARKER")
    if not delay or not marker:
        return
    from claims import routing

    original = routing.route_complaint

    def slow_route_complaint(**kwargs):
        path = Path(marker)
        if not path.exists():
            path.write_text(str(os.getpid()))
            time.sleep(delay)
        return original(**kwargs)

    routing.route_complaint = slow_route_complaint


def _allow_local_webhook_receivers() -> None:
    """YINZUNDA_TEST_LOCAL_WEBHOOK_RECEIVERS=1: webhooks may go to plain-http receivers on loopback."""
    if os.environ.get("YINZUNDA_TEST_LOCAL_WEBHOOK_RECEIVERS"):
        from django.conf import settings

        settings.YINZUNDA_WEBHOOK_ALLOW_HTTP = True
        settings.YINZUNDA_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinzunda.settings.base")
    django.setup()
    _install_delay()
    _allow_local_webhook_receivers()
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", *sys.argv[1:]]
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
