"""Fault injection, inputs and command line: every bad input ends, before any stage runs, with
one line per problem naming the file, exit code 2, and results/ untouched."""

from __future__ import annotations

import copy
import io
import os
import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import load_params
from pipeline.common.params import described_keys, problems
from tests.run.cli_runs import SMALL, project, write_params  # noqa: F401  (fixture)


def run_cli(capsys, project, *extra, params=None):
    """The command line in this process; returns (exit code, stderr lines)."""
    params = params or write_params(project.root, **SMALL)
    code = main(["run", "--root", str(project.root), "--params", str(params),
                 "--results", str(project.root.parent / "out"), *extra])
    return code, [line for line in capsys.readouterr().err.splitlines() if not line[:2].isdigit()]


def one_error(capsys, project, needle, **kw):
    """The run stops with exit 2 and one error line that contains `needle`; no results were written."""
    code, lines = run_cli(capsys, project, **kw)
    assert code == 2, lines
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and needle in errors[0], lines
    assert not any("Traceback" in line for line in lines)
    assert not (project.root.parent / "out").exists()
    return errors[0]


# -- parameters ---------------------------------------------------------------------------------


@pytest.fixture
def raw_params() -> dict:
    """params.yaml as YAML reads it, before any check."""
    return yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))


def test_project_params_fit_the_schema_and_every_key_is_described(raw_params):
    assert problems(raw_params) == []
    described = dict(described_keys())
    assert len(described) > 100 and all(described.values())
    assert "a value" not in described.values()  # every kind of key has words of its own


@pytest.mark.parametrize("section,key,value,expected", [
    ("themes", "k_max", "twelve", "themes.k_max = 'twelve': expected an integer >= 2"),
    ("emphases", "top_n", "fifty", "emphases.top_n = 'fifty': expected an integer >= 1"),
    ("ingest", "min_cjk_share", "0.3", "expected a number in [0, 1]"),
    ("segment", "hmm", "no", "expected true or false"),
    ("themes", "no_above", 1.5, "expected a number in [0, 1]"),
])
def test_a_wrong_value_names_file_key_value_and_expectation(tmp_path, section, key, value, expected):
    path = write_params(tmp_path, **{section: {key: value}})
    with pytest.raises(Exception) as caught:
        load_params(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_a_misspelt_key_and_an_unknown_section_are_refused(raw_params):
    params = copy.deepcopy(raw_params)
    params["emphases"]["top_m"] = 50
    params["themse"] = {"k_min": 2}
    found = problems(params)
    assert any(p.startswith("emphases.top_m: unknown key") and "top_n" in p for p in found)
    assert any(p.startswith("themse: unknown key as a section") for p in found)


def test_a_key_missing_from_a_section_is_named(raw_params):
    params = copy.deepcopy(raw_params)
    del params["themes"]["passes"]
    assert problems(params) == ["themes.passes: missing; expected an integer >= 1 (see the project's params.yaml)"]


def test_relations_between_keys_are_checked(raw_params):
    params = copy.deepcopy(raw_params)
    params["themes"].update(k_min=9, k_max=4)
    assert any("themes.k_min = 9 is above themes.k_max = 4" in p for p in problems(params))
    params = copy.deepcopy(raw_params)
    params["themes"]["seeded"]["seeds"] = [2, 2]
    assert problems(params) == ["themes.seeded.seeds = [2, 2] repeats a seed; stability compares distinct seeds"]
    params = copy.deepcopy(raw_params)
    params["bench"]["themes_ratio_scale"] = 7
    assert problems(params) == ["bench.segment_ratio_scales and bench.themes_ratio_scale must be among bench.scales"]


def test_a_fixed_k_is_a_setting_of_its_own(raw_params):
    params = copy.deepcopy(raw_params)
    params["themes"]["k"] = 1
    assert problems(params) == ["themes.k = 1: expected an integer >= 2, or null"]
    params["themes"]["k"] = 5
    assert problems(params) == []


def test_benchmark_overrides_are_checked_as_the_sections_keys(raw_params):
    params = copy.deepcopy(raw_params)
    params["bench"]["overrides"]["themes"] = {"passes": "two"}
    assert any(p.startswith("bench.overrides: themes.passes = 'two'") for p in problems(params))


def test_unknown_codec_is_blamed_on_the_parameter(tmp_path):
    path = write_params(tmp_path, ingest={"codecs": ["utf-8", "gbk2312"]})
    with pytest.raises(Exception, match=r"ingest.codecs: 'gbk2312' is not a codec"):
        load_params(path)


def test_themes_parameters_fail_in_seconds_before_any_stage(tmp_path):
    params = write_params(tmp_path, themes={"k_max": "twelve"})
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(params), "--results",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {params}: themes.k_max = 'twelve': expected an integer >= 2"]
    assert time.monotonic() - started < 20 and not (tmp_path / "out").exists()


# -- manifest and data/raw ------------------------------------------------------------------------


def test_manifest_with_a_byte_order_mark_is_accepted(project, capsys):
    data = project.manifest_csv.read_bytes()
    project.manifest_csv.write_bytes(b"\xef\xbb\xbf" + data)
    project.raw.joinpath(".hidden").write_text("x")  # stop right after the manifest is read
    one_error(capsys, project, ".hidden is hidden")


@pytest.mark.parametrize("name", ["../../etc/hostname", "/etc/hostname", "sub/000.txt"])
def test_file_outside_data_raw_is_refused_as_not_a_plain_name(project, capsys, name):
    text = project.manifest_csv.read_text(encoding="utf-8")
    first = text.splitlines()[1].split(",")[1]
    project.manifest_csv.write_text(text.replace(first, name, 1), encoding="utf-8")
    one_error(capsys, project, "must be a plain file name inside data/raw/")


def test_extra_manifest_columns_are_reported(project, capsys, caplog):
    lines = project.manifest_csv.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",editor"] + [line + ",someone" for line in lines[1:]]
    project.manifest_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.raw.joinpath(".stop").write_text("x")
    one_error(capsys, project, ".stop is hidden")
    assert "'editor' are not used by the study" in caplog.text


