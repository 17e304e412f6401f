"""Throwaway services for worker and fault tests: redis-server, Celery workers, a PostgreSQL
cluster, all on free ports (never the shared 6379/5432), and helpers to wait and publish."""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from yinzunda import outbox
from yinzunda.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
QUEUES = "urgent,celery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Redis:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for(lambda: port_open(self.port), 10, "redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def database_url(db: dict | None = None) -> str:
    db = db or settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    def __init__(self, redis: Redis, log: Path, pool: str = "solo", delay: float = 0, marker: Path | None = None,
                 queues: str = QUEUES, database: str | None = None, concurrency: int = 1):
        env = {
            **os.environ,
            "DATABASE_URL": database or database_url(),
            "REDIS_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ROUTING_TEST_DELAY": str(delay),
            "ROUTING_TEST_MARKER": str(marker or ""),
        }
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.worker_hook", "-A", "yinzunda", "worker", "-l", "info", "-Q", queues,
             "--pool", pool, "--concurrency", str(concurrency), "--without-mingle", "--without-gossip",
             "-n", f"w{log.stem}@%h"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(lambda: "ready." in log.read_text() or self.proc.poll() is not None, 30, "worker ready")
        assert self.proc.poll() is None, log.read_text()[-2000:]

    def kill9(self) -> None:
        """SIGKILL the whole worker (parent and pool children): no cleanup, no ack."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def publishing_to(url: str):
    """Point this process's Celery producer at the throwaway broker, and back afterwards."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager

    def reset_pools():
        # Drop this app's references only: the pools live in kombu's process-wide registry,
        # keyed by broker URL, and closing one would break every later publish to that URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_pools()
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    outbox._broker_down_until = 0
    try:
        yield
    finally:
        reset_pools()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
        outbox._broker_down_until = 0


def _as_postgres():
    """preexec_fn: drop to the postgres user (initdb refuses root)."""
    user = pwd.getpwnam("postgres")
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb/pg_ctl from `pg_config --bindir`) on a free port."""

    def __init__(self, base: Path) -> None:
        self.bindir = Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())
        self.port = free_port()
        self.dir = base / "pgdata"
        self.socket_dir = base / "pgsock"
        for path in (base, self.dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            shutil.chown(path, "postgres", "postgres")
        self.log = base / "postgres.log"
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, preexec_fn=_as_postgres, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.dir), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-w", "-t", "30", "-o",
            f"-p {self.port} -k {self.socket_dir} -h 127.0.0.1 -c fsync=off -c full_page_writes=off", "start",
        )

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir), "-m", mode, "-w", "stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"
