"""Routing throughput of one worker process (part of the complaints bench, before its latency run).

A backlog of DRAIN complaints is filed with the after-commit publish off (they wait in the
outbox), one Celery worker process (`--pool solo`, queue urgent) is started, the outbox sweep
publishes the backlog at once, and the bench reads:
- routed/s per process: DRAIN / (last routed_at − first routed_at), from the database;
- CPU per complaint: the worker process's user+system CPU (/proc) over the drain / DRAIN.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._support import ROOT, Processes, connect

TICKS = os.sysconf("SC_CLK_TCK")


def backlog() -> None:
    """Child process: file one complaint per waybill number read from stdin (JSON list)."""
    import django

    django.setup()
    from claims.services.complaints import complaint_file
    from waybills.models import Waybill

    numbers = json.loads(sys.stdin.read())
    for waybill in Waybill.objects.filter(number__in=numbers).select_related("order"):
        complaint_file(order=waybill.order, complaint_type="locker_without_consent", description="积压投诉")


def sweep() -> None:
    """Child process: publish every outbox row due (the beat sweep, once)."""
    import django

    django.setup()
    from yinzunda.outbox import outbox_sweep

    print(outbox_sweep(republish_after=0))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _routed(database_url: str, numbers: list[str]) -> tuple[int, float | None]:
    conn = connect(database_url)
    with conn.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), EXTRACT(EPOCH FROM max(c.routed_at) - min(c.routed_at)) FROM claims_complaint c
               JOIN waybills_waybill w ON w.id = c.waybill_id WHERE w.number = ANY(%s) AND c.routed_at IS NOT NULL""",
            [numbers],
        )
        count, span = cursor.fetchone()
    conn.close()
    return int(count), float(span) if span is not None else None


def measure(*, numbers: list[str], database_url: str, env: dict, processes: Processes, logs: Path) -> dict:
    if not numbers:
        return {}
    python = sys.executable
    child_env = {**env, "YINZUNDA_OUTBOX_PUBLISH_ON_COMMIT": "false"}
    print(f"routing throughput: filing a backlog of {len(numbers)} complaints…", flush=True)
    subprocess.run([python, "-c", "import benchmarks.routing_drain as d; d.backlog()"], cwd=ROOT, env=child_env,  # noqa: S603
                   input=json.dumps(numbers), text=True, check=True, capture_output=True)
    log = logs / "bench-routing-drain-worker.log"
    worker = processes.start(
        [str(Path(python).parent / "celery"), "-A", "yinzunda", "worker", "-l", "info", "-Q", "urgent",
         "--pool", "solo", "-n", f"bench-drain-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        env=env, log=log,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    cpu_before = _cpu_seconds(worker.pid)
    subprocess.run([python, "-c", "import benchmarks.routing_drain as d; d.sweep()"], cwd=ROOT, env=env,  # noqa: S603
                   check=True, capture_output=True)
    deadline = time.monotonic() + 300
    while (routed := _routed(database_url, numbers))[0] < len(numbers) and time.monotonic() < deadline:
        time.sleep(0.2)
    cpu = _cpu_seconds(worker.pid) - cpu_before
    worker.terminate()
    worker.wait(15)
    count, span = routed
    figures = {"drain": len(numbers), "drain_routed": count, "drain_seconds": span,
               "cpu_ms_per_complaint": cpu / max(count, 1) * 1000}
    if span:
        figures["routed_per_second_per_process"] = count / span
    print(f"routing throughput (one worker process, solo pool): {count}/{len(numbers)} routed in {span or 0:.1f} s "
          f"= {figures.get('routed_per_second_per_process', 0):.1f} complaints/s; worker CPU "
          f"{figures['cpu_ms_per_complaint']:.1f} ms per complaint "
          f"(CPU-bound ceiling {1000 / max(figures['cpu_ms_per_complaint'], 0.01):.0f}/s)", flush=True)
    return figures
