"""The package's layout: one folder per stage, modules a reader can hold, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.common.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "pipeline"
MAX_LINES = 400
STAGE_FOLDERS = ("common", "corpus", "text", "emphases", "themes", "figures", "report", "run", "bench", "validate")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package's modules that a file imports anywhere (at the top or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    known = set(modules())
    return {name: imported_modules(path, known) - {name} for name, path in modules().items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a list of modules (first repeated at the end), or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def folder_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between the stage folders (pipeline.corpus -> pipeline.common, ...)."""
    def folder(name: str) -> str:
        return ".".join(name.split(".")[:2])
    folders: dict[str, set[str]] = {}
    for src, targets in graph.items():
        folders.setdefault(folder(src), set()).update(folder(t) for t in targets if folder(t) != folder(src))
    return folders


def test_find_cycle_finds_a_planted_cycle_and_only_then():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_module_imports_itself_back():
    assert find_cycle(import_graph()) == []


def test_no_stage_folder_imports_itself_back():
    assert find_cycle(folder_graph(import_graph())) == []


def test_every_stage_has_its_folder_and_no_module_is_left_beside_them():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py"]
    assert all((PACKAGE / name / "__init__.py").is_file() for name in STAGE_FOLDERS)


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_grows_past_what_a_reader_holds(name):
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it along what its parts do"


def test_tests_mirror_the_package():
    folders = {p.name for p in (PROJECT_ROOT / "tests").iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    # The labelled held-out sets (tests/heldout/, tests/heldout_b/, ...) are data, not tests of a stage.
    assert {f for f in folders if f != "heldout" and not f.startswith("heldout_")} <= set(STAGE_FOLDERS)
