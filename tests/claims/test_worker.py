"""Exactly-once routing with a real Redis and a real Celery worker: kills and broker outages.

Each test starts its own throwaway redis-server on a free port (never the shared 6379) and
worker subprocesses against the pytest database (committed data: transactional tests).
"""
from __future__ import annotations

import os
import signal
import time

import pytest
from django.db.models import Count

from claims import tasks
from claims.models import Claim, Complaint
from claims.services.complaints import complaint_file
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.support.processes import Redis, Worker, publishing_to, wait_for
from yinzunda.requestid import request_id_bound

__all__ = ["Redis", "Worker", "publishing_to", "wait_for"]  # also used by tests/carriers/test_webhooks_worker.py

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


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


def test_a_worker_logs_each_task_with_the_request_id_that_caused_it(tmp_path):
    (waybill,) = yinzunda_parcels_at_station(1)
    redis, worker = Redis(tmp_path), None
    try:
        redis.start()
        worker = Worker(redis, tmp_path / "worker.log")
        with publishing_to(redis.url), request_id_bound("buyer-req-7"):
            complaint_file(order=waybill.order, complaint_type="locker_without_consent")
        wait_for(all_routed, 30, "routing")
        wait_for(lambda: "complaint_route done" in (tmp_path / "worker.log").read_text(), 10, "the log line")
    finally:
        if worker:
            worker.kill9()
        redis.stop()
    lines = (tmp_path / "worker.log").read_text().splitlines()
    routed = [line for line in lines if "claims.tasks.complaint_route done" in line]
    assert len(routed) == 1 and "[buyer-req-7]" in routed[0], routed
    assert any(" ready." in line for line in lines)  # `-l info` still shows the worker's own lines
