"""Fault suite: a throwaway PostgreSQL cluster restarted while carriers push event batches.

The cluster (initdb/pg_ctl from `pg_config --bindir`, run as the postgres user) listens on a
free port, never the shared 5432; its schema is copied from the pytest database. gunicorn
serves the portal against it while two carrier clients push batches, retrying a 503 as the
API asks. Asserts: no 5xx but 503, every event stored exactly once, the time to catch up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.processes import ROOT, PostgresCluster, free_port, port_open, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.django_db]
BATCHES, BATCH_SIZE, CLIENTS = 24, 40, 2


def _psql_env() -> dict:
    return {**os.environ, "PGUSER": "postgres", "PGHOST": "127.0.0.1"}


def _copy_schema(cluster: PostgresCluster, name: str) -> None:
    bindir = cluster.bindir
    db = settings.DATABASES["default"]
    subprocess.run([str(bindir / "createdb"), "-p", str(cluster.port), name], check=True, env=_psql_env())
    dump = subprocess.run(
        [str(bindir / "pg_dump"), "-s", "-O", "-x", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], db["NAME"]],
        check=True, capture_output=True,
    ).stdout
    subprocess.run([str(bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-p", str(cluster.port), "-d", name],
                   input=dump, check=True, env=_psql_env(), stdout=subprocess.DEVNULL)


def _count(cluster: PostgresCluster, name: str, sql: str) -> int:
    out = subprocess.run([str(cluster.bindir / "psql"), "-tA", "-p", str(cluster.port), "-d", name, "-c", sql],
                         check=True, capture_output=True, text=True, env=_psql_env()).stdout
    return int(out.strip())


def test_postgresql_restart_during_event_batches_is_503_then_every_event_stored_once():
    base = Path(tempfile.mkdtemp(prefix="yz-fault-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres user must reach its data directory inside
    cluster = PostgresCluster(base)
    web = None
    try:
        cluster.init()
        cluster.start()
        _copy_schema(cluster, "yz_fault")
        env = {**os.environ, "DATABASE_URL": cluster.url("yz_fault"), "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "yinzunda.settings.base",
               "CELERY_TASK_ALWAYS_EAGER": "1", "LOG_LEVEL": "WARNING"}
        seeded = subprocess.run([sys.executable, "-m", "tests.support.fault_world", "20"], cwd=ROOT, env=env,
                                check=True, capture_output=True, text=True)
        world = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        web = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "yinzunda.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
             "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=(base / "web.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(lambda: port_open(port), 30, "gunicorn")

        statuses: list[int] = []
        lock = threading.Lock()
        progress = threading.Event()
        last_success = [0.0]

        def client(index: int) -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {world['token']}"
            for batch in range(index, BATCHES, CLIENTS):
                events = [{
                    "event_id": f"b{batch}-e{i}", "waybill_number": world["numbers"][i % len(world["numbers"])],
                    "code": "ARRIVED_AT_HUB", "occurred_at": datetime.now(UTC).isoformat(), "location": "杭州转运中心",
                } for i in range(BATCH_SIZE)]
                while True:  # a carrier retries a 503 (and a refused connection) after Retry-After
                    try:
                        response = session.post(f"http://127.0.0.1:{port}/api/v1/carrier/events", json={"events": events}, timeout=30)
                    except requests.ConnectionError:
                        time.sleep(0.5)
                        continue
                    with lock:
                        statuses.append(response.status_code)
                    if response.status_code == 200:
                        last_success[0] = time.monotonic()
                        progress.set()
                        break
                    time.sleep(min(float(response.headers.get("Retry-After", 1)), 1.0))
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        wait_for(progress.is_set, 30, "the first batch")
        # when PostgreSQL restarts in the middle of the batches
        cluster.stop("fast")
        time.sleep(2)
        cluster.start()
        back = time.monotonic()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)

        server_errors = [s for s in statuses if s >= 500 and s != 503]
        assert not server_errors, (statuses, (base / "web.log").read_text()[-3000:])
        stored = _count(cluster, "yz_fault", "select count(*) from waybills_trackingevent")
        assert stored == BATCHES * BATCH_SIZE  # nothing lost, nothing twice (event ids are unique)
        print(f"\nPostgreSQL restart: {statuses.count(503)} answers 503 during the outage, "
              f"{statuses.count(200)} batches stored; last batch {last_success[0] - back:.1f} s after the restart")
        assert "Traceback" not in (base / "web.log").read_text()
    finally:
        if web is not None:
            web.terminate()
            web.wait(10)
        cluster.stop("immediate")
        subprocess.run(["rm", "-rf", str(base)], check=False)