@pytest.mark.parametrize("make,needle", [
    (lambda raw: raw.joinpath(".notes.txt").write_text("草稿"), ".notes.txt is hidden"),
    (lambda raw: raw.joinpath("old").mkdir(), "old is a folder"),
    (lambda raw: raw.joinpath("gone.txt").symlink_to(raw / "nowhere.txt"), "gone.txt is a broken symbolic link"),
    (lambda raw: raw.joinpath("host.txt").symlink_to("/etc/hostname"), "host.txt is a symbolic link to /etc/hostname (outside"),
])
def test_every_entry_of_data_raw_that_is_not_a_listed_file_is_reported(project, capsys, make, needle):
    make(project.raw)
    one_error(capsys, project, needle)


def replace_first_article(project, data: bytes) -> None:
    first = sorted(project.raw.iterdir())[0]
    first.write_bytes(data)


def test_punctuation_and_ideographic_spaces_have_no_chinese_text(project, capsys):
    replace_first_article(project, "，。、！？\u3000\u3000《》“”……\n".encode("utf-8") * 20)
    one_error(capsys, project, "has no Chinese text")


def test_one_invalid_byte_is_reported_at_its_offset(project, capsys):
    text = sorted(project.raw.iterdir())[0].read_bytes()
    replace_first_article(project, text[:300] + b"\xff" + text[300:])
    line = one_error(capsys, project, "utf-8: byte 0xff at offset 300")
    assert "gb18030" in line  # every codec tried is named


def test_a_one_sentence_article_is_refused_with_the_minimum(project, capsys):
    replace_first_article(project, "社区治理是基层治理的重要内容。\n".encode("utf-8"))
    one_error(capsys, project, "has 14 Chinese characters; an article needs at least 200 (ingest.min_chinese_chars)")


