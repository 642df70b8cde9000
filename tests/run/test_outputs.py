"""Declared outputs: the writer refuses what a stage does not declare, every declared output is written,
and results/ holds nothing no stage declares."""

from __future__ import annotations

import re
from dataclasses import fields

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.params import StudyParams, load_params
from pipeline.common.outputs import Declaration, StageOutputs, conditional_tables, declared_tables, tables_of
from pipeline.run import outputs
from pipeline.run.outputs import DECLARATIONS, declaration, declared_outputs, write_outputs
from pipeline.themes.results import SeededResult, ThemesResult
from tests.run.cli_runs import small_run  # noqa: F401  (fixture)

FRAME = pd.DataFrame({"a": [1, 2]})


def files_under(results) -> set[str]:
    """Every file of results/tables and results/figures, and the pages at results/'s top, relative to results/."""
    found = {p.relative_to(results).as_posix() for folder in ("tables", "figures")
             for p in (results / folder).rglob("*") if p.is_file()}
    return found | {p.name for p in results.glob("*.html") if p.name != "report.html"} | \
        {p.name for p in results.glob("*.md")}


def expected_outputs(params: StudyParams) -> tuple[set[str], set[str]]:
    """(what a run with `params` must write, what it may write) by the declarations: the ablation's table
    is required exactly when the ablation runs; the other conditional outputs depend on data and are allowed."""
    declared = declared_outputs()
    required = {name for name, when in declared.items() if not when}
    if params.themes.ablation:
        required.add("tables/k_selection_plain.csv")
    allowed = set(declared) - ({"tables/k_selection_plain.csv"} - required)
    return required, allowed


@pytest.fixture
def toy(monkeypatch, tmp_path) -> Paths:
    monkeypatch.setattr(outputs, "DECLARATIONS", (
        Declaration("toy", tables=("always", "sometimes"), figures=("toy.png",), pages=("toy.html",),
                    conditional={"sometimes": "a setting"}),))
    return Paths.at(tmp_path, results=tmp_path / "results")


def test_the_writer_writes_what_a_stage_declares(toy):
    written = write_outputs(toy, "toy", StageOutputs(
        tables={"always": FRAME}, figures={"toy.png": lambda path: path.write_bytes(b"png")},
        pages={"toy.html": "<p>toy</p>"}))
    assert sorted(p.relative_to(toy.results).as_posix() for p in written) == [
        "figures/toy.png", "tables/always.csv", "toy.html"]
    assert (toy.tables / "always.csv").read_text(encoding="utf-8") == "a\n1\n2\n"


def test_the_writer_refuses_an_undeclared_table_and_writes_nothing(toy):
    with pytest.raises(RuntimeError, match="produced but not declared: extra"):
        write_outputs(toy, "toy", StageOutputs(tables={"always": FRAME, "extra": FRAME},
                                               figures={"toy.png": lambda path: path.write_bytes(b"png")},
                                               pages={"toy.html": ""}))
    assert not toy.results.exists()


def test_the_writer_refuses_a_stage_that_leaves_out_a_declared_output(toy):
    with pytest.raises(RuntimeError, match="declared but not produced: always"):
        write_outputs(toy, "toy", StageOutputs(tables={"sometimes": FRAME},
                                               figures={"toy.png": lambda path: path.write_bytes(b"png")},
                                               pages={"toy.html": ""}))
    with pytest.raises(RuntimeError, match="figures declared but not produced: toy.png"):
        write_outputs(toy, "toy", StageOutputs(tables={"always": FRAME}, pages={"toy.html": ""}))


def test_every_table_of_the_themes_results_is_declared_and_only_the_ablation_s_is_conditional():
    themes = declaration("themes")
    assert set(declared_tables(ThemesResult)) | set(declared_tables(SeededResult)) == set(themes.tables)
    assert conditional_tables(ThemesResult) == {"k_selection_plain": "themes.ablation"}
    assert conditional_tables(SeededResult) == {}
    # A table field is a DataFrame; nothing else is written as a table.
    for cls in (ThemesResult, SeededResult):
        for f in fields(cls):
            assert (f.name in declared_tables(cls)) == ("DataFrame" in str(f.type)), f.name


def test_tables_of_leaves_out_a_conditional_table_that_was_not_made():
    result = SeededResult(*([FRAME] * len(declared_tables(SeededResult))), ldavis_inputs=None, summary=None)
    assert list(tables_of(result)) == list(declared_tables(SeededResult))


def test_no_output_is_declared_twice():
    names = [name for d in DECLARATIONS for name in d.names()]
    assert len(names) == len(set(names))
    assert len({d.stage for d in DECLARATIONS}) == len(DECLARATIONS)


def test_the_committed_results_hold_exactly_the_declared_outputs(project_params):
    results = Paths.at().results
    found = files_under(results)
    required, allowed = expected_outputs(project_params)
    assert sorted(required - found) == [], "declared but not in results/"
    assert sorted(found - allowed) == [], "in results/ but declared by no stage"
    # The committed project meets every condition: results/ holds every declared output.
    assert found == allowed


@pytest.mark.slow
def test_a_small_run_writes_every_declared_output_and_nothing_else(small_run):
    # The shared small run: no ablation sweep, so its conditional table must be neither required nor allowed.
    params = load_params(small_run.params)
    assert params.themes.ablation is False
    found = files_under(small_run.results)
    required, allowed = expected_outputs(params)
    assert "tables/k_selection_plain.csv" not in allowed
    assert sorted(required - found) == []
    assert sorted(found - allowed) == []


def results_map(readme: str) -> set[str]:
    """The results the README's results map lists in its first column, as paths relative to results/
    (a bare `name.csv` is a table, a bare `name.png` a figure)."""
    section = readme.split("\n## Results map\n", 1)[1].split("\n## ", 1)[0]
    listed = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        for name in re.findall(r"`([^`]+)`", line.split(" | ")[0]):
            name = name.removeprefix("results/")
            if "/" not in name and name.endswith(".csv"):
                name = f"tables/{name}"
            elif "/" not in name and name.endswith(".png"):
                name = f"figures/{name}"
            listed.add(name)
    return listed


def test_results_map_lists_every_declared_output_and_nothing_undeclared():
    listed = results_map((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    declared = set(declared_outputs())
    assert sorted(declared - listed) == [], "declared but missing from the README's results map"
    # Outputs of the run that are not stage tables, figures or pages (corpus/, exports/, the manifest, the
    # report, the benchmark's folder) are listed too; every listed table, figure or page must be declared.
    kinds = {name for name in listed if name.startswith(("tables/", "figures/"))
             or name.endswith((".html", ".md")) and "/" not in name and name != "report.html"}
    assert sorted(kinds - declared) == [], "listed in the README's results map but declared by no stage"


def test_results_map_reader_finds_bare_names_in_the_first_column_only():
    readme = ("intro\n## Results map\n\n| result | made by | shown in |\n|---|---|---|\n"
              "| `tables/a.csv`, `b.csv`, `figures/c.png`, `d.png` | `x.y` (as in `e.csv`) | 01 |\n"
              "| `results/lda.html` | `z` | — |\n\n## Next\n| `tables/f.csv` | | |\n")
    assert results_map(readme) == {"tables/a.csv", "tables/b.csv", "figures/c.png", "figures/d.png", "lda.html"}
