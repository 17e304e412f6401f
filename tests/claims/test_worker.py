"""Exactly-once routing with a real Redis and a real Celery worker: kills and broker outages.

Each test starts its own throwaway redis-server on a free port (never the shared 6379) and
worker subprocesses against the pytest database (committed data: transactional tests).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from claims import tasks
from claims.models import Claim, Complaint
from claims.services.complaints import complaint_file
from tests.claims.test_routing import deliver, yinzunda_waybill
from yinzunda.celery import app as celery_app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        wait_for(self._up, 10, "redis-server")

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Worker:
    def __init__(self, redis: Redis, log: Path, pool: str = "solo", delay: float = 0, marker: Path | None = None):
        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ROUTING_TEST_DELAY": str(delay),
            "ROUTING_TEST_MARKER": str(marker or ""),
        }
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.claims.worker_hook", "-A", "yinzunda", "worker", "-l", "info",
             "--pool", pool, "--concurrency", "1", "--without-mingle", "--without-gossip", "-n", f"w{log.stem}@%h"],
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
    try:
        yield
    finally:
        reset_pools()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved


def yinzunda_parcels_at_station(n: int):
    waybills = []
    for _ in range(n):
        waybill = yinzunda_waybill()
        deliver(waybill, "station")
        waybills.append(waybill)
    return waybills


def assert_routed_exactly_once(expected: int) -> None:
    assert Complaint.objects.count() == expected
    assert not Complaint.objects.filter(status=Complaint.Status.RECEIVED).exists()
    assert Complaint.objects.filter(status=Complaint.Status.CLAIM_OPENED).count() == expected
    assert Claim.objects.count() == expected
    assert not Claim.objects.values("complaint").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert all(claim.transitions.count() == 1 for claim in Claim.objects.all())


def all_routed() -> bool:
    return not Complaint.objects.filter(status=Complaint.Status.RECEIVED).exists()


def test_killed_pool_process_mid_routing_is_requeued_and_routed_once(tmp_path):
    redis, worker = Redis(tmp_path), None
    marker = tmp_path / "routing.pid"
    try:
        redis.start()
        worker = Worker(redis, tmp_path / "prefork.log", pool="prefork", delay=30, marker=marker)
        (waybill,) = yinzunda_parcels_at_station(1)
        with publishing_to(redis.url):
            complaint = complaint_file(order=waybill.order, complaint_type="not_to_door")
        # given the routing task is running (it holds the complaint row lock)
        child = int(wait_for(lambda: marker.exists() and marker.read_text(), 20, "routing to start"))
        assert child != worker.proc.pid
        # when its pool process is killed -9
        os.kill(child, signal.SIGKILL)
        # then the worker requeues the unacknowledged task and routes it, once
        wait_for(all_routed, 30, "requeued routing")
        assert_routed_exactly_once(1)
        assert Complaint.objects.get().pk == complaint.pk
        assert "WorkerLostError" in (tmp_path / "prefork.log").read_text()
    finally:
        if worker:
            worker.kill9()
        redis.stop()


def test_worker_killed_mid_routing_loses_nothing_and_pays_once(tmp_path):
    redis, workers = Redis(tmp_path), []
    marker = tmp_path / "routing.pid"
    try:
        redis.start()
        workers.append(Worker(redis, tmp_path / "first.log", delay=30, marker=marker))
        waybills = yinzunda_parcels_at_station(6)
        with publishing_to(redis.url):
            for waybill in waybills:
                complaint_file(order=waybill.order, complaint_type="locker_without_consent")
            wait_for(marker.exists, 20, "routing to start")
            # when the whole worker is killed -9 in the middle of routing the first complaint
            workers[0].kill9()
            assert Complaint.objects.filter(status=Complaint.Status.RECEIVED).count() == 6
            workers.append(Worker(redis, tmp_path / "second.log"))
            # the unacknowledged task waits for the broker's visibility timeout (300 s);
            # the sweep is what recovers it now
            wait_for(lambda: Complaint.objects.filter(status=Complaint.Status.RECEIVED).count() <= 1, 30, "queue drained")
            assert tasks.complaints_sweep_unrouted(older_than_seconds=0) >= 1
            wait_for(all_routed, 30, "swept complaint routed")
            # a sweep that races a routed complaint changes nothing
            tasks.complaints_sweep_unrouted(older_than_seconds=0)
        assert_routed_exactly_once(6)
    finally:
        for worker in workers:
            worker.kill9()
        redis.stop()


def test_broker_outage_while_filing_loses_no_complaint(tmp_path, caplog):
    redis, worker = Redis(tmp_path), None
    try:
        redis.start()
        worker = Worker(redis, tmp_path / "worker.log")
        waybills = yinzunda_parcels_at_station(6)
        with publishing_to(redis.url):
            complaint_file(order=waybills[0].order, complaint_type="not_to_door")
            wait_for(all_routed, 20, "normal routing")
            # when Redis goes down while buyers file complaints
            redis.stop()
            for waybill in waybills[1:]:
                started = time.monotonic()
                complaint = complaint_file(order=waybill.order, complaint_type="not_to_door")
                # then each complaint is committed and the buyer answered promptly
                assert time.monotonic() - started < 5
                assert Complaint.objects.get(pk=complaint.pk).status == Complaint.Status.RECEIVED
            assert "sweep will route it" in caplog.text
            # when Redis comes back, the worker reconnects and the sweep routes the rest
            redis.start()
            wait_for(lambda: tasks.complaints_sweep_unrouted(older_than_seconds=0) == 0 or all_routed(), 10, "sweep")
            wait_for(all_routed, 40, "routing after the outage", interval=0.5)
        assert_routed_exactly_once(6)
    finally:
        if worker:
            worker.kill9()
        redis.stop()
