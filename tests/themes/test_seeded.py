"""Keyword-assisted (seeded) topics, stm's per-topic measures and prevalence by covariate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import ThemeParams
from pipeline.figures.themes import (SEEDED_FIGURE, SEEDED_UNSTABLE_FIGURE, figure_seeded_place_topics,
                                     seeded_figures)
from pipeline.common.outputs import tables_of
from pipeline.themes.group_prevalence import covariate_shares, group_shares
from pipeline.themes.seeded import FREE, choose_seeds, dimensions, free_topic_count, seeded_prior
from pipeline.themes.seeded_tables import run_seeded, topic_stability
from pipeline.themes.stm_measures import frex_exclusivity, semantic_coherence

# Planted topics: disjoint vocabularies written as governance passages would be.
PLANTED = {
    "party": ["党建", "引领", "党组织", "书记", "党员", "先锋", "支部", "组织生活"],
    "digital": ["智慧", "平台", "数据", "系统", "线上", "智能", "终端", "应用"],
    "consult": ["协商", "议事", "居民", "自治", "委员会", "理事会", "会议", "意见"],
    "grid": ["网格", "网格员", "楼栋", "巡查", "走访", "上报", "排查", "包保"],
}
# The lexicon lists the dimensions in an order unlike the planted order, so a
# seeded topic's index is not where an unseeded fit would happen to put it.
TERM_CATEGORIES = {
    "社区": "governance_frame",
    "网格": "grid_management", "网格员": "grid_management",
    "协商": "self_governance_consultation", "议事": "self_governance_consultation",
    "智慧": "digital_governance", "平台": "digital_governance",
    "党建": "party_leadership", "党组织": "party_leadership",
    "从未出现": "moral_governance",
}
DIMENSION_OF = {"grid_management": "grid", "self_governance_consultation": "consult",
                "digital_governance": "digital", "party_leadership": "party"}


def planted_units(per_doc: int = 12, length: int = 40, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    names = list(PLANTED)
    units = []
    docs = [("d1", "甲市", 0), ("d2", "乙市", 1), ("d3", "丙省", 2), ("d4", "丁市", 3)]
    for doc_id, place, lead in docs:
        for i in range(per_doc):
            mix = rng.dirichlet(np.full(len(names), 0.2))
            tokens = ["社区"]
            for _ in range(length):
                topic = names[int(rng.choice(len(names), p=mix))]
                tokens.append(PLANTED[topic][int(rng.integers(len(PLANTED[topic])))])
            units.append({"unit_id": f"{doc_id}-{i:03d}", "doc_id": doc_id, "place": place,
                          "text": "".join(tokens), "tokens": tokens})
    return units


COVARIATES = {"d1": {"level": "city", "province": "甲省"}, "d2": {"level": "city", "province": "甲省"},
              "d3": {"level": "province", "province": "丙省"}, "d4": {"level": "city", "province": "丁省"}}


@pytest.fixture(scope="module")
def theme_params() -> ThemeParams:
    from pipeline.common.params import load_params

    params = load_params(PROJECT_ROOT / "params.yaml").updated({"themes": dict(
        passes=10, iterations=100, bootstrap_samples=200, processes=1, no_above=1.0,
        seeded=dict(min_keyword_share=0.001, max_free=0, seeds=[1, 2]))})
    return params.themes


@pytest.fixture(scope="module")
def seeded_run(theme_params) -> dict:
    return run_seeded(planted_units(), TERM_CATEGORIES, theme_params, COVARIATES)


def test_each_seeded_topic_is_its_planted_topic_at_the_seeded_index(seeded_run):
    topics = seeded_run.seeded_topics
    quality = seeded_run.seeded_topic_quality
    seeded = quality.dropna(subset=["topic"])
    # Topic numbers follow the lexicon's order of dimensions, frame excluded.
    assert list(seeded["dimension"]) == ["grid_management", "self_governance_consultation",
                                         "digital_governance", "party_leadership"]
    for row in seeded.itertuples():
        top = topics[topics["topic"] == row.topic].sort_values("rank")["term"].head(8)
        planted = set(PLANTED[DIMENSION_OF[row.dimension]])
        assert sum(t in planted for t in top) >= 7, (row.dimension, list(top))
        assert row.seeds_in_top10 == 2


def test_dimension_without_seed_is_reported_not_found(seeded_run):
    quality = seeded_run.seeded_topic_quality
    row = quality[quality["dimension"] == "moral_governance"].iloc[0]
    assert pd.isna(row["topic"]) and not row["found"] and "no lexicon term" in row["reason"]
    assert "governance_frame" not in set(quality["dimension"])


def test_tables_follow_the_results_contract(seeded_run):
    assert list(seeded_run.seeded_topics.columns[:6]) == ["topic", "dimension", "rank", "term", "weight", "seed"]
    assert list(seeded_run.seeded_topic_quality.columns[:8]) == [
        "topic", "dimension", "stability", "c_npmi", "exclusivity", "seeds_in_top10", "added_terms", "found"]
    places = seeded_run.seeded_place_topics
    assert list(places.columns[:6]) == ["place", "topic", "dimension", "share", "ci_low", "ci_high"]
    assert (places["ci_low"] <= places["share"]).all() and (places["share"] <= places["ci_high"]).all()
    sums = places.groupby("place")["share"].sum()
    assert np.allclose(sums, 1.0, atol=1e-4)
    assert set(seeded_run.seeded_sensitivity["factor"]) == {0.5, 1.0, 2.0}


def test_identical_across_runs_and_process_counts(seeded_run, theme_params, monkeypatch):
    from pipeline.themes import seeded

    again = run_seeded(planted_units(), TERM_CATEGORIES, theme_params, COVARIATES)
    # The synthetic corpus is small enough to run serially; make the workers run it.
    monkeypatch.setattr(seeded, "POOL_MIN_TOKENS", 0)
    parallel = run_seeded(planted_units(), TERM_CATEGORIES, theme_params.model_copy(update={"processes": 2}), COVARIATES)
    for name, table in tables_of(seeded_run).items():
        pd.testing.assert_frame_equal(table, getattr(again, name))
        pd.testing.assert_frame_equal(table, getattr(parallel, name))


def test_seeds_are_the_most_frequent_terms_above_the_floor(theme_params):
    sp = theme_params.seeded.model_copy(update=dict(max_keywords=2, min_keyword_share=0.01))
    cats = {"甲": "a", "乙": "a", "丙": "a", "丁": "b"}
    counts = {"甲": 5, "乙": 30, "丙": 20, "丁": 1}
    seeds = choose_seeds(counts, 1000, cats, ["a", "b"], sp)
    # 甲 (0.5%) is below the 1% floor; 丁 too, so b has no seed.
    assert seeds == {"a": [("乙", 30), ("丙", 20)], "b": []}


def test_frame_category_must_exist():
    with pytest.raises(ValueError, match="frame_category"):
        dimensions({"甲": "a"}, "governance_frame")


def test_free_topics_follow_the_units_no_seed_reaches():
    texts = [["甲"], ["乙"], ["丙"], ["丁"]]
    assert free_topic_count(texts, {"甲", "乙", "丙", "丁"}, 6, 5) == 0
    # Half the units unreached: as many free topics as seeded ones, capped.
    assert free_topic_count(texts, {"甲", "乙"}, 3, 5) == 3
    assert free_topic_count(texts, {"甲", "乙"}, 9, 5) == 5
    assert free_topic_count(texts, set(), 3, 2) == 2


def test_prior_adds_count_scale_pseudo_counts_only_to_the_seed_topic():
    prior = seeded_prior({"a": [("甲", 40)], "b": [("乙", 3)]}, ["a", "b", FREE], {"甲": 0, "乙": 1, "丙": 2},
                         3, 0.1, 0.5)
    assert np.allclose(prior, [[20.1, 0.1, 0.1], [0.1, 1.6, 0.1], [0.1, 0.1, 0.1]])


def test_topic_stability_compares_topics_at_the_same_index():
    runs = [[["a", "b"], ["c", "d"]], [["a", "b"], ["d", "e"]]]
    assert topic_stability(runs) == [1.0, pytest.approx(1 / 3)]


def test_frex_exclusivity_rewards_terms_held_by_one_topic():
    phi = np.array([[0.5, 0.3, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4]])
    shared = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]])
    exclusive = frex_exclusivity(phi, topn=2)
    assert exclusive.shape == (2,) and (exclusive > frex_exclusivity(shared, topn=2)).all()
    assert (exclusive <= 2.0).all()


def test_semantic_coherence_matches_stm_on_a_hand_computed_case():
    """stm's semCoh1beta (Mimno et al. 2011): for each pair, log(D(lower, higher) + 0.01) - log(D(higher) + 0.01),
    where `higher` is the higher-ranked term. Units {0,1}, {0,1}, {2}:
    topic [0, 1]: log(2 + 0.01) - log(2 + 0.01) = 0 (the two terms always co-occur);
    topic [0, 2]: log(0 + 0.01) - log(2 + 0.01) = -5.3033 (they never do; term 0 is in 2 units)."""
    docs = [{0, 1}, {0, 1}, {2}]
    coh = semantic_coherence([[0, 1], [0, 2]], docs)
    assert coh[0] == pytest.approx(0.0, abs=1e-12)
    assert coh[1] == pytest.approx(-5.3033, abs=5e-5)
    # The denominator is the higher-ranked term's count: reversing a topic's order changes the value.
    assert semantic_coherence([[2, 0]], docs)[0] == pytest.approx(np.log(0.01) - np.log(1.01))


def test_group_intervals_resample_articles_when_a_group_has_several():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    lengths = np.ones(4)
    table = group_shares(theta, lengths, ["x", "y", "z", "z"], ["g", "g", "h", "h"], "level", 300, 3)
    kinds = dict(zip(table["group"], table["interval"]))
    assert kinds == {"g": "cluster", "h": "units_optimistic"}
    g1 = table[(table["group"] == "g") & (table["topic"] == 1)].iloc[0]
    # Two articles at opposite ends: resampling articles spans the whole range.
    assert g1["share"] == 0.5 and g1["ci_low"] == 0.0 and g1["ci_high"] == 1.0


def test_missing_covariate_names_the_article():
    units = [{"doc_id": "a", "place": "甲"}, {"doc_id": "b", "place": "乙"}]
    with pytest.raises(ValueError, match="b"):
        covariate_shares(units, np.eye(2), np.ones(2), {"a": {"level": "city"}, "b": {}}, 10, 1)


# Seeded shares drawn by hand: rows out of topic order, intervals lopsided so
# that a mirrored error bar shows, and a dimension without a topic.
FIGURE_SHARES = pd.DataFrame([
    {"place": "甲市", "topic": 3, "dimension": FREE, "share": 0.10, "ci_low": 0.05, "ci_high": 0.40},
    {"place": "甲市", "topic": 1, "dimension": "digital_governance", "share": 0.60, "ci_low": 0.20, "ci_high": 0.65},
    {"place": "甲市", "topic": 2, "dimension": "social_forces", "share": 0.30, "ci_low": 0.25, "ci_high": 0.50},
    {"place": "乙市", "topic": 1, "dimension": "digital_governance", "share": 0.20, "ci_low": 0.15, "ci_high": 0.45},
    {"place": "乙市", "topic": 2, "dimension": "social_forces", "share": 0.70, "ci_low": 0.40, "ci_high": 0.75},
    {"place": "乙市", "topic": 3, "dimension": FREE, "share": 0.10, "ci_low": 0.02, "ci_high": 0.12},
])
FIGURE_NAMED = pd.DataFrame({"topic": [1, 2, 3],
                             "dimension": ["digital_governance", "social_forces", FREE],
                             "title": ["digital governance", "社会组织·项目·培育 (seeded: social forces)",
                                       "基层·平台·服务 (unseeded)"],
                             "named_from": ["dimension", "words", "words"],
                             "stable": [True, True, False], "top_words": ["智慧社区·数据·智能·服务", "社会组织·项目·培育",
                                                                          "基层·平台·服务"],
                             "home": ["甲市", "乙市", "甲市"], "one_place": [False, True, False]})


def _drawn(ax) -> dict:
    drawn = {}
    for container in ax.containers:
        point_line = container.lines[0]
        segments = container.lines[2][0].get_segments()
        for x, y, segment in zip(point_line.get_xdata(), point_line.get_ydata(), segments):
            (x0, y0), (x1, y1) = segment
            assert y0 == y1 == y
            drawn[(container.get_label(), round(float(y), 6))] = (round(float(x), 6), round(float(min(x0, x1)), 6),
                                                                   round(float(max(x0, x1)), 6))
    return drawn


def test_seeded_figure_draws_the_stable_topics_each_share_and_interval_on_its_row():
    """What the findings' figure shows, read back from its matplotlib objects.

    Only the stable topics 1 and 2 are drawn, topic 1 on the top row (y = 1);
    with two places 甲市 sits 0.3 above its row and 乙市 0.3 below. Every point
    is at its share and its bar runs from ci_low to ci_high. A topic named from
    its dimension shows its top words; one named from its words shows that name
    and, when one place holds it, the place. A bar mirrored about the share, an
    unstable topic drawn, or a label without its words fails.
    """
    from matplotlib import pyplot  # after the figures module set the Agg backend

    fig = figure_seeded_place_topics(FIGURE_SHARES, FIGURE_NAMED, stable=True)
    try:
        ax = fig.axes[0]
        labels = {round(y, 6): text.get_text() for y, text in zip(ax.get_yticks(), ax.get_yticklabels())}
        assert labels == {1: "digital governance: 智慧社区·数据·智能",
                          0: "社会组织·项目·培育 (seeded: social forces)  [one place: 乙市]"}
        assert ax.get_xlim()[0] == 0
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["甲市", "乙市"]
        assert _drawn(ax) == {("甲市", 1.3): (0.60, 0.20, 0.65), ("甲市", 0.3): (0.30, 0.25, 0.50),
                              ("乙市", 0.7): (0.20, 0.15, 0.45), ("乙市", -0.3): (0.70, 0.40, 0.75)}
    finally:
        pyplot.close(fig)
    fig = figure_seeded_place_topics(FIGURE_SHARES, FIGURE_NAMED, stable=False)
    try:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["基层·平台·服务 (unseeded)"]
        assert _drawn(ax) == {("甲市", 0.3): (0.10, 0.05, 0.40), ("乙市", -0.3): (0.10, 0.02, 0.12)}
    finally:
        pyplot.close(fig)


def test_seeded_figures_are_saved_as_pngs_under_their_names(tmp_path):
    """The findings link the stable topics' figure, the appendix the unstable ones'."""
    paths = [draw(tmp_path / name) for name, draw in seeded_figures(FIGURE_SHARES, FIGURE_NAMED).items()]
    assert paths == [tmp_path / SEEDED_FIGURE, tmp_path / SEEDED_UNSTABLE_FIGURE]
    assert SEEDED_FIGURE == "themes_seeded_place_topics.png"
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_no_keyword_above_the_floor_stops_with_a_clear_error(theme_params):
    params = theme_params.model_copy(update={"seeded": theme_params.seeded.model_copy(
        update={"min_keyword_share": 0.5})})
    with pytest.raises(ValueError, match="lower min_keyword_share"):
        run_seeded(planted_units(per_doc=2), TERM_CATEGORIES, params, COVARIATES)
