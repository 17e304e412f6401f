"""Every benchmark still runs: a schema or code change that breaks a bench fails here, not at the next measurement.

Each module of benchmarks.run.BENCHMARKS runs at `--smoke` size (a few seconds) exactly as
`make bench BENCH_ARGS="<bench> --smoke"` would, in a subprocess, on a database named after
this checkout's test database (`test_yinzunda_<checkout id>_bench_<bench>_smoke`), so two
checkouts on one machine never meet. The figures it reports are checked for behaviour
(nothing lost, rows counted), never for speed; afterwards its database and every process it
started (gunicorn, Celery worker, redis-server) must be gone.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
from django.conf import settings

from benchmarks import complaints, console, dashboard, events, festival, promises, watcher, waybills
from benchmarks.run import BENCHMARKS

pytestmark = pytest.mark.bench
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # a hung bench fails the test instead of blocking the suite


def _database_url() -> str:
    """The test database's URL: the smoke databases are named after it, so after this checkout."""
    parsed = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parsed._replace(path="/" + settings.DATABASES["default"]["TEST"]["NAME"]))


def _databases(url: str) -> set[str]:
    parsed = urlparse(url)
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password, dbname="postgres")
    with conn.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        names = {row[0] for row in cursor.fetchall()}
    conn.close()
    return names


