"""Themes stage: K sweep, stability, labels, prevalence by place, cross-checks, LDAvis."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.common.numeric import round_sig
from pipeline.themes.group_prevalence import group_shares
from pipeline.themes.labels import apply_labels, load_topic_labels, suggest_label
from pipeline.themes.ldavis import LDAVIS_DIV_ID, deterministic_pcoa, ldavis_html, ldavis_prepare
from pipeline.themes.matching import agreement, match_topics
from pipeline.themes.model import run_themes
from pipeline.common.params import ThemeParams, problems
from pipeline.themes.params import top_terms
from pipeline.themes.prevalence import place_shares, topic_roles
from pipeline.themes.results import ThemesResult
from pipeline.themes.selection import choose_k
from pipeline.themes import sweep
from pipeline.themes.sweep import (COHERENCE_MEASURES, FitResult, SweepData, segmentation_data, coherence_scores, job_pool, split_units,
                                   sweep_coherence, sweep_table)

PLACES = {"anhui": "安徽省", "suzhou": "苏州市", "hefei": "合肥市", "huainan": "淮南市", "chengdu": "成都市"}

# Theme vocabularies taken from sentences of the corpus (segmented by hand), e.g.
# Hefei: 健全协商组织,调动群众参与 ... 协商工作委员会全覆盖;
# Anhui: “五社联动”优势充分发挥 ... 社会工作服务站 ... 居家养老、儿童关爱保护;
# Chengdu / Suzhou: 党建引领 ... 网格化 ... 智慧社区.
THEMES = {
    "consultation": ["协商", "议事", "群众", "参与", "自治", "委员会", "居民", "全覆盖", "调解", "理事会"],
    "social_work": ["社会工作", "服务站", "联动", "社工", "养老", "儿童", "关爱", "志愿服务", "专业", "人才"],
    "party_grid": ["党建", "引领", "党组织", "网格", "网格化", "书记", "党员", "小区", "楼栋", "网格员"],
    "digital": ["智慧", "信息化", "平台", "数据", "系统", "线上", "互联网", "智能", "终端", "应用"],
}
# Which themes each place writes about, heaviest first: consultation is everywhere,
# the others lean on one or two places.
PLACE_THEMES = {
    "anhui": ["social_work", "consultation"],
    "suzhou": ["party_grid", "consultation", "digital"],
    "hefei": ["consultation", "digital"],
    "huainan": ["consultation", "social_work"],
    "chengdu": ["party_grid", "consultation"],
}
TERM_CATEGORIES = {
    "协商": "self_governance_consultation",
    "议事": "self_governance_consultation",
    "自治": "self_governance_consultation",
    "社会工作": "social_forces",
    "社工": "social_forces",
    "志愿服务": "social_forces",
    "养老": "public_services_elderly_care",
    "党建": "party_leadership",
    "党组织": "party_leadership",
    "网格": "grid_management",
    "网格化": "grid_management",
    "网格员": "grid_management",
    "智慧": "digital_governance",
    "信息化": "digital_governance",
    "平台": "digital_governance",
}


def make_units(per_place: int = 8, length: int = 30, seed: int = 0) -> list[dict]:
    """Units in the contract's shape, drawn from the place's themes."""
    rng = np.random.default_rng(seed)
    units = []
    for doc_id, place in PLACES.items():
        themes = PLACE_THEMES[doc_id]
        weights = np.array([2.0**-i for i in range(len(themes))])
        weights /= weights.sum()
        for i in range(per_place):
            mix = rng.dirichlet(weights * 3)
            tokens = []
            for _ in range(length):
                vocab = THEMES[themes[rng.choice(len(themes), p=mix)]]
                tokens.append(vocab[int(rng.integers(len(vocab)))])
            # Plain segmentation splits lexicon terms and keeps function words.
            plain = []
            for t in tokens:
                plain.extend([t[:2], t[2:]] if len(t) > 3 else [t])
                plain.append("的")
            units.append(
                {
                    "unit_id": f"{doc_id}-{i:04d}",
                    "doc_id": doc_id,
                    "place": place,
                    "text": "".join(tokens),
                    "tokens": tokens,
                    "plain_tokens": plain,
                }
            )
    return units


@pytest.fixture(scope="module")
def base_params() -> dict:
    """The themes section of params.yaml as YAML reads it."""
    return yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))["themes"]


def small(base: dict, **changes) -> ThemeParams:
    params = dict(
        base,
        k_min=2,
        k_max=4,
        seeds=[1, 2],
        final_seed=1,
        passes=4,
        iterations=30,
        bootstrap_samples=200,
        processes=1,
        min_stability=0.2,
        # The fixture's theme words recur in most units of their places.
        no_above=0.95,
        # With the ablation, so that its tables are tested whatever params.yaml says.
        ablation=True,
    )
    params.update(changes)
    return ThemeParams.model_validate(params)


@pytest.fixture(scope="module")
def units() -> list[dict]:
    return make_units()


@pytest.fixture(scope="module")
def serial_run(units, base_params) -> dict:
    return run_themes(units, TERM_CATEGORIES, small(base_params), {})


TABLES = (
    "k_selection",
    "k_summary",
    "topics",
    "unit_topics",
    "place_topics",
    "topic_roles",
    "nmf_match",
    "ablation",
    "k_selection_plain",
)


def assert_same_tables(a: ThemesResult, b: ThemesResult) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert a.chosen_k == b.chosen_k and a.k_reason == b.k_reason
    assert a.summary == b.summary


# ---------------------------------------------------------------- parameters


def test_project_params_section_is_complete(base_params):
    p = ThemeParams.model_validate(base_params)
    assert p.k_min >= 2 and len(p.seeds) >= 3 and p.k is None


def test_params_reject_missing_and_unknown_keys(base_params):
    assert problems({k: v for k, v in base_params.items() if k != "passes"}, ThemeParams) == [
        "passes: missing; expected an integer >= 1 (see the project's params.yaml)"]
    assert problems({**base_params, "n_topics": 5}, ThemeParams)[0].startswith("n_topics: unknown key")
    assert problems({**base_params, "seeds": [1]}, ThemeParams) == [
        "seeds = [1]: expected a list of integers, with at least 2 item(s)"]
    assert problems({**base_params, "seeds": [1, 1]}, ThemeParams) == [
        "themes.seeds = [1, 1] repeats a seed; stability compares distinct seeds"]


# ---------------------------------------------------------------- reproducibility


def test_same_params_give_identical_tables(units, base_params, serial_run):
    again = run_themes(units, TERM_CATEGORIES, small(base_params), {})
    assert_same_tables(serial_run, again)


def test_parallel_run_equals_serial_run(units, base_params, serial_run, monkeypatch):
    monkeypatch.setattr(sweep, "SWEEP_MIN_WORK", 0)  # on the dask workers, however small the sweep
    parallel = run_themes(units, TERM_CATEGORIES, small(base_params, processes=2), {})
    assert_same_tables(serial_run, parallel)


def test_a_small_sweep_stays_in_this_process(units, base_params, monkeypatch):
    p = small(base_params, processes=2)
    train, held = split_units(units, p.holdout_fraction, p.split_seed)
    data = SweepData(p, {"lexicon": segmentation_data(units, "tokens", train, held, p).sweep})
    tokens = sum(c for bow in data.segmentations["lexicon"].train for _, c in bow)
    assert sweep.sweep_work(data) == (p.k_max - p.k_min + 1) * len(p.seeds) * p.passes * tokens
    monkeypatch.setattr(sweep, "SWEEP_MIN_WORK", sweep.sweep_work(data) + 1)
    with job_pool(data, 2) as workers:
        assert not workers.parallel
    monkeypatch.setattr(sweep, "SWEEP_MIN_WORK", sweep.sweep_work(data))
    with job_pool(data, 2) as workers:
        assert workers.parallel


def test_coherence_of_a_topic_depends_on_its_batch_only_in_the_last_bits(units, base_params):
    """Why the sweep's coherence batches follow a fixed rule (one per K), not the number of workers."""
    p = small(base_params)
    train, held = split_units(units, p.holdout_fraction, p.split_seed)
    seg = segmentation_data(units, "tokens", train, held, p).sweep
    topics = [tuple(v[:6]) for v in THEMES.values()] + [("协商", "党建", "智慧", "养老")]
    assert all(t in seg.dictionary.token2id for topic in topics for t in topic)
    for measure in COHERENCE_MEASURES:
        together = coherence_scores(topics, measure, seg.train_texts, seg.train, seg.dictionary, 10)
        alone = [
            coherence_scores([t], measure, seg.train_texts, seg.train, seg.dictionary, 10)[0]
            for t in topics
        ]
        assert together == pytest.approx(alone, rel=1e-12, abs=1e-12)
        assert together == coherence_scores(topics, measure, seg.train_texts, seg.train, seg.dictionary, 10)


