"""What the benchmark modules share: a private PostgreSQL database and a server on a free port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse, urlunparse


def bench_database_url(*, suffix: str, module: str) -> str:
    """DATABASE_URL's database name + suffix: the bench never touches your data."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yinzunda")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"{module} needs PostgreSQL (DATABASE_URL=postgres://...)")
    name = (parsed.path.lstrip("/") or "yinzunda") + suffix
    return urlunparse(parsed._replace(path="/" + name))


def dsn(url: str) -> dict:
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1", "port": parsed.port or 5432,
        "user": parsed.username or "postgres", "password": parsed.password or None,
        "dbname": parsed.path.lstrip("/"),
    }


def database_ensure(url: str) -> None:
    """Create the database named by url if it does not exist yet."""
    import psycopg2

    params = dsn(url)
    admin = psycopg2.connect(**{**params, "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [params["dbname"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{params["dbname"]}"')
    admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the server accepts connections; exit if it died or never came up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start")
