"""The structure holds: contracts cover every module, no import cycle, no oversized module, no
import hidden in a function body (issue: one home per concern, dependencies that point one way)."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("yinzunda", "carriers", "waybills", "orders", "claims")
APPS = ("carriers", "waybills", "orders", "claims")
MAX_LINES = 400


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _source_files():
    for package in (*PACKAGES, "benchmarks"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_import_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_every_app_module_is_a_domain_module_or_an_interface():
    """A new module must be named so the contracts see it (services, selectors, models...) or be
    one of the interfaces; otherwise the forbidden contract would silently not cover it."""
    contracts = _contracts()
    domain = contracts["domain-below-interfaces"]["source_modules"]
    interfaces = set(contracts["interfaces-independent"]["modules"])
    infrastructure = {"__init__", "apps", "admin", "management", "migrations"}
    unclassified = []
    for app in APPS:
        for child in sorted((ROOT / app).iterdir()):
            name = child.stem if child.suffix == ".py" else child.name
            if child.name == "__pycache__" or (child.is_file() and child.suffix != ".py"):
                continue
            module = f"{app}.{name}"
            if name in infrastructure or module in interfaces or any(fnmatch(module, p) for p in domain):
                continue
            unclassified.append(module)
    assert not unclassified, (
        f"{unclassified}: name the module after its role (services, selectors, models, ...) or add it "
        "to the import-linter contracts in pyproject.toml"
    )


def test_no_import_cycle_between_modules():
    """Counting imports inside functions too (grimp reads every import statement)."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            if importer == imported or imported.startswith(importer + ".") or importer.startswith(imported + "."):
                continue
            chain = graph.find_shortest_chain(importer=imported, imported=importer)
            if chain:
                cycles.add(" -> ".join((importer, *chain)))
    assert not cycles, "\n".join(sorted(cycles))


def test_no_module_over_400_lines():
    oversized = {
        str(path.relative_to(ROOT)): n
        for path in _source_files()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not oversized, oversized


# module -> the one module it may import inside a function, and why
LATE_IMPORTS = {
    # django-postgres-extra cannot even be imported without its PostgreSQL backend; the beat task
    # returns before importing it on the SQLite first run
    "waybills/tasks.py": ".partitioning",
}


def test_no_first_party_import_inside_a_function():
    """Imports inside functions are how cycles hide; only the benchmarks, which set Django up in a
    child process before importing the project, may import late, and the modules named in
    LATE_IMPORTS for the reason given there (grimp still sees them: the cycle test covers them)."""
    hidden = []
    for path in _source_files():
        if path.parts[len(ROOT.parts)] == "benchmarks":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    names = [inner.module or ""] if inner.level == 0 else ["."]
                elif isinstance(inner, ast.Import):
                    names = [alias.name for alias in inner.names]
                else:
                    continue
                allowed = LATE_IMPORTS.get(str(path.relative_to(ROOT)))
                if isinstance(inner, ast.ImportFrom) and allowed == "." * inner.level + (inner.module or ""):
                    continue
                if any(n == "." or n.split(".")[0] in PACKAGES for n in names):
                    hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not hidden, hidden