def test_dense_co_occurrence_counts_leave_every_coherence_score_unchanged(units, base_params):
    """coherence_scores reads gensim's counts from a dense array; the scores must be gensim's own, bit for bit."""
    from gensim.models import CoherenceModel

    p = small(base_params)
    train, held = split_units(units, p.holdout_fraction, p.split_seed)
    seg = segmentation_data(units, "tokens", train, held, p).sweep
    topics = [list(v[:6]) for v in THEMES.values()] + [["协商", "党建", "智慧", "养老"]]
    for measure in COHERENCE_MEASURES:
        source = {"corpus": seg.train} if measure == "u_mass" else {"texts": seg.train_texts}
        gensim_own = CoherenceModel(topics=topics, dictionary=seg.dictionary, coherence=measure, topn=6,
                                    processes=1, **source).get_coherence_per_topic()
        ours = coherence_scores(topics, measure, seg.train_texts, seg.train, seg.dictionary, 10)
        assert ours == [float(v) for v in gensim_own], measure


def test_sweep_coherence_scores_a_topic_once_for_the_whole_sweep(units, base_params):
    """The same topic found at two K has one score: one accumulator per measure for the sweep."""
    p = small(base_params)
    train, held = split_units(units, p.holdout_fraction, p.split_seed)
    sweep = segmentation_data(units, "tokens", train, held, p).sweep
    data = SweepData(p, {"lexicon": sweep})
    tops = [[(t, 0.1) for t in v[:5]] for v in THEMES.values()]
    results = [
        FitResult(job=("lexicon", "train", 2, 1), tops=tops[:2], perplexity=1.0, exclusivity=[], semantic_coherence=[]),
        FitResult(job=("lexicon", "train", 3, 1), tops=tops[:3], perplexity=1.0, exclusivity=[], semantic_coherence=[]),
    ]
    scores = sweep_coherence(data, results, ["lexicon"], None)
    first = tuple(THEMES["consultation"][:5])
    assert scores["lexicon"]["c_v"][(2, first)] == scores["lexicon"]["c_v"][(3, first)]
    assert {t for _, t in scores["lexicon"]["u_mass"]} == {tuple(t for t, _ in top) for top in tops[:3]}


