"""A private PostgreSQL server configured as the deployment is (`--server deployment` of the benches
that accept it).

The shared development server runs PostgreSQL's defaults (128 MB of shared buffers, 1 GB of WAL
between checkpoints, no WAL compression), which no deployment of this project uses: at 50 M
stored events its checkpoints come every few seconds under the festival hour and every page a
batch touches first after one is written whole to the WAL again. This server takes the
`-c name=value` settings of the postgres service in docker-compose.yml (one source of truth), runs
as the postgres user (initdb refuses root) on a free port, with fsync and full-page writes on as
in production, and keeps its data directory between runs (so a bench's prefill is built once);
it is stopped when the bench ends.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import yaml

from benchmarks._support import ROOT, free_port

# pg_stat_statements needs the contrib package; the bench reads none of its views.
_SKIPPED = ("shared_preload_libraries",)


def deployment_settings() -> list[str]:
    """The postgres service's `-c name=value` settings in docker-compose.yml."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["postgres"]["command"]
    pairs = [command[i + 1] for i, part in enumerate(command) if part == "-c"]
    return [pair for pair in pairs if pair.split("=", 1)[0] not in _SKIPPED]


def _as_postgres() -> None:
    user = pwd.getpwnam("postgres")
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, preexec_fn=_as_postgres, cwd="/",  # noqa: S603, PLW1509 - pg binaries
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def default_directory(url: str) -> Path:
    """Per database name (itself per checkout): two checkouts' servers never share a directory."""
    return Path(os.environ.get("BENCH_PG_DIR") or "/var/tmp/yinzunda-bench-pg") / urlparse(url).path.lstrip("/")  # noqa: S108


@contextlib.contextmanager
def deployment_server(url: str, directory: Path | None = None) -> Iterator[str]:
    """Start (initialising on first use) the private server; `url` moved to it. Stopped on exit."""
    directory = directory or default_directory(url)
    bindir = Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())  # noqa: S607
    data, sockets, log = directory / "data", directory / "sockets", directory / "postgres.log"
    for path in (directory, sockets):
        path.mkdir(parents=True, exist_ok=True)
        shutil.chown(path, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        shutil.chown(data, "postgres", "postgres")
        _run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    port = free_port()
    options = " ".join(f"-c {pair}" for pair in deployment_settings())
    _run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o",
         f"-p {port} -k {sockets} -h 127.0.0.1 {options}", "start")
    print(f"PostgreSQL: a private server with docker-compose.yml's settings on port {port} ({data})", flush=True)
    try:
        parsed = urlparse(url)
        yield urlunparse(parsed._replace(netloc=f"postgres@127.0.0.1:{port}"))
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "120", "stop")
