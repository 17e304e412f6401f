"""What the benchmark modules share: options, a private PostgreSQL database, COPY, servers on free ports.

Every bench names its database after DATABASE_URL's (`<name>_bench_<bench>`, `..._smoke` at
smoke size), so it never touches your data and two checkouts with their own DATABASE_URL
never meet. Servers, workers and throwaway redis-servers run in their own process groups and
are killed with them when the bench ends, whatever way it ends.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
COPY_CHUNK = 100_000


# --- options -------------------------------------------------------------------------------------


def options_parse(parser: argparse.ArgumentParser, argv: list[str], *, smoke: dict) -> argparse.Namespace:
    """Parse a bench's options; `--smoke` swaps in the tiny defaults `smoke` (explicit options still win)."""
    parser.add_argument("--smoke", action="store_true", help="tiny size: checks the bench runs, measures nothing")
    if "--smoke" in argv:
        parser.set_defaults(**smoke)
    args, _ = parser.parse_known_args(argv)
    return args


# --- database --------------------------------------------------------------------------------------


def bench_database_url(*, suffix: str, module: str, smoke: bool = False) -> str:
    """DATABASE_URL's database name + suffix (+ `_smoke`): the bench never touches your data."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yinzunda")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"{module} needs PostgreSQL (DATABASE_URL=postgres://...)")
    name = (parsed.path.lstrip("/") or "yinzunda") + suffix + ("_smoke" if smoke else "")
    return urlunparse(parsed._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def dsn(url: str) -> dict:
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1", "port": parsed.port or 5432,
        "user": parsed.username or "postgres", "password": parsed.password or None,
        "dbname": parsed.path.lstrip("/"),
    }


def connect(url: str):
    """A psycopg2 connection to the database named by url."""
    return psycopg2.connect(**dsn(url))


def _admin(url: str):
    admin = psycopg2.connect(**{**dsn(url), "dbname": "postgres"})
    admin.autocommit = True
    return admin


def database_ensure(url: str) -> None:
    """Create the database named by url if it does not exist yet."""
    name = database_name(url)
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def database_drop(url: str) -> None:
    """Drop the database named by url (and its leftover connections) if it exists."""
    admin = _admin(url)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    admin.close()


@contextlib.contextmanager
def bench_database(url: str, *, smoke: bool) -> Iterator[str]:
    """The bench's database, migrated. At smoke size it starts empty and is dropped afterwards."""
    if smoke:
        database_drop(url)  # a crashed earlier smoke run must not leave rows behind
    database_ensure(url)
    try:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base"}
        subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        yield url
    finally:
        if smoke:
            database_drop(url)


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_line(row: Iterable) -> str:
    return "\t".join(copy_text(v) for v in row) + "\n"


def copy_rows(cursor, table: str, columns: list[str], rows: Iterable[Iterable]) -> int:
    """COPY rows into a table, COPY_CHUNK rows at a time; returns how many were written."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
    count, buffer = 0, io.StringIO()
    for row in rows:
        buffer.write(copy_line(row))
        count += 1
        if count % COPY_CHUNK == 0:
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)
            buffer = io.StringIO()
    if buffer.tell():
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
    return count


# --- processes ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60, what: str = "gunicorn") -> None:
    """Until the server accepts connections; exit if it died or never came up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited early")
        if port_open(port):
            return
        time.sleep(0.2)
    sys.exit(f"{what} did not start")


class Processes:
    """Servers and workers of one bench run, each in its own process group; `with` stops them all."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], *, env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
        out = log.open("w") if log else subprocess.DEVNULL
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter, gunicorn, celery, redis-server
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(proc)
        return proc

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.started]

    def _signal(self, proc: subprocess.Popen, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM every group (gunicorn and celery shut their children down), SIGKILL what stays."""
        for proc in self.started:
            self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in self.started:
            self._signal(proc, signal.SIGKILL)  # the group: pool children the parent left behind
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def events_post(port: int, token: str, body: bytes) -> dict:
    """One POST /api/v1/carrier/events; its JSON answer (anything but 200 raises)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/api/v1/carrier/events", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
    return json.loads(payload)


def events_post_all(port: int, jobs: list[tuple[str, bytes]], concurrency: int,
                    on_answer: Callable[[int, dict], None] | None = None) -> tuple[float, int]:
    """POST every (token, body) of `jobs`, in order, from `concurrency` threads; (seconds, events
    accepted). `on_answer(index, answer)` runs as each is answered; what it (or a POST) raises stops
    the threads and is raised here."""
    queue = list(reversed(range(len(jobs))))
    lock = threading.Lock()
    accepted = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                if not queue or errors:
                    return
                index = queue.pop()
            try:
                result = events_post(port, *jobs[index])
                if on_answer is not None:
                    on_answer(index, result)
            except BaseException as exc:  # noqa: BLE001 - raised below
                errors.append(exc)
                return
            with lock:
                accepted[0] += result["accepted"]

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, accepted[0]


def redis_server(processes: Processes) -> str:
    """A throwaway redis-server on a free port (never the shared one); its URL."""
    port = free_port()
    proc = processes.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", os.environ.get("TMPDIR", "/tmp")])  # noqa: S108
    wait_port(port, proc, timeout=10, what="redis-server")
    return f"redis://127.0.0.1:{port}/0"


def terminate_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so `finally` blocks stop servers and drop smoke databases."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


# --- figures -----------------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
