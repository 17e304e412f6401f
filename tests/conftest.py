"""Shared fixtures; the suite stops at once, with one line, when a service it needs is down."""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

SERVICES = {
    "PostgreSQL": (
        "DATABASE_URL",
        "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "Redis": (
        "REDIS_URL",
        'start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    ),
}


def _reachable(url: str) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    if port is None:
        return True, ""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def _allow_emptying_the_test_database(sender, connection, **kwargs) -> None:
    """Transactional tests end with a flush (TRUNCATE of every table); the ledger's trigger
    refuses TRUNCATE unless the session says it is maintenance (orders/migrations/0005_ledger_refuses_truncate.py)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET yinzunda.ledger_maintenance = 'on'")


connection_created.connect(_allow_emptying_the_test_database)


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings  # settings module sets the URL defaults

    settings.DATABASES  # noqa: B018 - force settings import
    for name, (variable, hint) in SERVICES.items():
        ok, where = _reachable(os.environ[variable])
        if not ok:
            pytest.exit(f"{name} is not reachable at {where}; {hint}", returncode=3)




@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture
def carrier(db):
    from tests.factories import CarrierFactory

    return CarrierFactory()


@pytest.fixture
def merchant(db):
    from tests.factories import MerchantFactory

    return MerchantFactory()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in English must not leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session", autouse=True)
def _test_database_dropped_at_the_end(django_db_setup, django_db_blocker):
    """The shared PostgreSQL keeps no test database after a run: a session some test left open
    (a live-server thread, a subprocess that outlived its test) would make the drop fail with
    "being accessed by other users" and leave the database behind; they are ended first."""
    yield
    with django_db_blocker.unblock():
        # Only when the connection points at the test database (a run of tests that never touch
        # the database leaves it on the configured name, which may not exist here).
        on_test_database = connection.settings_dict["NAME"] == connection.settings_dict["TEST"]["NAME"]
        if connection.vendor == "postgresql" and on_test_database:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