# ---------------------------------------------------------------- tables


def test_k_selection_has_one_row_per_k_and_seed(serial_run):
    ks = serial_run.k_selection
    assert list(ks.columns) == ["k", "seed", "c_v", "c_npmi", "u_mass", "exclusivity", "semantic_coherence",
                                "perplexity", "stability"]
    # FREX summed over 10 top terms lies in (0, 10]; semantic coherence is a sum of logs of shares <= 1.
    assert ((ks["exclusivity"] > 0) & (ks["exclusivity"] <= 10)).all() and (ks["semantic_coherence"] <= 0).all()
    assert [(r.k, r.seed) for r in ks.itertuples()] == [(k, s) for k in (2, 3, 4) for s in (1, 2)]
    assert ks[["c_v", "c_npmi", "u_mass", "perplexity", "stability"]].notna().all().all()
    assert ((ks["stability"] >= 0) & (ks["stability"] <= 1)).all()
    assert (ks["perplexity"] > 1).all()


def test_topics_table_is_ranked_and_labelled(serial_run):
    topics = serial_run.topics
    k = serial_run.chosen_k
    assert sorted(topics["topic"].unique()) == list(range(1, k + 1))
    for _, sub in topics.groupby("topic"):
        assert list(sub["rank"]) == list(range(1, len(sub) + 1))
        w = list(sub["weight"])
        assert w == sorted(w, reverse=True)
        assert sub["label"].nunique() == 1
    assert all(":" in label for label in topics["label"])


def test_topics_are_numbered_by_decreasing_prevalence(serial_run):
    prevalence = list(serial_run.topic_roles.sort_values("topic")["prevalence"])
    assert prevalence == sorted(prevalence, reverse=True)


def test_unit_topics_are_distributions(serial_run, units):
    ut = serial_run.unit_topics
    assert len(ut) == len(units) * serial_run.chosen_k
    sums = ut.groupby("unit_id")["proportion"].sum()
    assert np.allclose(sums, 1.0, atol=1e-5)
    assert list(dict.fromkeys(ut["unit_id"])) == [u["unit_id"] for u in units]


def test_place_shares_sum_to_one_and_intervals_contain_shares(serial_run):
    pt = serial_run.place_topics
    assert list(dict.fromkeys(pt["place"])) == list(PLACES.values())
    assert np.allclose(pt.groupby("place")["share"].sum(), 1.0, atol=1e-5)
    assert ((pt["ci_low"] <= pt["share"]) & (pt["share"] <= pt["ci_high"])).all()
    assert ((pt["ci_low"] >= 0) & (pt["ci_high"] <= 1)).all()


