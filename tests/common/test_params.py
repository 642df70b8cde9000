"""The typed configuration: every setting is checked once, in pipeline/common/params.py, and only there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import StudyParams, ThemeParams, described_keys, load_params, merged, problems

PACKAGE = PROJECT_ROOT / "pipeline"
CONFIG = PACKAGE / "common" / "params.py"
RAW = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
KEYS = [key for key, _ in described_keys()]
LEAVES = {key.rsplit(".", 1)[1] for key in KEYS}
SECTIONS = {key.split(".")[0] for key in KEYS}


def _texts(node: ast.AST) -> list[str]:
    """The literal text of an expression: plain strings and the fixed parts of f-strings."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


# Checks of a setting against the data, which the configuration cannot make before the data is read; each
# names its setting so that the user knows what to change. (An InputError about an input file, or a
# ConnectionError naming the scheduler, is not a check of a setting and is not scanned.)
DATA_RELATIONS = {("pipeline/themes/scaling.py", "themes.selection_max_units"):
                  "the sample must hold every place, and the places are known only from the units"}


def setting_checks(source: str, where: str) -> list[str]:
    """`raise ValueError/TypeError` statements in `source` whose message validates a setting of params.yaml
    by its dotted key or as "<section> parameters", the way a parameters schema does.

    A computational function's own precondition on an argument (`prior_strength must be positive`) is its
    contract, not a check of the settings; the configuration's ranges are set so that a valid params.yaml
    never trips one (test_the_configuration_refuses_what_the_functions_refuse)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if getattr(call, "id", getattr(call, "attr", "")) not in ("ValueError", "TypeError"):
            continue
        text = " ".join(_texts(node.exc))
        named = [k for k in KEYS if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", text)
                 and (where, k) not in DATA_RELATIONS]
        named += [f"{s} parameters" for s in SECTIONS if f"{s} parameters" in text]
        if named:
            found.append(f"{where}:{node.lineno} checks {', '.join(sorted(set(named)))}")
    return found


def test_the_scanner_finds_a_setting_checked_outside_the_configuration():
    planted = ('def f(p):\n    if p.k_min > p.k_max:\n'
               '        raise ValueError("themes parameters: need 2 <= k_min <= k_max")\n'
               'def g(p):\n    raise ValueError(f"themes.no_above = {p!r} is out of range")\n'
               'def h(p):\n    raise ValueError(f"bench.overrides: {p} is not a section")\n'
               'def contract(prior):\n    raise ValueError("prior_strength must be positive")\n'
               'def data(path):\n    raise InputError(path, "has 3 Chinese characters; ingest.min_chinese_chars is 200")\n')
    assert sorted(line.split(" checks ")[0] for line in setting_checks(planted, "x.py")) == ["x.py:3", "x.py:5",
                                                                                           "x.py:7"]


def test_no_setting_is_validated_outside_the_configuration():
    found = [line for path in sorted(PACKAGE.rglob("*.py")) if path != CONFIG
             for line in setting_checks(path.read_text(encoding="utf-8"), path.relative_to(PROJECT_ROOT).as_posix())]
    assert found == [], "\n".join(found)


def test_the_parameters_file_is_read_only_by_the_configuration():
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path != CONFIG and re.search(r"safe_load\([^)]*params", text):
            readers.append(path.relative_to(PROJECT_ROOT).as_posix())
    assert readers == []


@pytest.mark.parametrize("dotted,refused", [
    ("emphases.prior_strength", 0), ("emphases.concepts.background_prior_strength", 0),
    ("emphases.concepts.background_pseudo_count", 0), ("emphases.min_term_count", 0), ("units.max_chars", 0),
    ("profile.confidence", 1.0), ("bench.articles_per_place", 0)])
def test_the_configuration_refuses_what_the_functions_refuse(dotted, refused):
    """The values the computational functions' own preconditions refuse are refused by the configuration
    first, with its one-line message (so no valid params.yaml reaches a function's precondition)."""
    *sections, key = dotted.split(".")
    changed = merged(RAW, _nest(sections, {key: refused}))
    assert [p for p in problems(changed) if p.startswith(f"{dotted} = ")], dotted


def _nest(sections: list[str], leaf: dict) -> dict:
    for name in reversed(sections):
        leaf = {name: leaf}
    return leaf


def test_the_project_parameters_load_typed_and_frozen():
    params = load_params(PROJECT_ROOT / "params.yaml")
    assert isinstance(params, StudyParams) and isinstance(params.themes, ThemeParams)
    assert params.themes.seeds == (1, 2, 3) and params.themes.k is None
    with pytest.raises(Exception):
        params.themes.k_min = 5  # type: ignore[misc]


def test_the_record_is_the_file_as_written():
    """The run manifest records the parameters as params.yaml holds them: 500 stays an integer, lists stay
    lists, and nothing is added but the optional keys left out."""
    record = load_params(PROJECT_ROOT / "params.yaml").record()
    expected = {k: v for k, v in RAW.items()}
    expected["dask"] = {k: v for k, v in RAW["dask"].items() if v is not None}
    assert record == expected
    assert isinstance(record["emphases"]["prior_strength"], int)


def test_updated_checks_again():
    params = load_params(PROJECT_ROOT / "params.yaml")
    assert params.updated({"themes": {"k": 4}}).themes.k == 4
    with pytest.raises(Exception, match="k_min"):
        params.updated({"themes": {"k_min": 20}})


def test_merged_replaces_only_the_keys_it_names():
    base = {"themes": {"k_min": 2, "seeded": {"seeds": [1, 2], "eta": 0.1}}, "units": {"max_chars": 300}}
    assert merged(base, {"themes": {"seeded": {"eta": 0.5}}}) == {
        "themes": {"k_min": 2, "seeded": {"seeds": [1, 2], "eta": 0.5}}, "units": {"max_chars": 300}}
    assert base["themes"]["seeded"]["eta"] == 0.1


def test_a_non_mapping_file_is_one_problem(tmp_path: Path):
    assert problems(["a", "list"]) == ["must be a YAML mapping of sections (ingest, clean, ...)"]
