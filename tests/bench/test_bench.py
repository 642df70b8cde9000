"""The scaling benchmark: scaled corpora, growth exponents, and a quick run end to end."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
from conftest import raw_text
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.bench.bench import run_bench
from pipeline.bench.corpus import real_articles, synthetic_corpus, write_project
from pipeline.bench.memory import StageMemory
from pipeline.bench.settings import BENCH_CSV_COLUMNS, bench_settings, scale_params
from pipeline.bench.summary import bench_table, fit_rows, growth_exponent, ratio_row, ratio_table
from pipeline.common.config import Paths
from pipeline.common.params import problems
from pipeline.corpus import ingest


def real_snippet_articles() -> list[dict]:
    """Paragraphs of three real raw articles, standing in for their cleaned units."""
    articles = []
    for doc_id, province in (("anhui", "安徽省"), ("hefei", "安徽省"), ("chengdu", "四川省")):
        paragraphs = [line.strip() for line in raw_text(doc_id).splitlines() if len(line.strip()) >= 30]
        articles.append({"doc_id": doc_id, "province": province, "units": paragraphs[:8]})
    return articles


# ------------------------------------------------------------ scaled corpora


def test_synthetic_corpus_resamples_each_article_from_its_own_units():
    articles = real_snippet_articles()
    rows = synthetic_corpus(articles, factor=7, articles_per_place=3, seed=5)
    assert len(rows) == 7 * len(articles)
    lengths = {len(a["units"]) for a in articles}
    for article in articles:
        own = [r for r in rows if r["doc_id"].startswith(article["doc_id"] + "_")]
        assert len(own) == 7
        assert {r["province"] for r in own} == {article["province"]}
        # ceil(7 / 3) = 3 synthetic places per real article, none shared with another article
        assert len({r["place"] for r in own}) == 3
        for r in own:
            paragraphs = r["text"].rstrip("\n").split("\n")
            assert set(paragraphs) <= set(article["units"])
            assert len(paragraphs) in lengths
    places = [r["place"] for r in rows]
    assert len(set(places)) == 3 * len(articles)
    assert all(p.startswith("样本市") for p in places)
    assert len({"".join(r["text"].split()) for r in rows}) == len(rows)  # no duplicate texts


def test_synthetic_corpus_is_seeded():
    articles = real_snippet_articles()
    first = synthetic_corpus(articles, 4, 10, seed=1)
    assert first == synthetic_corpus(articles, 4, 10, seed=1)
    assert [r["text"] for r in first] != [r["text"] for r in synthetic_corpus(articles, 4, 10, seed=2)]


def test_synthetic_corpus_refuses_what_cannot_be_distinct():
    one = [{"doc_id": "x", "province": "安徽省", "units": ["只有一个单元的文章。"]}]
    with pytest.raises(ValueError, match="too few distinct units"):
        synthetic_corpus(one, factor=2, articles_per_place=5, seed=0)


def test_a_scaled_project_passes_ingestion(tmp_path, project_params):
    rows = synthetic_corpus(real_snippet_articles(), 3, 2, seed=9)
    root = write_project(tmp_path / "scaled", Paths.at(), project_params.record(), rows, with_notebooks=False)
    docs = ingest.load_documents(root.raw, root.manifest_csv, ["utf-8"], lambda text: 0.0, 0.3,
                                 project_params.ingest.pages)
    assert [d.doc_id for d in docs] == [r["doc_id"] for r in rows]
    assert [d.text for d in docs] == [r["text"] for r in rows]
    assert (root.lexicon / "governance_terms.csv").exists() and root.params.exists()


def test_real_articles_follow_the_manifest_order():
    units = [{"doc_id": "b", "text": "乙一"}, {"doc_id": "a", "text": "甲一"}, {"doc_id": "b", "text": "乙二"}]
    manifest = [{"doc_id": "a", "place": "甲市", "province": ""}, {"doc_id": "b", "place": "乙市", "province": "乙省"}]
    assert real_articles(units, manifest) == [
        {"doc_id": "a", "province": "甲市", "units": ["甲一"]},
        {"doc_id": "b", "province": "乙省", "units": ["乙一", "乙二"]},
    ]


# ----------------------------------------------------------------- settings


def test_quick_settings_replace_their_full_counterparts(project_params):
    full = bench_settings(project_params, quick=False)
    quick = bench_settings(project_params, quick=True)
    assert full["scales"] == sorted(project_params.bench.scales)
    assert quick["scales"] == sorted(project_params.bench.quick_scales)
    assert max(quick["scales"]) <= 10
    assert not any(k.startswith("quick_") for k in quick)


def test_scale_params_override_without_touching_the_study_params(project_params):
    settings_ = bench_settings(project_params, quick=False)
    before = project_params.record()
    run = scale_params(project_params, settings_, 1000)
    assert project_params.record() == before
    assert run["clean"]["near_duplicates"]["check"] is False  # the resampled corpus is near-duplicate by design
    assert run["clean"]["near_duplicates"]["threshold"] == project_params.clean.near_duplicates.threshold
    for section in ("ingest", "segment", "units", "emphases", "themes"):  # the study's own parameters
        assert run[section] == project_params.record()[section], section
    assert not problems(run)  # written as the benchmark project's params.yaml, it loads
    assert run["report"]["execute_notebooks"] is False  # the report runs on the real corpus only


# -------------------------------------------------------------- arithmetic


@settings(max_examples=50, deadline=None)
@given(exponent=st.floats(0.2, 2.5), constant=st.floats(1e-3, 10.0))
def test_growth_exponent_recovers_a_power_law(exponent, constant):
    sizes = [67, 655, 6550, 65500]
    seconds = [constant * s**exponent for s in sizes]
    assert growth_exponent(sizes, seconds) == pytest.approx(exponent, rel=1e-6)


def test_growth_exponent_needs_two_sizes():
    assert math.isnan(growth_exponent([10, 10], [1.0, 2.0]))


def test_fits_leave_out_the_fixed_cost_of_the_smallest_scale():
    rows = [{"scale": s, "condition": "study", "units": 67 * s, "stage": "segment", "seconds": 5.0 + 0.01 * 67 * s}
            for s in (1, 10, 100, 1000)]
    fits = fit_rows(pd.DataFrame(rows))
    assert fits.loc[0, "fit_scales"] == "10,100,1000"
    assert 0.6 < fits.loc[0, "exponent"] < 1.0


def test_ratio_row_reads_as_times_faster():
    row = ratio_row("segment_2_vs_1_processes", 100, "one", 10.0, "two", 5.0, 1.7, True)
    assert row["value"] == 2.0 and row["meets_target"] is True and row["identical"] is True
    slow = ratio_row("segment_vs_raw_jieba", 100, "raw", 1.0, "ours", 4.0, 0.8, None)
    assert slow["value"] == 0.25 and slow["meets_target"] is False and slow["identical"] == ""


def test_the_whole_study_is_set_against_raw_jieba_over_the_same_text_at_each_ratio_scale():
    def segment(raw_seconds):
        pair = {"ratio": 1.2, "theirs_seconds": raw_seconds, "ours_seconds": raw_seconds / 1.2}
        return {"interleaved": {"segment_vs_raw_jieba": pair}, "timings": {"segment_1_process": 2.0,
                "segment_2_processes": 1.0}, "identical": True}
    themes = {"timings": {"themes_1_process": 3.0, "themes_2_processes": 2.0}, "identical": True}
    targets = {"segment_vs_jieba": 0.9, "workers_speedup": 1.7, "study_vs_jieba": 0.1}
    table = ratio_table({100: segment(4.0), 1000: segment(40.0)}, themes, 100, targets,
                        totals={1: 30.0, 100: 36.0, 1000: 500.0}).set_index(["ratio", "scale"])
    at_100, at_1000 = table.loc[("study_vs_raw_jieba", 100)], table.loc[("study_vs_raw_jieba", 1000)]
    # raw jieba's seconds over the study's: 4 s of jieba against a 36 s study is 9 times, within ten
    assert (at_100["numerator_seconds"], at_100["denominator_seconds"]) == (4.0, 36.0)
    assert at_100["value"] == round(4 / 36, 3) and bool(at_100["meets_target"]) is True
    assert at_1000["value"] == 0.08 and bool(at_1000["meets_target"]) is False
    # no row at a scale whose study was not timed, and none without totals
    assert ("study_vs_raw_jieba", 1) not in table.index
    plain = ratio_table({100: segment(4.0)}, themes, 100, targets)
    assert "study_vs_raw_jieba" not in set(plain["ratio"])


def test_bench_table_orders_stages_as_they_run():
    stages = {name: {"seconds": 1.0, "peak_rss_mb": 100.0, "maxrss_mb": 90.0}
              for name in ("total", "themes_output", "segment", "other", "ingest", "themes", "clean")}
    found = {"articles": 5, "places": 5, "units": 67, "tokens": 4000, "chars": 11000, "stages": stages}
    table = bench_table({10: found, 1: found})
    assert list(table.columns) == list(BENCH_CSV_COLUMNS)
    assert table["scale"].tolist() == [1] * 7 + [10] * 7
    assert table["stage"].tolist()[:7] == ["ingest", "clean", "segment", "themes", "themes_output", "other", "total"]


def test_stage_memory_follows_the_runner_stage_lines():
    runner_log = logging.getLogger("pipeline")
    level = runner_log.level
    runner_log.setLevel(logging.INFO)
    try:
        with StageMemory(interval=0.01) as memory:
            runner_log.info("stage %s: started", "segment")
            ballast = np.ones(20 * 2**20 // 8)  # 20 MB resident while the stage runs
            memory.sample()
            runner_log.info("stage %s: done in %.1f s", "segment", 0.0)
            del ballast
    finally:
        runner_log.setLevel(level)
    assert memory.peaks["segment"] >= 20
    assert memory.overall >= memory.peaks["segment"]
    assert "between" in memory.peaks


# --------------------------------------------------------------- end to end


@pytest.mark.slow
def test_quick_benchmark_end_to_end(project_params, tmp_path):
    project = Paths.at()
    results_before = sorted(p.relative_to(project.results).as_posix() for p in project.results.rglob("*")) \
        if project.results.exists() else []
    out = tmp_path / "bench"
    # The quick mode with less to time: cleaning in the scale's run in this process (the cleaning ratio
    # still starts its 2 workers), and 2 interleaved slices, the fewest in which each side runs first once.
    params = project_params.updated({"bench": {"quick_workers_ratio_slices": 2,
                                               "quick_overrides": {"clean": {"processes": 1}}}})
    summary = run_bench(project, params, quick=True, out_dir=out, work_dir=tmp_path / "work")

    table = pd.read_csv(out / "bench.csv")
    assert list(table.columns) == list(BENCH_CSV_COLUMNS)
    assert sorted(table["scale"].unique()) == [10]
    for stage in ("ingest", "clean", "segment", "emphases", "themes", "total"):
        rows = table[table["stage"] == stage]
        assert len(rows) == 1, stage
        assert (rows["seconds"] > 0).all(), stage
        assert (rows["peak_rss_mb"] > 0).all(), stage
    total = table[table["stage"] == "total"].iloc[0]
    assert table[~table["stage"].isin(["total"])]["seconds"].sum() == pytest.approx(total["seconds"], abs=0.01)
    # The quick benchmark runs at scale 10: ten synthetic articles per real one.
    real = len(ingest.read_manifest(project.manifest_csv))
    assert total["articles"] == 10 * real and total["units"] > 300 and total["tokens"] > 0

    ratios = pd.read_csv(out / "ratios.csv").set_index("ratio")
    assert bool(ratios.loc["segment_2_workers_vs_1_process", "identical"]) is True
    assert bool(ratios.loc["themes_2_workers_vs_1_process", "identical"]) is True
    assert bool(ratios.loc["segment_2_workers_vs_1_process_interleaved", "identical"]) is True
    # The machine's ceiling has no target: it measures the machine, not the study.
    assert str(ratios.loc["segment_2_bare_processes_vs_1_ceiling", "target"]) == "nan"
    assert (ratios["value"] > 0).all()

    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["mode"] == "quick"
    assert summary["largest_scale"]["scale"] == 10
    # The project's own results/ were not touched.
    results_after = sorted(p.relative_to(project.results).as_posix() for p in project.results.rglob("*")) \
        if project.results.exists() else []
    assert results_after == results_before
