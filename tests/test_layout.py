"""The layout's import rules, checked by walking every import of the source tree (ast).

- a stage imports only earlier stages and the kernels (errors, graph, progress, atomic);
- a private ``gridplan._x`` package is imported only by itself and its façade ``gridplan.x``;
- ``ui/``, ``app.py`` and ``gridplan/cli/`` import only façades and public packages;
- no import cycles between modules (imports inside functions count too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNELS = {"gridplan", "errors", "progress", "atomic", "graph"}
#: The flow, in order: a stage may import the stages before it.
STAGES = [
    "layers",
    "cells",
    "partition",
    "workload",
    "balance",
    "plan",
    "maps",
    "export",
    "demo",
    "batch",
    "service",
    "cli",
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = [*sorted((ROOT / "gridplan").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
    files.append(ROOT / "app.py")
    return {_module_name(p): p for p in files}


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every gridplan/ui module that ``path`` imports (anywhere in the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from gridplan.plan import edits`` imports the module ``edits``; the package
            # counts only when a name is taken from its ``__init__`` itself
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(node.module)
    return {m for m in found if m in modules}


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    modules = set(sources)
    return {name: _imports(path, modules) - {name} for name, path in sources.items()}


def _stage(module: str) -> str | None:
    """The stage a gridplan module belongs to (``None`` for a kernel)."""
    parts = module.split(".")
    if parts[0] != "gridplan":
        return "ui"
    if len(parts) == 1 or parts[1] in KERNELS:
        return None
    if parts[1] == "__main__":  # ``python -m gridplan`` is the command line
        return "cli"
    return parts[1].lstrip("_")


GRAPH = _graph()


def test_every_gridplan_module_has_a_known_stage():
    unknown = sorted(
        m for m in GRAPH if m.startswith("gridplan.") and _stage(m) not in {None, *STAGES}
    )
    assert not unknown, f"modules outside the layout (add them to a stage): {unknown}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("gridplan")))
def test_a_stage_imports_only_earlier_stages_and_kernels(module):
    stage = _stage(module)
    bad = []
    for dep in GRAPH[module]:
        dep_stage = _stage(dep)
        if dep_stage is None or dep_stage == stage:
            continue
        if stage is None or STAGES.index(dep_stage) > STAGES.index(
            stage
        ):  # kernels import kernels only
            bad.append(dep)
    assert not bad, f"{module} ({stage}) imports later stages: {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_private_packages_are_imported_only_by_their_facade(module):
    bad = []
    for dep in GRAPH[module]:
        parts = dep.split(".")
        if len(parts) > 1 and parts[1].startswith("_") and parts[1] != "__main__":
            private, facade = f"gridplan.{parts[1]}", f"gridplan.{parts[1][1:]}"
            if not (module == facade or module.startswith(private)):
                bad.append(dep)
    assert not bad, f"{module} imports private modules (use the façade): {sorted(bad)}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(GRAPH.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_the_rules_catch_a_violation():
    """The checks are not vacuous: the graph holds the edges they would reject."""
    assert "gridplan._partition.core" in GRAPH["gridplan.partition"]
    assert _stage("gridplan._balance.engine") == "balance"
    assert STAGES.index("plan") > STAGES.index("balance")