def test_place_shares_are_token_weighted_means():
    theta = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    table = place_shares(theta, np.array([30, 10, 20]), ["甲", "甲", "乙"], samples=50, seed=3)
    a = table[table.place == "甲"].set_index("topic")["share"]
    assert a[1] == pytest.approx(0.75) and a[2] == pytest.approx(0.25)
    b = table[table.place == "乙"].set_index("topic")
    # One unit: every resample is that unit, so the interval collapses on the share.
    assert (b["ci_low"] == b["share"]).all() and (b["ci_high"] == b["share"]).all()


def _alternating_units(n: int, long_first: bool) -> tuple[list[list[float]], list[int]]:
    """n units alternating between topic mixes (0.9, 0.1) and (0.1, 0.9); the first mix 30 or 10 tokens long."""
    heavy, light = (30, 10) if long_first else (10, 30)
    theta = [[0.9, 0.1] if i % 2 == 0 else [0.1, 0.9] for i in range(n)]
    return theta, [heavy if i % 2 == 0 else light for i in range(n)]


def _delta_method_half_width(theta_1: np.ndarray, lengths: np.ndarray) -> float:
    """1.96 standard errors of a token-weighted mean (a ratio estimator), by the delta method."""
    share = (lengths @ theta_1) / lengths.sum()
    deviations = lengths * (theta_1 - share)
    return 1.96 * np.sqrt(np.mean(deviations ** 2) / len(lengths)) / lengths.mean()


# 甲: 60 units, mix (0.9, 0.1) in 30-token units and (0.1, 0.9) in 10-token ones,
# so topic 1 holds (30*0.9 + 10*0.1) / 40 = 0.7 of its tokens (0.5 unweighted).
# 乙: 40 units, the lengths the other way round: (10*0.9 + 30*0.1) / 40 = 0.3.
# The places' units are interleaved.
THETA_A, LENGTHS_A = _alternating_units(60, long_first=True)
THETA_B, LENGTHS_B = _alternating_units(40, long_first=False)
ORDER = [unit for i in range(40) for unit in (("甲", i), ("乙", i))] + [("甲", i) for i in range(40, 60)]
THETA = np.array([(THETA_A if p == "甲" else THETA_B)[i] for p, i in ORDER])
LENGTHS = np.array([(LENGTHS_A if p == "甲" else LENGTHS_B)[i] for p, i in ORDER])
UNIT_PLACES = [p for p, _ in ORDER]
HAND_SHARES = {"甲": 0.7, "乙": 0.3}


def _assert_interval_is_the_bootstraps(row, hand_share: float, half_width: float) -> None:
    """The share is the hand-computed one and lies strictly inside an interval about as wide as the delta method's.

    Strictly inside: a percentile interval that missed the share would have
    been widened to it by the min/max clamps, leaving it on an end.
    """
    assert row.share == pytest.approx(hand_share, abs=1e-6)
    assert row.ci_low < row.share < row.ci_high
    assert 0.75 * 2 * half_width < row.ci_high - row.ci_low < 1.25 * 2 * half_width
    assert min(row.share - row.ci_low, row.ci_high - row.share) > 0.5 * half_width


def test_place_shares_weight_units_by_tokens_and_their_interval_is_the_bootstraps():
    """place_shares on hand-made units: token-weighted shares, and intervals that hold them on their own.

    The unweighted means (0.5 in both places) would put a bootstrap interval of
    the wrong estimator around 0.5, which the clamps would then stretch to the
    share; here the share must sit inside, about 1.96 delta-method standard
    errors from either end (0.076 for 甲, 0.093 for 乙).
    """
    table = place_shares(THETA, LENGTHS, UNIT_PLACES, samples=2000, seed=7)
    assert list(table["place"].drop_duplicates()) == ["甲", "乙"]
    for place, theta, lengths in (("甲", THETA_A, LENGTHS_A), ("乙", THETA_B, LENGTHS_B)):
        half = _delta_method_half_width(np.array(theta)[:, 0], np.array(lengths, dtype=float))
        rows = table[table["place"] == place].set_index("topic")
        # Every pair of units holds 30 + 10 tokens.
        assert rows.loc[1, "units"] == len(lengths) and rows.loc[1, "tokens"] == 20 * len(lengths)
        _assert_interval_is_the_bootstraps(rows.loc[1], HAND_SHARES[place], half)
        _assert_interval_is_the_bootstraps(rows.loc[2], 1 - HAND_SHARES[place], half)
    pd.testing.assert_frame_equal(table, place_shares(THETA, LENGTHS, UNIT_PLACES, samples=2000, seed=7))


