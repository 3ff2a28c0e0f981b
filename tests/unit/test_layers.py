"""The package's shape, read from the source: one store layer that alone speaks SQL, imports that
point one way, and no import cycle anywhere (imports inside functions included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "pipeline"
STORE = PACKAGE / "store"

# Only the store may use these (and only it may hold an engine or a connection).
DATABASE_MODULES = ("sqlalchemy", "alembic", "sqlite3", "psycopg", "psycopg2")
DATABASE_ATTRIBUTES = {"engine", "connect", "execute", "executemany", "exec_driver_sql", "begin"}
# Composing a URL string from Airflow connection fields is not database access.
ALLOWED_IMPORTS = {("pipeline/config.py", "sqlalchemy.engine")}
SQL_TEXT = re.compile(
    r"^\s*(select\s.+\sfrom\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|create\s+(table|view|index)\s)",
    re.IGNORECASE | re.DOTALL,
)

# The intended direction: core -> knowledge/ingest -> store -> signals/alerts -> cli/dags.
CORE = {"pipeline.config", "pipeline.clock", "pipeline.matching", "pipeline.interrupts"}
KNOWLEDGE = {
    "pipeline.text",
    "pipeline.score",
    "pipeline.actors",
    "pipeline.parse",
    "pipeline.fetch",
    "pipeline.articles",
    "pipeline.feeds",
    "pipeline.pages",
    "pipeline.extract",
}
STAGES = {
    "pipeline.signals",
    "pipeline.detector",
    "pipeline.alerts",
    "pipeline.delivery",
    "pipeline.channels",
    "pipeline.rescore",
    "pipeline.report",
    "pipeline.api",
    "pipeline.analytics",
    "pipeline.orchestration",
    "pipeline.ingest",
    "pipeline.fulltext",
    "pipeline.simulate",
    "pipeline.incidents",
    "pipeline.backtest",
    "pipeline.cli",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(root.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every pipeline module `path` imports, at any depth of its code. `from a.b import c` counts as
    a.b.c when that is a module, else a.b; importing a.b.c also runs the package a.b."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            parts = name.split(".")
            for end in range(2, len(parts) + 1):  # the packages on the way are imported too
                prefix = ".".join(parts[:end])
                if prefix in known:
                    found.add(prefix)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the pipeline modules it imports. A submodule's edge to its own parent package is
    left out (the parent is already being imported when it runs)."""
    modules = _modules(root)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = _imports(path, known) - {name}
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert "pipeline.store.feeds" in graph and "pipeline.store.schema" in graph["pipeline.store.feeds"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "pipeline"
    (package / "store").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "store" / "__init__.py").write_text("from pipeline.store.rows import Row\n")
    (package / "store" / "rows.py").write_text("class Row:\n    pass\n")
    (package / "alerts.py").write_text(
        "from pipeline.store import Row\n\n\ndef f():\n    from pipeline import channels\n"
    )
    (package / "channels.py").write_text("from pipeline.alerts import f\n")
    import test_layers

    original = test_layers.REPO
    test_layers.REPO = tmp_path
    try:
        graph = import_graph(package)
    finally:
        test_layers.REPO = original
    assert find_cycle(graph) == ["pipeline.alerts", "pipeline.channels", "pipeline.alerts"]
    graph["pipeline.channels"].clear()
    assert find_cycle(graph) is None


def test_imports_point_one_way():
    graph = import_graph()
    store = {m for m in graph if m == "pipeline.store" or m.startswith("pipeline.store.")}
    wrong = []
    for module, targets in sorted(graph.items()):
        if module in CORE:
            forbidden = targets - CORE
        elif module in KNOWLEDGE:
            forbidden = targets & (store | STAGES)
        elif module in store:
            forbidden = targets & STAGES
        else:
            continue
        wrong.extend(f"{module} imports {target}" for target in sorted(forbidden))
    assert not wrong, "; ".join(wrong)


def _outside_store() -> list[Path]:
    files = [p for p in PACKAGE.rglob("*.py") if STORE not in p.parents]
    return sorted([*files, *(REPO / "dags").glob("*.py")])


def database_uses(path: Path, name: str | None = None) -> list[str]:
    """What in `path` speaks to a database directly: driver/ORM imports, engine or connection
    calls, SQL statements in string literals."""
    name = name or str(path.relative_to(REPO))
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [
                f"line {node.lineno}: imports {n}"
                for n in names
                if n.split(".")[0] in DATABASE_MODULES and (name, n) not in ALLOWED_IMPORTS
            ]
        elif isinstance(node, ast.Attribute) and node.attr in DATABASE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
            found.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
    return found


@pytest.mark.parametrize("path", _outside_store(), ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_store_speaks_sql(path):
    assert database_uses(path) == []


def test_the_sql_check_sees_engine_use(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlalchemy as sa\n\n\ndef f(warehouse):\n"
        "    with warehouse.engine.connect() as conn:\n"
        "        return conn.execute(sa.text('select day from daily_signals'))\n"
    )
    assert sorted(database_uses(sample, "sample.py")) == [
        "line 1: imports sqlalchemy",
        "line 5: .connect",
        "line 5: .engine",
        "line 6: .execute",
        "line 6: SQL text 'select day from daily_signals'",
    ]
