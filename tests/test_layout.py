"""The package's layout: one folder per stage, modules a reader can hold, no import cycles, a public surface
per module (`__all__`, no reaching into another module's private names, imports at the top) and functions
under the complexity limits set in pyproject.toml."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

from pipeline.common.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "pipeline"
# A sanity cap only: functions are held to the complexity limits (test_functions_stay_under_the_complexity_limits);
# this catches a module that grows into a grab-bag of simple functions, which no per-function limit sees.
MAX_LINES = 600
COMPLEXITY_RULES = "C901,PLR0911,PLR0912,PLR0913,PLR0915"
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


def test_no_module_grows_past_what_a_reader_holds():
    long = [f"{path.relative_to(PROJECT_ROOT)}: {lines} lines" for path in modules().values()
            if (lines := path.read_text(encoding="utf-8").count("\n")) > MAX_LINES]
    assert not long, f"over the sanity cap of {MAX_LINES} lines; split along what the parts do:\n" + "\n".join(long)


def importing_files() -> list[Path]:
    """The package's modules and the tests: everything that imports from the package."""
    return sorted(PACKAGE.rglob("*.py")) + sorted((PROJECT_ROOT / "tests").rglob("*.py"))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"


def importers() -> list[tuple[str, ast.Module]]:
    """(where, syntax tree) of the package's modules, the tests and the notebooks' code cells."""
    found = [(str(path.relative_to(PROJECT_ROOT)), ast.parse(path.read_text(encoding="utf-8")))
             for path in importing_files()]
    for notebook in sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and "pipeline" in source:
                found.append((f"{notebook.relative_to(PROJECT_ROOT)} cell {number}", ast.parse(source)))
    return found


def from_imports(known: set[str]):
    """(file, node, module, name) for every `from pipeline.x import name` of a name (not a submodule)
    in the package's modules and the tests."""
    for path in importing_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in known:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" not in known:
                        yield path, node, node.module, alias.name


def test_no_module_imports_another_modules_private_names():
    known = set(modules())
    found = [f"{where(path, node)} imports {module}.{name}" for path, node, module, name in from_imports(known)
             if name.startswith("_") and not name.startswith("__") and module_name_of(path) != module]
    for path in importing_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {alias.asname or alias.name: f"{node.module}.{alias.name}" for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                   for alias in node.names if f"{node.module}.{alias.name}" in known}
        aliases.update({alias.asname: alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                        for alias in node.names if alias.asname and alias.name in known})
        found += [f"{where(path, node)} uses {aliases[node.value.id]}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert not found, "make the name public or move it where it belongs:\n" + "\n".join(found)


def module_name_of(path: Path) -> str:
    return module_name(path) if path.is_relative_to(PACKAGE) else ""


def declared_all(path: Path) -> list[str] | None:
    """The module's `__all__` (a literal list or tuple of strings), or None when it has none."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return [ast.literal_eval(element) for element in node.value.elts]
    return None


def test_every_module_others_import_lists_what_they_import_in_all():
    """Imported by another module, a test or a notebook: the module has `__all__`, and it lists every name
    taken from it."""
    known = set(modules())
    imported: dict[str, list[str]] = {}  # module -> where it is imported
    names: list[tuple[str, str, str]] = []  # (where, module, name)
    for source, tree in importers():
        for node in ast.walk(tree):
            place = f"{source}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
                if node.module in known:
                    names += [(place, node.module, a.name) for a in node.names
                              if f"{node.module}.{a.name}" not in known]
                    if len(submodules) < len(node.names):
                        imported.setdefault(node.module, []).append(place)
                targets = submodules
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name in known]
            else:
                continue
            for target in targets:
                imported.setdefault(target, []).append(place)
    listed = {name: declared_all(modules()[name]) for name in imported}
    lacking = [f"{modules()[name].relative_to(PROJECT_ROOT)}: no __all__ (imported at {places[0]})"
               for name, places in sorted(imported.items()) if listed[name] is None]
    unlisted = [f"{place} imports {module}.{name}, not in its __all__" for place, module, name in names
                if listed[module] is not None and name not in listed[module]]
    assert not lacking + unlisted, "\n".join(lacking + unlisted)


def comment_lines(source: str) -> set[int]:
    return {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT}


def test_imports_inside_functions_say_why():
    """An import inside a function needs a comment on its line or the line before (a run of imports, one
    after another, shares the comment above the first): a heavy library loaded only when used, an edge."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        comments = comment_lines(source)
        inner = sorted({node.lineno: node for function in ast.walk(ast.parse(source))
                        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                        for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))}.items())
        explained: set[int] = set()
        for line, node in inner:
            if line in comments or line - 1 in comments or line - 1 in explained:
                explained.add(node.end_lineno)
            else:
                unexplained.append(f"{where(path, node)} {ast.unparse(node)}")
    assert not unexplained, ("move these imports to the top of their module, or say on the line before why "
                             "they are loaded late:\n" + "\n".join(unexplained))


def test_functions_stay_under_the_complexity_limits():
    """Complexity, branches, returns, arguments and statements per function, with the limits in
    pyproject.toml ([tool.ruff.lint.mccabe], [tool.ruff.lint.pylint])."""
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", COMPLEXITY_RULES,
                           "--output-format", "concise", "--no-cache", "pipeline"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tests_mirror_the_package():
    folders = {p.name for p in (PROJECT_ROOT / "tests").iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    # The labelled held-out sets (tests/heldout/, tests/heldout_b/, ...) and page sets (tests/pages_gov/) are data,
    # not tests of a stage.
    assert {f for f in folders if f != "heldout" and not f.startswith(("heldout_", "pages_"))} <= set(STAGE_FOLDERS)


def called_elsewhere(known: set[str]) -> dict[tuple[str, str], str]:
    """(module, function name) -> one place in another module of the package that imports or calls it: a
    `from pipeline.x import f`, or `m.f` after `from pipeline import m` / `from pipeline.x import m`."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        own = module_name_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    if child in known:
                        aliases[alias.asname or alias.name] = child
                    elif node.module in known and node.module != own:
                        found.setdefault((node.module, alias.name), where(path, node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                target = aliases[node.value.id]
                if target != own:
                    found.setdefault((target, node.attr), where(path, node))
    return found


def missing_sections(function: ast.FunctionDef) -> list[str]:
    """The numpydoc sections a function's docstring lacks: Parameters when it takes any, Returns (or Yields)
    when it returns something."""
    doc = ast.get_docstring(function) or ""
    args = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)
            if a.arg not in ("self", "cls")]
    returns = function.returns is not None and not (isinstance(function.returns, ast.Constant)
                                                    and function.returns.value is None)
    lacking = []
    if args and not re.search(r"^\s*Parameters\n\s*-{3,}", doc, re.M):
        lacking.append("Parameters")
    if returns and not re.search(r"^\s*(Returns|Yields)\n\s*-{3,}", doc, re.M):
        lacking.append("Returns")
    return lacking


def test_functions_other_modules_call_have_numpydoc_sections():
    known = set(modules())
    found = []
    for (module, name), seen_at in sorted(called_elsewhere(known).items()):
        tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                lacking = missing_sections(node)
                if lacking:
                    found.append(f"{module_name_of(modules()[module])}.{name} ({seen_at}) lacks "
                                 f"{' and '.join(lacking)}")
    assert not found, f"{len(found)} function(s) other modules call lack numpydoc sections:\n" + "\n".join(found)