def test_group_shares_weight_units_by_tokens_over_units_and_over_articles():
    """group_shares on the same units: 甲 is one article (units resampled), 乙 forty one-unit articles (a cluster
    bootstrap, whose resamples are then the same as the units'): both intervals hold the hand share on their own."""
    docs = ["甲-article" if p == "甲" else f"乙-{i}" for p, i in ORDER]
    table = group_shares(THETA, LENGTHS, docs, UNIT_PLACES, "place", samples=2000, seed=7)
    rows = table.set_index(["group", "topic"])
    assert rows.loc[("甲", 1), "interval"] == "units_optimistic" and rows.loc[("乙", 1), "interval"] == "cluster"
    assert rows.loc[("甲", 1), "articles"] == 1 and rows.loc[("乙", 1), "articles"] == 40
    for place, theta, lengths in (("甲", THETA_A, LENGTHS_A), ("乙", THETA_B, LENGTHS_B)):
        half = _delta_method_half_width(np.array(theta)[:, 0], np.array(lengths, dtype=float))
        _assert_interval_is_the_bootstraps(rows.loc[(place, 1)], HAND_SHARES[place], half)
        _assert_interval_is_the_bootstraps(rows.loc[(place, 2)], 1 - HAND_SHARES[place], half)


def test_a_group_without_modelled_tokens_gets_an_interval_of_plain_means():
    """Every unit of the group gives topic 1 at least 0.2 and at most 0.6, so every resampled plain mean lies in
    [0.2, 0.6], and so must the interval: a lower bound of 0 can only come from the clamps."""
    theta = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    table = group_shares(theta, np.zeros(3), ["a", "a", "a"], ["丙"] * 3, "place", samples=200, seed=1)
    row = table.set_index("topic").loc[1]
    assert row["share"] == pytest.approx(1.1 / 3)
    assert 0.2 <= row["ci_low"] < row["share"] < row["ci_high"] <= 0.6


def test_a_place_without_modelled_tokens_counts_its_units_equally():
    """A place whose units have no modelled token gets the plain mean, as place_shares documents."""
    table = place_shares(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([0, 0]), ["丙", "丙"], samples=50, seed=1)
    assert table.set_index("topic")["share"].to_dict() == pytest.approx({1: 0.4, 2: 0.6})


def test_bootstrap_of_a_place_does_not_depend_on_other_places():
    rng = np.random.default_rng(5)
    theta = rng.dirichlet([1, 1, 1], size=9)
    lengths = rng.integers(5, 30, size=9)
    places = ["甲"] * 4 + ["乙"] * 5
    both = place_shares(theta, lengths, places, samples=100, seed=1)
    only = place_shares(theta[4:], lengths[4:], places[4:], samples=100, seed=1)
    pd.testing.assert_frame_equal(both[both.place == "乙"].reset_index(drop=True), only)


def test_topic_roles_follow_the_presence_rule():
    rows = []
    for place, shares in {"A": (0.6, 0.4), "B": (0.7, 0.3), "C": (0.97, 0.03)}.items():
        for t, s in enumerate(shares, start=1):
            rows.append({"place": place, "topic": t, "share": s, "ci_low": s - 0.02, "ci_high": s + 0.02})
    pt = pd.DataFrame(rows)
    labels = {1: "x: a/b", 2: "y: c/d"}
    roles = topic_roles(pt, labels, labels, {1: 0.7, 2: 0.3}, {1: 0.9, 2: 0.5}, 0.05, 3)
    r = roles.set_index("topic")
    assert r.loc[1, "role"] == "shared" and r.loc[1, "places"] == "C;B;A"
    # Topic 2 reaches the floor in A and B only (C's lower bound is 0.01).
    assert r.loc[2, "role"] == "specific" and r.loc[2, "places"] == "A;B"
    assert "2 of 3 places" in r.loc[2, "evidence"] and "C 0.03 [0.01, 0.05]" in r.loc[2, "evidence"]
    # With more places required than exist, the requirement is all places.
    assert topic_roles(pt, labels, labels, {1: 0.7, 2: 0.3}, {1: 0.9, 2: 0.5}, 0.05, 4).iloc[0]["role"] == "shared"


def test_topic_roles_table_columns(serial_run):
    roles = serial_run.topic_roles
    for col in ("topic", "label", "role", "places", "evidence", "stability", "suggested_label"):
        assert col in roles.columns
    assert set(roles["role"]) <= {"shared", "specific"}
    assert ((roles["stability"] >= 0) & (roles["stability"] <= 1)).all()


def test_consultation_theme_is_found_and_shared(serial_run):
    """Consultation vocabulary runs through every place of the fixture."""
    topics = serial_run.topics
    roles = serial_run.topic_roles.set_index("topic")
    hits = [t for t, sub in topics.groupby("topic") if {"协商", "议事"} <= set(sub["term"])]
    assert hits
    assert any(roles.loc[t, "role"] == "shared" for t in hits)


