"""`make bench`: runs every benchmark module (or those named) and prints their figures.

Each module in BENCHMARKS exposes `main(argv: list[str]) -> dict` (its figures). Benchmarks
run on the real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to the local
services). Options go to every module named: `make bench BENCH_ARGS="events --rounds 5"`.

  --smoke          tiny size (a few seconds each): checks the benches still run, measures
                   nothing; its databases (`<name>_bench_<bench>_smoke`) are dropped afterwards
  --report=PATH    also write the figures of each module as JSON to PATH
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from benchmarks._support import terminate_on_sigterm

BENCHMARKS = ["benchmarks.events", "benchmarks.complaints", "benchmarks.dashboard", "benchmarks.console",
              "benchmarks.waybills", "benchmarks.promises", "benchmarks.watcher", "benchmarks.festival"]


def _module_name(arg: str) -> str | None:
    name = arg if arg.startswith("benchmarks.") else f"benchmarks.{arg}"
    return name if name in BENCHMARKS else None


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Bench names, and the options (with their values: `--rounds 5`) passed to each of them."""
    names, options = [], []
    for arg in argv:
        if _module_name(arg):
            names.append(_module_name(arg))
        elif arg.startswith("-") or (options and options[-1].startswith("--") and "=" not in options[-1]):
            options.append(arg)
        else:
            sys.exit(f"unknown benchmark {arg!r}; known: {', '.join(b.split('.')[1] for b in BENCHMARKS)}")
    return names or BENCHMARKS, options


def main(argv: list[str]) -> int:
    terminate_on_sigterm()
    names, options = _split(argv)
    report_to = next((a.split("=", 1)[1] for a in options if a.startswith("--report=")), None)
    options = [a for a in options if not a.startswith("--report=")]
    if "--smoke" in options:
        print("smoke size: checks that each bench runs; its figures measure nothing", flush=True)
    figures = {}
    for name in names:
        module = importlib.import_module(name)
        print(f"=== {name} ===", flush=True)
        figures[name] = module.main(options)
    if report_to:
        Path(report_to).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
