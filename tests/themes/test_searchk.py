"""The exploratory model held to stm's standards: pruning, per-topic quality, prevalence by covariate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.themes.model import run_themes
from pipeline.themes.vocabulary import pruning_table

from tests.themes.test_themes import TERM_CATEGORIES, make_units, small


@pytest.fixture(scope="module")
def run(base_params):
    units = make_units()
    covariates = {u["doc_id"]: {"level": "province" if u["doc_id"] == "anhui" else "city",
                                "province": "安徽省" if u["doc_id"] in ("anhui", "hefei", "huainan") else u["place"]}
                  for u in units}
    return units, run_themes(units, TERM_CATEGORIES, small(base_params, no_above=0.6), {}, covariates)


@pytest.fixture(scope="module")
def base_params() -> dict:
    from pipeline.common.config import PROJECT_ROOT
    from pipeline.common.params import load_params

    return load_params(PROJECT_ROOT / "params.yaml").themes.record()


def test_no_topic_term_is_in_more_units_than_no_above(run):
    units, out = run
    n = len(units)
    share = {t: sum(t in u["tokens"] for u in units) / n for t in set(out.topics["term"])}
    assert max(share.values()) <= 0.6
    pruned = out.vocabulary_pruning
    common = pruned[pruned["reason"].str.startswith("in more than")]
    assert (common["unit_share"] > 0.6).all()
    assert not set(common["term"]) & set(out.topics["term"])


def test_topic_quality_reports_stm_measures_per_topic(run):
    _, out = run
    q = out.topic_quality
    assert list(q["topic"]) == list(range(1, out.chosen_k + 1))
    assert {"c_npmi", "c_v", "exclusivity", "semantic_coherence", "stability"} <= set(q.columns)
    assert ((q["c_npmi"] >= -1) & (q["c_npmi"] <= 1)).all()
    assert ((q["exclusivity"] > 0) & (q["exclusivity"] <= 10)).all() and (q["semantic_coherence"] <= 0).all()


def test_group_shares_cover_place_level_and_province(run):
    _, out = run
    g = out.group_topics
    assert set(g["covariate"]) == {"place", "level", "province"}
    kinds = g.drop_duplicates(["covariate", "group"]).set_index(["covariate", "group"])["interval"]
    # Three Anhui articles: resampled as articles; one Sichuan article: its units, marked optimistic.
    assert kinds[("province", "安徽省")] == "cluster" and kinds[("province", "成都市")] == "units_optimistic"
    assert kinds[("level", "city")] == "cluster"
    sums = g.groupby(["covariate", "group"])["share"].sum()
    assert (abs(sums - 1) < 1e-4).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["村", "服务", "协商", "网格", "智慧", "党建"]), min_size=1, max_size=8),
                min_size=2, max_size=12),
       st.sampled_from([0.25, 0.5, 0.75]))
def test_pruning_lists_exactly_the_terms_above_no_above(texts, no_above):
    places = ["甲"] * len(texts)
    table = pruning_table(texts, places, 2, no_above)
    listed = set(table[table["reason"].str.startswith("in more than")]["term"])
    expected = {t for t in {t for x in texts for t in x} if sum(t in x for x in texts) > no_above * len(texts)}
    assert listed == expected