# ---------------------------------------------------------------- matching and stability


def test_hungarian_matching_beats_greedy():
    # Greedy would pair a0 with b0 (Jaccard 0.6) and leave a1 with b1 (0);
    # the optimum pairs a0-b1 and a1-b0 (0.43 + 0.6 > 0.6).
    a = [["1", "2", "3", "4"], ["1", "2", "3", "9"]]
    b = [["1", "2", "3", "9"], ["1", "2", "3", "4", "5"]]
    pairs = match_topics(a, b)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (1, 0)]
    assert pairs[0][2] == pytest.approx(4 / 5) and pairs[1][2] == pytest.approx(1.0)


def test_matching_recovers_a_permutation():
    topics = [list(v) for v in THEMES.values()]
    order = [2, 0, 3, 1]
    pairs = match_topics(topics, [topics[i] for i in order])
    assert [(i, order[j]) for i, j, _ in pairs] == [(i, i) for i in range(4)]
    assert all(s == 1.0 for _, _, s in pairs)


@given(st.permutations(list(range(4))))
def test_stability_is_one_for_identical_runs(order):
    topics = [list(v) for v in THEMES.values()]
    assert agreement(topics, [topics[i] for i in order]) == 1.0


def test_stability_is_low_for_unrelated_runs():
    a = [["a", "b", "c"], ["d", "e", "f"]]
    b = [["a", "x", "y"], ["z", "w", "d"]]
    assert agreement(a, b) == pytest.approx(0.2)


def test_sweep_stability_is_one_when_seeds_agree():
    tops = [[(t, 0.1) for t in v] for v in THEMES.values()]
    results = [FitResult(job=("lexicon", "train", 4, s), tops=tops[s - 1 :] + tops[: s - 1], perplexity=10.0,
                         exclusivity=[5.0] * 4, semantic_coherence=[-10.0] * 4) for s in (1, 2, 3)]
    scores = {m: {(4, tuple(t for t, _ in topic)): 0.5 for topic in tops} for m in COHERENCE_MEASURES}
    table = sweep_table(results, scores, (1, 2, 3))
    assert (table["stability"] == 1.0).all() and (table["c_v"] == 0.5).all()


# ---------------------------------------------------------------- the K rule