# -- command line ---------------------------------------------------------------------------------


def test_debug_shows_the_traceback(project, capsys):
    project.raw.joinpath(".hidden").write_text("x")
    code = main(["run", "--root", str(project.root), "--params", str(write_params(project.root, **SMALL)),
                 "--results", str(project.root.parent / "out"), "--debug"])
    assert code == 2 and "Traceback" in capsys.readouterr().err


def test_global_options_work_after_the_subcommand(tmp_path):
    params = write_params(tmp_path, themes={"k_max": "twelve"})
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--results", str(tmp_path / "out"),
                           "--params", str(params), "--quiet"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2 and "themes.k_max" in done.stderr


def test_help_documents_exit_codes_and_only_existing_commands():
    done = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT)
    assert "exit codes" in done.stdout and "130" in done.stdout
    assert "<stage>" not in done.stdout
    for name in ("run", "check", "bench"):
        sub = subprocess.run([sys.executable, "-m", "pipeline", name, "--help"], capture_output=True, text=True,
                             cwd=PROJECT_ROOT)
        assert sub.returncode == 0 and "exit codes" in sub.stdout


def test_an_unexpected_failure_is_one_line_with_exit_1(project, capsys, monkeypatch):
    import pipeline.run.runner as runner

    def broken(*args, **kwargs):
        raise ValueError("a stage failed\nwith details")

    monkeypatch.setattr(runner, "run_study", broken)
    code, lines = run_cli(capsys, project)
    assert code == 1
    assert lines == [line for line in lines if line.startswith("error: ValueError: a stage failed (in ")]
    assert len(lines) == 1 and os.path.basename(__file__) in lines[0]


# -- stage cache ------------------------------------------------------------------------------------


def cache_with_one_entry(tmp_path, **kw):
    from pipeline.run.cache import StageCache

    cache = StageCache(tmp_path / "cache", **kw)
    key = cache.key("corpus", inputs="x")
    assert cache.get_or_compute(key, lambda: {"value": 1}) == {"value": 1}
    return cache, key, tmp_path / "cache" / f"{key}.pkl"


