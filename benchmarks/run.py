"""`make bench`: runs every benchmark module (or those named) and prints their figures.

Each module in BENCHMARKS exposes `main(argv: list[str]) -> None`. Benchmarks run on the
real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to the local services).
"""
from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["benchmarks.events", "benchmarks.complaints", "benchmarks.dashboard"]


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or BENCHMARKS
    for name in names:
        module_name = name if name.startswith("benchmarks.") else f"benchmarks.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                print(f"[{module_name}] not present, skipped")
                continue
            raise
        print(f"=== {module_name} ===", flush=True)
        module.main([a for a in argv if a.startswith("-")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