def k_table(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    """(k, c_npmi, exclusivity, stability) per K, duplicated over two seeds with a small spread."""
    out = []
    for k, npmi, excl, stab in rows:
        for seed, d in ((1, -0.01), (2, 0.01)):
            out.append({"k": k, "seed": seed, "c_v": 0.5, "c_npmi": npmi + d, "u_mass": -1.0,
                        "exclusivity": excl + d, "semantic_coherence": -50.0, "perplexity": 100.0,
                        "stability": stab + d})
    return pd.DataFrame(out)


def test_k_rule_takes_the_most_stable_k_on_the_coherence_exclusivity_frontier():
    # K=5 is beaten on both measures by K=3; K=4 is on the frontier but unstable.
    table = k_table([(2, 0.10, 8.0, 0.70), (3, 0.05, 9.0, 0.60), (4, 0.20, 9.5, 0.30), (5, 0.04, 8.5, 0.90)])
    k, reason = choose_k(table, min_stability=0.5)
    assert k == 2
    assert reason.startswith("K=2") and "frontier K: 2, 3" in reason and "eligible K: 2, 3, 5" in reason


def test_k_rule_ties_go_to_smaller_k():
    table = k_table([(2, 0.10, 8.0, 0.60), (3, 0.05, 9.0, 0.60), (6, 0.05, 9.0, 0.60)])
    assert choose_k(table, min_stability=0.5)[0] == 2


def test_k_rule_falls_back_to_most_stable_k():
    table = k_table([(2, 0.10, 8.0, 0.30), (3, 0.05, 9.0, 0.35), (4, 0.20, 9.5, 0.35)])
    k, reason = choose_k(table, min_stability=0.5)
    assert k == 3 and "no K reached" in reason


def test_chosen_k_is_in_the_sweep(serial_run):
    assert serial_run.chosen_k in set(serial_run.k_selection["k"])
    assert serial_run.k_reason.startswith(f"K={serial_run.chosen_k}")


# ---------------------------------------------------------------- labels


def test_suggested_label_uses_the_heaviest_category():
    top = [("协商", 0.2), ("网格", 0.15), ("网格化", 0.1), ("居民", 0.05)]
    assert suggest_label(top, TERM_CATEGORIES) == "grid_management: 协商/网格"
    assert suggest_label([("居民", 0.2), ("群众", 0.1)], TERM_CATEGORIES) == "no_category: 居民/群众"
    # Equal category weights: the category name breaks the tie.
    assert suggest_label([("智慧", 0.1), ("党建", 0.1)], TERM_CATEGORIES) == "digital_governance: 智慧/党建"


def test_suggested_label_never_names_a_category_absent_from_the_top_five():
    # 养老 at rank 9 once named a topic; a category needs a term among the first five.
    top = [("村", 0.2), ("服务", 0.1), ("居民", 0.05), ("群众", 0.04), ("工作", 0.03),
           ("全面", 0.02), ("推进", 0.02), ("提升", 0.01), ("养老", 0.01)]
    assert suggest_label(top, TERM_CATEGORIES) == "no_category: 村/服务"
    top[4] = ("协商", 0.03)
    assert suggest_label(top, TERM_CATEGORIES) == "self_governance_consultation: 村/服务"


def test_label_override_is_applied(units, base_params, serial_run):
    run = run_themes(units, TERM_CATEGORIES, small(base_params), {1: "协商议事(人工标注)"})
    assert set(run.topics[run.topics.topic == 1]["label"]) == {"协商议事(人工标注)"}
    roles = run.topic_roles.set_index("topic")
    assert roles.loc[1, "label"] == "协商议事(人工标注)"
    assert roles.loc[1, "suggested_label"] == serial_run.topic_roles.set_index("topic").loc[1, "label"]
    assert set(run.place_topics[run.place_topics.topic == 1]["label"]) == {"协商议事(人工标注)"}
    # Other topics keep their suggestions; numbers are untouched.
    other = run.topics[run.topics.topic != 1]
    pd.testing.assert_frame_equal(other, serial_run.topics[serial_run.topics.topic != 1])


def test_label_override_beyond_k_stops_the_run():
    with pytest.raises(ValueError, match="topic\\(s\\) 7"):
        apply_labels({1: "a", 2: "b"}, {7: "c"})


def test_load_topic_labels(tmp_path):
    path = tmp_path / "topic_labels.csv"
    path.write_text("topic,label\n2,党建引领网格治理\n1,\"协商, 议事\"\n", encoding="utf-8")
    assert load_topic_labels(path) == {2: "党建引领网格治理", 1: "协商, 议事"}
    for bad, message in (
        ("topic;label\n", "header"),
        ("topic,label\n0,x\n", "1-based"),
        ("topic,label\n1,x\n1,y\n", "twice"),
        ("topic,label\n1,\n", "empty label"),
    ):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            load_topic_labels(path)


def test_topic_label_refusals_name_the_file_and_the_line(tmp_path):
    """A missing override file, or a topic that is not a 1-based number, stops the run with an error naming the
    file and the line as it stands in the file (blank lines counted), not with a Python traceback."""
    path = tmp_path / "topic_labels.csv"
    with pytest.raises(InputError) as caught:
        load_topic_labels(path)
    assert str(caught.value).startswith(f"{path}: topic-label overrides not found")
    for bad, message in (
        ("topic,label\n1,x\n\none,y\n", "line 4: topic must be a 1-based topic number, got 'one'"),
        ("topic,label\n1.5,x\n", "line 2: topic must be a 1-based topic number, got '1.5'"),
        ("topic,label\n-2,x\n", "line 2: topic must be a 1-based topic number, got '-2'"),
        ("topic,label\n1,x\n2, \n", "line 3: empty label for topic 2"),
    ):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            load_topic_labels(path)
        assert str(caught.value) == f"{path}: {message}"


# ---------------------------------------------------------------- helpers


def test_top_terms_break_rounded_ties_by_term():
    vocab = ["乙", "甲", "丙", "丁"]
    # 0.3 and 0.3 + 1e-12 are equal after rounding, so the term decides (乙 < 甲
    # in code-point order) although 甲 is heavier by a last-bit amount.
    w = np.array([0.3, 0.3 + 1e-12, 0.2, 0.2])
    assert top_terms(w, vocab, 3) == [("乙", 0.3), ("甲", 0.3), ("丁", 0.2)]
    assert top_terms(w, vocab, 10) == [("乙", 0.3), ("甲", 0.3), ("丁", 0.2), ("丙", 0.2)]


def test_round_sig():
    assert round_sig(0.123456789) == pytest.approx(0.123457)
    assert round_sig(123456789.0) == pytest.approx(123457000.0)
    assert round_sig(np.array([0.0, -1.23456789e-7]))[1] == pytest.approx(-1.23457e-7)
    assert np.isnan(round_sig(float("nan")))


def test_split_is_seeded_and_stratified(units):
    train, held = split_units(units, 0.25, 7)
    assert sorted(train + held) == list(range(len(units)))
    assert (train, held) == split_units(units, 0.25, 7)
    assert held != split_units(units, 0.25, 8)[1]
    for place in PLACES.values():
        idx = [i for i, u in enumerate(units) if u["place"] == place]
        assert len([i for i in held if i in idx]) == 2  # 0.25 x 8
    # A place with a single unit keeps it for training.
    one = units[:1] + units[8:10]
    train, held = split_units(one, 0.5, 7)
    assert 0 in train


def test_empty_vocabulary_is_reported(base_params):
    units = make_units(per_place=2)
    with pytest.raises(ValueError, match="filter_extremes"):
        run_themes(units, {}, small(base_params, no_below=1000), {})


# ---------------------------------------------------------------- cross-checks


def test_nmf_match_table(serial_run):
    nm = serial_run.nmf_match
    k = serial_run.chosen_k
    assert list(nm["topic"]) == list(range(1, k + 1))
    assert sorted(nm["nmf_component"]) == list(range(1, k + 1))
    assert ((nm["jaccard"] >= 0) & (nm["jaccard"] <= 1)).all()
    assert (nm["close"] == (nm["jaccard"] >= 0.25)).all()


def test_ablation_compares_both_segmentations(serial_run):
    ab = serial_run.ablation
    assert set(ab["segmentation"]) == {"lexicon", "plain"}
    assert ab.groupby("segmentation")["chosen"].sum().tolist() == [1, 1]
    assert {"c_v_mean", "stability_mean", "vocabulary"} <= set(ab.columns)
    lex = ab[ab.segmentation == "lexicon"].drop(columns=["segmentation", "vocabulary", "chosen"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(lex, serial_run.k_summary)


# ---------------------------------------------------------------- LDAvis and figures


def test_ldavis_numbering_matches_topics_table(serial_run):
    prepared = ldavis_prepare(serial_run.ldavis_inputs)
    k = serial_run.chosen_k
    assert prepared.topic_order == list(range(1, k + 1))
    assert list(prepared.topic_coordinates["topics"]) == list(range(1, k + 1))
    topics = serial_run.topics
    for t in range(1, k + 1):
        shown = prepared.sorted_terms(t, 1)["Term"].head(10)
        assert set(shown) == set(topics[topics.topic == t]["term"])


def test_ldavis_page_is_offline_and_deterministic(serial_run):
    html = ldavis_html(serial_run.ldavis_inputs, "社区治理主题", "Topic n is topic n of topics.csv.")
    assert html == ldavis_html(serial_run.ldavis_inputs, "社区治理主题", "Topic n is topic n of topics.csv.")
    assert not re.search(r"<script[^>]+src=", html) and "<link" not in html
    assert "cdn.jsdelivr" not in html and "LDAvis_load_lib" not in html
    assert f'new LDAvis("#{LDAVIS_DIV_ID}"' in html
    data = json.loads(re.search(r'new LDAvis\("#[\w-]+", (.*)\);\n</script>', html).group(1).replace("<\\/", "</"))
    assert data["topic.order"] == list(range(1, serial_run.chosen_k + 1))
    assert ldavis_html(serial_run.ldavis_inputs, "t", "n").startswith("<!DOCTYPE html>")


def test_pcoa_orientation_is_fixed():
    rng = np.random.default_rng(0)
    phi = rng.dirichlet(np.full(30, 0.2), size=5)
    coords = deterministic_pcoa(phi)
    assert coords.shape == (5, 2)
    for j in range(2):
        assert coords[np.argmax(np.abs(coords[:, j])), j] > 0
    # Distances between topics are what the coordinates approximate, so a
    # reordering of the topics permutes the rows and nothing else.
    perm = [3, 1, 4, 0, 2]
    assert np.allclose(deterministic_pcoa(phi[perm]), coords[perm], atol=1e-5)


def test_figures_are_written(serial_run, tmp_path):
    from pipeline.figures.themes import FIGURE_FILES, theme_figures

    paths = [draw(tmp_path / name) for name, draw in theme_figures(serial_run, min_stability=0.2).items()]
    assert [p.name for p in paths] == list(FIGURE_FILES.values())
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_topic_labels_may_carry_their_justification(tmp_path):
    path = tmp_path / "topic_labels.csv"
    path.write_text('topic,label,justification\n1,grid work,"top terms 网格, 网格员"\n', encoding="utf-8")
    assert load_topic_labels(path) == {1: "grid work"}
    path.write_text("topic,label,justification\n1,grid work\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected 3 columns"):
        load_topic_labels(path)