def _living_in_group(pgid: int) -> list[int]:
    """Processes (zombies aside) still in the process group a bench started a server in."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _run(bench: str, tmp_path: Path, *options: str, env: dict | None = None) -> tuple[dict, str]:
    report = tmp_path / "figures.json"
    env = {**os.environ, "DATABASE_URL": _database_url(), "BENCH_LOG_DIR": str(tmp_path), **(env or {})}
    env.pop("REDIS_URL", None)  # a smoke bench never uses the shared Redis
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.run", bench, "--smoke", f"--report={report}", *options],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # the bench stops its servers and drops its database
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        pytest.fail(f"{bench} smoke run took over {TIMEOUT}s:\n{output[-3000:]}")
    assert proc.returncode == 0, f"{bench} smoke run failed:\n{output[-5000:]}"
    return json.loads(report.read_text())[f"benchmarks.{bench}"], output


def _events(figures: dict, output: str) -> None:
    size = events.SMOKE["batch_size"]
    assert figures["events_per_round"] == events.SMOKE["batches"] * size
    # Every event posted is stored once: warm-up and rounds through the API, the rounds again by COPY.
    assert figures["stored"] == {
        "api": (events.SMOKE["warmup"] + events.SMOKE["rounds"] * events.SMOKE["batches"]) * size,
        "copy": events.SMOKE["rounds"] * events.SMOKE["batches"] * size,
        "prefill": events.SMOKE["prefill"],
    }
    # Every batch moves real statuses: each waybill in it gets scans newer than its status, and
    # PostgreSQL counts one waybill row update per waybill per batch (a scan leg is 4 events).
    batches = events.SMOKE["warmup"] + events.SMOKE["rounds"] * events.SMOKE["batches"]
    assert figures["moved_per_batch"] == [size // 4] * (events.SMOKE["rounds"] * events.SMOKE["batches"])
    assert figures["waybill_updates"] == batches * size // 4
    assert set(figures["per_1000_events"]) == {"api", "copy"}
    assert "waybills_trackingevent_pkey" in figures["index_bytes"]
    assert figures["replay_stored"] == 0  # replayed batches are all duplicates
    assert figures["api_events_per_s"] > 0 and figures["copy_rows_per_s"] > 0
    assert "ratio : API / COPY" in output


def _complaints(figures: dict, output: str) -> None:
    posted = int(complaints.SMOKE["seconds"] * complaints.SMOKE["rate"])
    assert figures["posted"] == posted
    assert figures["non_302"] == 0
    # Every complaint opened exactly one claim, and the carrier saw each through the API.
    assert figures["claims_opened"] == posted
    assert figures["seen_in_api"] == posted and figures["missing"] == 0
    assert figures["p99_ms"] > 0
    assert "POST → claim in carrier API" in output
    # the backlog drained by one worker process first, every complaint routed
    assert figures["drain_routed"] == figures["drain"] == complaints.SMOKE["drain"]
    assert figures["cpu_ms_per_complaint"] > 0
    assert "routing throughput (one worker process" in output


def _dashboard(figures: dict, output: str) -> None:
    assert figures["orders"] == dashboard.SMOKE["orders"]
    # the measured shop is one of SMOKE["merchants"] of the same volume
    assert figures["all_orders"] == dashboard.SMOKE["orders"] * dashboard.SMOKE["merchants"]
    assert figures["claims"] > 0 and figures["notifications"] > 0
    assert len(figures["pages"]) == 14
    for label, page in figures["pages"].items():
        assert page["samples"] == dashboard.SMOKE["requests"], label
        assert page["cold_p95_ms"] > 0 and page["warm_p95_ms"] > 0, label
        assert f"| {label} |" in output


def _console(figures: dict, output: str) -> None:
    assert figures["waybills"] == console.SMOKE["waybills"]
    assert figures["claims"] == console.SMOKE["waybills"] // 10
    assert figures["rollup_rows"] == 5 * 2  # five carriers, this week and last week
    assert len(figures["pages"]) == 8
    for page in figures["pages"]:
        assert page["samples"] == console.SMOKE["requests"], page["page"]
        assert page["page"] in output


def _waybills(figures: dict, output: str) -> None:
    assert figures["issued"] == waybills.SMOKE["issue"] and figures["waybills_per_s"] > 0
    assert figures["label_pages"] == waybills.SMOKE["labels"] and figures["label_pages_per_s"] > 0
    assert figures["synced_waybills"] == waybills.SMOKE["sync"]
    assert len(figures["sync"]) == 6
    for label, query in figures["sync"].items():
        assert query["samples"] == waybills.SMOKE["requests"], label
        assert f"| {label} |" in output
def _promises(figures: dict, output: str) -> None:
    assert figures["waybills"] == promises.SMOKE["waybills"]
    assert figures["breaches"] == promises.SMOKE["waybills"] // promises.BREACH_EVERY
    # The sweep finds exactly the seeded breaches, opens one claim each, and a second sweep none.
    assert figures["exact"] and figures["claims_match"]
    assert figures["opened"] == figures["breaches"] and figures["rerun_opened"] == 0
    # Only the parcels whose next clock ran out are swept: here exactly those in breach.
    assert figures["due"] == figures["breaches"]
    assert figures["announced"] == figures["opened"]  # every claim told to its merchant
    assert "sweep :" in output and "full scan:" in output


def _watcher(figures: dict, output: str) -> None:
    # Each mix: the stream carries the breaches asked for, a real worker opens exactly one claim
    # per breach and no other, and its tasks ran (the worker log names them).
    size, batches = watcher.SMOKE["batch_size"], watcher.SMOKE["batches"]
    assert [m["mix"] for m in figures["mixes"]] == [0.03, 0.3]
    for mix in figures["mixes"]:
        assert mix["breaches"] == round(size * mix["mix"]) * batches
        assert mix["claims"] == mix["breaches"] and mix["one_per_breach"]
        assert mix["tasks"] >= batches and mix["claims_per_second"] > 0
    assert "claims/s (goal ≥ 500)" in output


def _festival(figures: dict, output: str) -> None:
    # The prefill was built, the hour replayed through the API and by COPY, and nothing lost or
    # doubled: every event stored once, one claim per breach and none elsewhere (the bench itself
    # exits non-zero otherwise; the figures say so too).
    assert figures["prefill"]["events"] == festival.SMOKE["prefill"]
    checks = figures["checks"]
    assert checks["ok"] and checks["failures"] == []
    assert checks["stored"] == checks["sent"] == checks["copied"] == figures["hour_events"]
    assert figures["hour_events"] >= festival.SMOKE["hour_events"]
    assert checks["replay_stored"] == 0 and checks["wrong_status"] == 0
    # Drops, held stations and missed return pickups of 音尊达 parcels: each breach is one claim.
    assert figures["breaches"] > 0 and checks["claims"] == checks["expected_claims"] == figures["breaches"]
    assert figures["latency"]["claims"] == figures["breaches"] and "p99_ms" in figures["latency"]
    assert {"premium_locker_drop", "premium_station_held", "premium_return_missed", "locker_drop"} <= set(figures["mix"])
    assert figures["api_events_per_s"] > 0 and figures["copy_rows_per_s"] > 0
    assert len(figures["partitions"]) >= 1 and all(p["bytes"] > 0 for p in figures["partitions"])
    assert figures["costs"]["median_ms"]["everything"] > 0 and len(figures["costs"]["pieces"]) >= 2
    assert "ratio : API / COPY" in output and "insert cost by piece" in output


CHECKS = {
    "benchmarks.events": _events, "benchmarks.complaints": _complaints, "benchmarks.dashboard": _dashboard,
    "benchmarks.console": _console,
    "benchmarks.waybills": _waybills,
    "benchmarks.promises": _promises,
    "benchmarks.watcher": _watcher,
    "benchmarks.festival": _festival,
}


def test_every_bench_has_a_check():
    assert set(CHECKS) == set(BENCHMARKS)


@pytest.mark.parametrize("module", BENCHMARKS)
def test_bench_runs_at_smoke_size_and_cleans_up(module, tmp_path):
    bench = module.split(".", 1)[1]
    database = f"{settings.DATABASES['default']['TEST']['NAME']}_bench_"
    figures, output = _run(bench, tmp_path)

    CHECKS[module](figures, output)
    assert figures["database"].startswith(database) and figures["database"].endswith("_smoke")
    leftovers = {name for name in _databases(_database_url()) if name.startswith(database)}
    assert not leftovers, f"{bench} left its smoke database behind"
    for pid in figures.get("pids", []):
        assert not _living_in_group(pid), f"{bench} left processes of group {pid} running"


def _postmaster_running(data: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(data) in cmdline.read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


def test_festival_runs_on_a_private_server_with_the_deployment_settings(tmp_path):
    from benchmarks.pg_cluster import deployment_settings

    # the compose file's PostgreSQL settings are what the private server starts with
    settings_ = deployment_settings()
    assert {"shared_buffers=4GB", "wal_compression=on", "max_wal_size=16GB"} <= set(settings_)
    assert not any(pair.startswith("shared_preload_libraries") for pair in settings_)
    # (not under tmp_path: the postgres user the server runs as cannot enter pytest's 0700 directories)
    server_dir = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="yz-bench-pg-"))  # noqa: S108
    server_dir.chmod(0o755)
    try:
        figures, output = _run("festival", tmp_path, "--server", "deployment", env={"BENCH_PG_DIR": str(server_dir)})
    finally:
        data = next(server_dir.glob("*/data"), None)
        shutil.rmtree(server_dir, ignore_errors=True)
    _festival(figures, output)
    assert figures["server"] == "deployment" and "a private server with docker-compose.yml's settings" in output
    # the server ran from its own directory (removed above) and was stopped first; the shared
    # server got no database
    assert data is not None and f"({data})" in output
    assert not _postmaster_running(data)
    database = f"{settings.DATABASES['default']['TEST']['NAME']}_bench_"
    assert not {name for name in _databases(_database_url()) if name.startswith(database)}