@pytest.mark.parametrize("damage", [
    lambda data: os.urandom(len(data)),            # random bytes
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one flipped bit in the pickle
    lambda data: data[:10],                         # truncated
])
def test_an_unreadable_cache_entry_is_discarded_and_recomputed(tmp_path, caplog, damage):
    cache, key, path = cache_with_one_entry(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get_or_compute(key, lambda: {"value": 2}) == {"value": 2}
    assert "recomputing" in caplog.text
    assert cache.get_or_compute(key, lambda: {"value": 3}) == {"value": 2}  # the new entry is good


def test_a_cache_entry_that_checks_out_but_does_not_unpickle_is_recomputed(tmp_path, caplog):
    import hashlib

    cache, key, path = cache_with_one_entry(tmp_path)
    payload = b"\x80\x05not a pickle"
    path.write_bytes(hashlib.sha256(payload).digest() + payload)
    assert cache.get_or_compute(key, lambda: "again") == "again" and "no longer loads" in caplog.text


def test_the_cache_is_pruned_above_its_size_oldest_first(tmp_path):
    from pipeline.run.cache import StageCache

    cache = StageCache(tmp_path / "cache", max_mb=0.25)
    for i in range(6):
        cache.get_or_compute(f"stage{i}-k", lambda: os.urandom(100_000))
        os.utime(tmp_path / "cache" / f"stage{i}-k.pkl", (i, i))  # stage0 is the least recently used
    kept = sorted(p.name for p in (tmp_path / "cache").glob("*.pkl"))
    assert kept == ["stage4-k.pkl", "stage5-k.pkl"]
    assert sum(p.stat().st_size for p in (tmp_path / "cache").iterdir()) <= 0.25 * 2**20


# -- atomic swap and progress -----------------------------------------------------------------------


def test_concurrent_swaps_never_fail_halfway(tmp_path):
    import threading

    from pipeline.common import io

    target, failures = tmp_path / "results", []

    def swapper(n: int) -> None:
        for i in range(150):
            try:
                with io.staged_directory(target) as staging:
                    (staging / "a.csv").write_text(f"{n}-{i}")
                    (staging / "b.csv").write_text(f"{n}-{i}")
            except Exception as exc:  # noqa: BLE001 (counted)
                failures.append(exc)

    threads = [threading.Thread(target=swapper, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    while not target.exists():
        time.sleep(0.001)
    missing = 0
    while any(t.is_alive() for t in threads):
        missing += not target.is_dir()  # once there, the results folder is never missing
    for thread in threads:
        thread.join()
    assert failures == [] and missing == 0
    assert [p.name for p in tmp_path.iterdir()] == ["results"]
    assert (target / "a.csv").read_text() == (target / "b.csv").read_text()


def test_progress_bars_are_quiet_in_logs_and_under_quiet(monkeypatch):
    from pipeline.common import parallel

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert not parallel.progress(range(3), "articles").disable  # a terminal: shown, with an ETA
    parallel.set_progress(False)
    try:
        assert parallel.progress(range(3), "articles").disable  # --quiet
    finally:
        parallel.set_progress(True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert parallel.progress(range(3), "articles").disable  # a log file or CI: nothing


def test_check_compares_manifests_without_the_git_block_and_the_digest_over_it(tmp_path):
    import json

    from pipeline.run.compare import compare_trees
    from pipeline.run.guard import read_manifest, seal

    for name, commit in (("a", "1111"), ("b", "2222")):
        (tmp_path / name).mkdir()
        manifest = seal({"git": {"source_commit": commit}, "outputs": {}, "fingerprint": "f"})
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        assert read_manifest(tmp_path / name) == manifest  # intact: its digest matches
    assert compare_trees(tmp_path / "a", tmp_path / "b").verdict == "identical"
    other = seal({"git": {"source_commit": "1111"}, "outputs": {}, "fingerprint": "g"})
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(other), encoding="utf-8")
    found = compare_trees(tmp_path / "a", tmp_path / "b")
    assert found.verdict == "different"
    assert [d.file for d in found.differences] == ["manifest.json"]


NUMBERS = [(key, words) for key, words in described_keys()
           if words.startswith(("an integer", "a number")) and not key.startswith("bench.")]


def _with(raw: dict, dotted: str, value) -> dict:
    params = copy.deepcopy(raw)
    *sections, key = dotted.split(".")
    node = params
    for name in sections:
        node = node[name]
    node[key] = value
    return params


RAW = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))


@settings(max_examples=25, deadline=None)
@given(value=st.one_of(st.text(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_no_word_boolean_or_list_passes_for_a_number(value):
    for key, words in NUMBERS:
        assert problems(_with(RAW, key, value)), key


@settings(max_examples=25, deadline=None)
@given(number=st.integers(min_value=-10**6, max_value=10**6))
def test_an_integer_passes_exactly_when_it_is_in_range(number):
    for key, words in NUMBERS:
        if not words.startswith("an integer"):
            continue
        low, high = _bounds(words)
        found = [p for p in problems(_with(RAW, key, number)) if p.startswith(key + " = ") and ": expected" in p]
        assert (not found) == (low <= number <= high), (key, number, found)


def _bounds(words: str) -> tuple[float, float]:
    """The range an expectation states in words ("an integer in [0, 5]", "an integer >= 2")."""
    if " in [" in words:
        low, high = words.split(" in [")[1].split("]")[0].split(", ")
        return float(low), float(high)
    if ">= " in words:
        return float(words.split(">= ")[1].split(",")[0]), float("inf")
    return float("-inf"), float("inf")
