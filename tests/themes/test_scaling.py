"""Scaling of the themes stage with the corpus: passes and E-step cap per fit, the sweep's stratified sample."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.themes import group_prevalence
from pipeline.themes.model import run_themes
from pipeline.common.params import ThemeParams
from pipeline.themes.scaling import allocate, fit_schedule, schedule, stratified_sample
from tests.themes.test_themes import PLACES, TERM_CATEGORIES, make_units, small


@pytest.fixture(scope="module")
def project() -> ThemeParams:
    from pipeline.common.params import load_params

    return load_params(PROJECT_ROOT / "params.yaml").themes


@pytest.mark.parametrize("n_units", [1, 40, 55, 67, 69, 540, 690])
def test_corpora_up_to_tenfold_keep_the_configured_passes_and_iterations(project, n_units):
    # The real corpus (~70 units, ~55 in the sweep's training split) and its
    # tenfold resample (~690 units) are fitted exactly as before the rule.
    assert schedule(project, n_units) == (project.passes, project.iterations)


def test_a_large_corpus_gets_fewer_passes_and_a_smaller_cap(project):
    passes, iterations = schedule(project, 69_000)
    assert passes == project.min_passes < project.passes
    assert project.min_iterations <= iterations < project.iterations
    # The sweep's training part of the sample lies in between.
    sweep = schedule(project, int(project.selection_max_units * (1 - project.holdout_fraction)))
    assert passes <= sweep[0] < project.passes


def test_schedule_is_monotone_and_bounded():
    sizes = list(range(1, 5000, 7)) + [10_000, 100_000, 1_000_000]
    runs = [fit_schedule(n, 20, 200, 14_000, 2, 50) for n in sizes]
    passes = [p for p, _ in runs]
    iterations = [i for _, i in runs]
    assert passes == sorted(passes, reverse=True) and iterations == sorted(iterations, reverse=True)
    assert min(passes) == 2 and max(passes) == 20
    assert min(iterations) == 50 and max(iterations) == 200
    # Passes x units never falls short of the budget while passes are below the maximum.
    assert all(p * n >= 14_000 for n, p in zip(sizes, passes) if p < 20)


def test_schedule_respects_small_configurations():
    # A floor above the configured passes or iterations never raises them.
    assert fit_schedule(10_000, 4, 30, 14_000, 5, 50) == (4, 30)
    assert fit_schedule(3, 4, 30, 14_000, 1, 10) == (4, 30)
    assert fit_schedule(14_000, 20, 200, 14_000, 1, 10) == (1, 10)


def test_allocation_keeps_every_place_and_adds_up():
    sizes = [1000, 10, 1, 500, 3]
    counts = allocate(sizes, 100)
    assert sum(counts) == 100
    assert all(1 <= c <= s for c, s in zip(counts, sizes))
    assert counts[0] > counts[3] > counts[1]
    assert allocate(sizes, 2000) == sizes
    with pytest.raises(ValueError, match="keep all 5 places"):
        allocate(sizes, 4)


def _units(sizes: dict[str, int]) -> list[dict]:
    # Places interleaved, so the sample cannot rely on places forming blocks.
    units = []
    for i in range(max(sizes.values())):
        for place, n in sizes.items():
            if i < n:
                units.append({"unit_id": f"{place}-{i}", "place": place})
    return units


def test_stratified_sample_is_seeded_stratified_and_of_the_given_size():
    sizes = {"甲市": 3000, "乙市": 700, "丙县": 40, "丁镇": 2}
    units = _units(sizes)
    sample = stratified_sample(units, 500, 13)
    assert len(sample) == 500 == len(set(sample))
    assert sample == sorted(sample)
    per_place = Counter(units[i]["place"] for i in sample)
    assert set(per_place) == set(sizes)
    for place, n in sizes.items():
        assert abs(per_place[place] - 500 * n / len(units)) <= 2
    assert sample == stratified_sample(units, 500, 13)
    assert sample != stratified_sample(units, 500, 14)


def test_stratified_sample_of_a_small_corpus_is_every_unit_and_too_small_a_sample_is_refused():
    units = _units({"甲市": 5, "乙市": 5})
    assert stratified_sample(units, 10, 13) == list(range(10))
    with pytest.raises(ValueError, match="selection_max_units"):
        stratified_sample(_units({"甲市": 5, "乙市": 5, "丙县": 5}), 2, 13)


def test_sweep_runs_on_the_sample_and_the_final_model_on_every_unit():
    units = make_units(per_place=8)
    from pipeline.common.params import load_params

    params = small(load_params(PROJECT_ROOT / "params.yaml").themes.record(), selection_max_units=25, k_max=3,
                   ablation=False)
    run = run_themes(units, TERM_CATEGORIES, params, {})
    summary = run.summary
    assert summary.sweep_sampled and summary.sweep_units == 25
    assert summary.train_units + summary.heldout_units == 25
    assert summary.train_units == 20  # 5 units per place, one of them held out
    assert summary.final_passes_iterations == [4, 30]
    assert len(run.unit_topics) == len(units) * run.chosen_k
    assert set(run.place_topics["place"]) == set(PLACES.values())
    assert (run.place_topics["units"] == 8).all()


def test_per_article_sums_agree_on_both_paths(monkeypatch):
    rng = np.random.default_rng(3)
    theta = rng.dirichlet(np.ones(4), size=300)
    lengths = rng.integers(0, 40, size=300).astype(float)
    docs = [f"d{int(i)}" for i in rng.integers(0, 30, size=300)]
    groups = ["甲" if i % 3 else "乙" for i in range(300)]
    dense = group_prevalence.group_shares(theta, lengths, docs, groups, "place", 200, 5)
    monkeypatch.setattr(group_prevalence, "DENSE_MEMBER_CELLS", 0)
    summed = group_prevalence.group_shares(theta, lengths, docs, groups, "place", 200, 5)
    assert (dense["interval"] == "cluster").all()
    for column in ("share", "ci_low", "ci_high"):
        np.testing.assert_allclose(summed[column], dense[column], rtol=1e-12)
