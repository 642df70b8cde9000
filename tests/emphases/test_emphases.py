"""Place-specific emphases: TF-IDF, weighted log-odds, q-values, bootstrap stability."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from pipeline.emphases.scores import (METHODS, benjamini_hochberg, bootstrap_stability, count_units, log_odds_vs_rest,
                                       resample_unit_weights, tfidf_from_counts, tokens_as_given)
from pipeline.common.config import PROJECT_ROOT
from pipeline.common.params import EmphasesParams, problems
from pipeline.emphases.ranking import top_with_ties
from pipeline.common.params import load_params
from pipeline.emphases.tables import (TABLE_COLUMNS, compute_emphases, cut_table, emphases_table, heatmap_matrix,
                                      methods_agreement, place_terms)

# The project's emphases section with these tests' values. No floor in these tests of the statistics;
# tests/emphases/test_ranking.py tests the floor.
PARAMS = load_params(PROJECT_ROOT / "params.yaml").emphases.model_copy(update=dict(
    top_n=50, sublinear_tf=True, prior_strength=500, min_count=3, min_expected=5, min_units=2,
    bootstrap_samples=50, stability_top=30, random_state=20241224, min_term_count=1, min_term_sentences=1))

# Units hand-segmented from the corpus (stopwords, toponyms and punctuation removed).
HEFEI = [
    ["构建", "群众", "自治", "圈"],
    ["群众", "事情", "自己", "办", "协商", "办"],
    ["健全", "协商", "组织", "调动", "群众", "参与"],
    ["推动", "实现", "村", "社区", "协商", "工作", "委员会", "全覆盖"],
]
ANHUI = [
    ["五社联动", "优势", "充分", "发挥", "建设", "乡镇", "街道", "社会工作", "服务站"],
    ["城乡社区", "综合", "服务", "设施", "建设", "有力", "推进"],
    ["智慧化", "手段", "社区治理", "深度", "融合", "智慧社区", "建设", "指南"],
]
CHENGDU = [
    ["社区", "社会", "基本", "单元", "社会治理", "服务", "神经末梢"],
    ["社区发展治理", "促进", "条例", "正式", "施行"],
    ["党建引领", "城乡社区", "社区发展治理", "经验", "地方性法规"],
]


def make_units(groups: dict[tuple[str, str], list[list[str]]]) -> list[dict]:
    """Units from {(place, doc_id): [tokens of each unit]}."""
    units = []
    for (place, doc_id), token_lists in groups.items():
        for k, tokens in enumerate(token_lists):
            units.append({"unit_id": f"{doc_id}-{k:04d}", "doc_id": doc_id, "place": place,
                          "text": "".join(tokens), "tokens": list(tokens)})
    return units


def real_units() -> list[dict]:
    return make_units({("合肥市", "hefei"): HEFEI, ("安徽省", "anhui"): ANHUI, ("成都市", "chengdu"): CHENGDU})


def params(**changes) -> EmphasesParams:
    """PARAMS with `changes`, unchecked (a test may ask for what params.yaml refuses, e.g. no bootstrap)."""
    return PARAMS.model_copy(update=changes)


def synthetic_units(seed: int, places: int = 3, units_per_place: int = 12, tokens_per_unit: int = 20,
                    vocab: int = 60) -> list[dict]:
    """Zipf-like random corpus with a place-specific tilt, so that top terms are uncertain."""
    rng = np.random.default_rng(seed)
    terms = [f"词{j:03d}" for j in range(vocab)]
    base = 1.0 / np.arange(1, vocab + 1)
    groups = {}
    for i in range(places):
        tilt = base * np.exp(rng.normal(0, 0.8, vocab))
        prob = tilt / tilt.sum()
        groups[(f"地{i}", f"doc{i}")] = [list(rng.choice(terms, size=tokens_per_unit, p=prob))
                                         for _ in range(units_per_place)]
    return make_units(groups)


# ------------------------------------------------------------------ TF-IDF ---

def test_callable_analyzer_keeps_one_character_terms():
    counted = count_units(real_units(), sublinear_tf=True)
    for term in ("圈", "村", "办"):
        assert term in counted.vocab
    i, j = counted.places.index("合肥市"), counted.vocab.index("圈")
    assert counted.place_tfidf[i, j] > 0
    # The reason for the callable analyzer: the default token pattern drops them.
    default = TfidfVectorizer().fit(["构建 群众 自治 圈", "推动 村 社区"])
    assert "圈" not in default.vocabulary_ and "村" not in default.vocabulary_


def test_a_place_is_one_document_and_shared_terms_get_idf_one():
    units = real_units()
    counted = count_units(units, sublinear_tf=False)
    vec = TfidfVectorizer(analyzer=tokens_as_given, sublinear_tf=False)
    docs = [[t for u in units if u["place"] == p for t in u["tokens"]] for p in counted.places]
    expected = vec.fit_transform(docs).toarray()
    np.testing.assert_allclose(counted.place_tfidf, expected)
    # Smooth idf: a term in every place has idf ln(3/3) + 1 = 1, not 0.
    everywhere = make_units({("甲", "a"): [["社区", "自治"]], ("乙", "b"): [["社区", "服务"]]})
    vec2 = TfidfVectorizer(analyzer=tokens_as_given).fit([u["tokens"] for u in everywhere])
    assert vec2.idf_[vec2.vocabulary_["社区"]] == pytest.approx(1.0)
    assert vec2.idf_[vec2.vocabulary_["自治"]] == pytest.approx(math.log(3 / 2) + 1)


def test_tfidf_from_counts_matches_the_vectorizer_so_the_bootstrap_measures_the_same_thing():
    for sublinear in (True, False):
        counted = count_units(synthetic_units(3), sublinear_tf=sublinear)
        dense = counted.place_counts().toarray()
        np.testing.assert_allclose(tfidf_from_counts(dense, sublinear), counted.place_tfidf,
                                   rtol=1e-12, atol=1e-15)
    # Also when some terms vanish from every place, as they can in a resample.
    dense[:, :3] = 0
    expected = TfidfTransformer(sublinear_tf=False).fit_transform(dense).toarray()
    np.testing.assert_allclose(tfidf_from_counts(dense, False), expected, rtol=1e-12, atol=1e-15)
    dense[0] = 0  # a place with no tokens in a resample
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(dense).toarray()
    np.testing.assert_allclose(tfidf_from_counts(dense, True), expected, rtol=1e-12, atol=1e-15)


def test_place_counts_with_unit_weights_are_weighted_row_sums():
    counted = count_units(real_units(), sublinear_tf=True)
    dense = counted.matrix.toarray()
    weights = np.arange(counted.matrix.shape[0]) % 3
    expected = np.vstack([(dense * weights[:, None])[counted.unit_place == i].sum(axis=0)
                          for i in range(len(counted.places))])
    np.testing.assert_array_equal(counted.place_counts(weights).toarray(), expected)
    totals = counted.place_counts().toarray().sum(axis=1)
    by_place = {p: sum(len(u["tokens"]) for u in real_units() if u["place"] == p) for p in counted.places}
    assert totals.tolist() == [by_place[p] for p in counted.places]


# ---------------------------------------------------------------- log-odds ---

def test_log_odds_matches_a_hand_computation():
    # y_A = (3, 1), y_B = (1, 3); prior_strength 4 -> alpha = (2, 2), a0 = 4.
    delta, z = log_odds_vs_rest(np.array([[3, 1], [1, 3]]), prior_strength=4)
    d = math.log(5 / 3) - math.log(3 / 5)
    assert delta[0, 0] == pytest.approx(d)
    assert z[0, 0] == pytest.approx(d / math.sqrt(1 / 5 + 1 / 3))
    assert z[1, 0] == pytest.approx(-z[0, 0])
    assert z[0, 1] == pytest.approx(-z[0, 0])


def test_term_of_one_place_only_is_positive_there_and_negative_elsewhere():
    counts = np.array([[10, 5, 5], [0, 5, 5], [0, 6, 4]])
    _, z = log_odds_vs_rest(counts, prior_strength=10)
    assert z[0, 0] > 2
    assert (z[1:, 0] < 0).all()


def test_identical_groups_give_exactly_zero():
    delta, z = log_odds_vs_rest(np.array([[7, 1, 3, 12], [7, 1, 3, 12]]), prior_strength=500)
    assert (delta == 0).all() and (z == 0).all()
    # A term nobody uses has no prior mass and cannot be tested.
    _, z0 = log_odds_vs_rest(np.array([[7, 0], [3, 0]]), prior_strength=500)
    assert np.isnan(z0[:, 1]).all()
    # Three identical places: each against the other two pooled is zero up to rounding.
    _, z3 = log_odds_vs_rest(np.tile([[7, 1, 2, 12]], (3, 1)), prior_strength=500)
    np.testing.assert_allclose(z3, 0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=2, max_size=12),
       st.lists(st.integers(0, 40), min_size=2, max_size=12),
       st.floats(0.5, 2000))
def test_two_places_are_mirror_images(a, b, strength):
    n = min(len(a), len(b))
    counts = np.array([a[:n], b[:n]]) + np.array([[1] * n, [0] * n])  # every term used somewhere
    delta, z = log_odds_vs_rest(counts, prior_strength=strength)
    np.testing.assert_allclose(delta[0], -delta[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z[0], -z[1], rtol=1e-12, atol=1e-12)


def test_stronger_prior_shrinks_a_rare_term_more_than_a_frequent_one():
    counts = np.array([[2, 200, 100], [0, 100, 200]])
    rare = [log_odds_vs_rest(counts, s)[0][0, 0] for s in (1, 100, 10000)]
    assert rare[0] > rare[1] > rare[2] > 0


# --------------------------------------------------------------- q-values ---

def test_benjamini_hochberg_matches_a_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4/1, x4/2, x4/3, x4/4 = .02, .02, .04, .04
    np.testing.assert_allclose(benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    # A running minimum is needed: 0.02*3/2 = 0.03 > 0.025*3/3.
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.001, 0.02, 0.025])), [0.003, 0.025, 0.025])


def test_benjamini_hochberg_keeps_shape_and_nan():
    p = np.array([[0.01, np.nan], [0.04, 0.5]])
    q = benjamini_hochberg(p)
    assert q.shape == p.shape and np.isnan(q[0, 1])
    np.testing.assert_allclose(q[[0, 1, 1], [0, 0, 1]], false_discovery_control([0.01, 0.04, 0.5]))


def test_q_values_are_corrected_across_all_place_term_tests():
    em = compute_emphases(synthetic_units(1), {}, params(bootstrap_samples=0))
    np.testing.assert_array_equal(em.q, benjamini_hochberg(em.p))
    per_place = np.vstack([benjamini_hochberg(row) for row in em.p])
    assert not np.allclose(em.q, per_place)


# ------------------------------------------------------------- bootstrap ---

def test_top_with_ties_keeps_every_term_tied_at_the_cut_and_respects_eligibility():
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.5], [5.0, 4.0, np.nan, 1.0, 1.0]])
    eligible = np.array([[True] * 5, [False, True, True, True, True]])
    mask = top_with_ties(scores, eligible, 2)
    # Row 1: three terms tie for rank 1, all are in; row 2: 4.0 is rank 1, the two 1.0 tie for rank 2.
    assert mask.tolist() == [[False, True, True, True, False], [False, True, False, True, True]]
    few = top_with_ties(scores, np.array([[True, False, False, False, False]] * 2), 3)
    assert few.sum(axis=1).tolist() == [1, 1]


def test_a_term_dominating_every_unit_of_a_place_is_perfectly_stable():
    rng = random.Random(0)
    filler = ["社区", "服务", "治理", "居民", "建设", "推进", "工作", "机制"]
    groups = {("苏州市", "suzhou"): [["党建引领"] * 5 + rng.sample(filler, 3) for _ in range(10)],
              ("淮南市", "huainan"): [rng.sample(filler, 4) for _ in range(10)],
              ("成都市", "chengdu"): [rng.sample(filler, 4) for _ in range(10)]}
    em = compute_emphases(make_units(groups), {}, params(stability_top=1, bootstrap_samples=100))
    i, j = em.places.index("苏州市"), em.vocab.index("党建引领")
    assert em.stability["logodds"][i, j] == 1.0
    assert em.stability["tfidf"][i, j] == 1.0
    # Never drawn into another place's resamples, so never in its top.
    assert em.stability["logodds"][em.places.index("淮南市"), j] == 0.0


def test_resample_weights_keep_each_place_size_and_draw_units_uniformly():
    unit_place = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    rng = np.random.default_rng(0)
    draws = np.array([resample_unit_weights(unit_place, rng) for _ in range(4000)])
    for place in range(3):
        np.testing.assert_array_equal(draws[:, unit_place == place].sum(axis=1), (unit_place == place).sum())
    # Each unit is drawn once per resample on average (with replacement: sometimes 0, sometimes more).
    np.testing.assert_allclose(draws.mean(axis=0), 1.0, atol=0.06)
    assert (draws == 0).any() and (draws >= 2).any()


def test_resampling_stays_within_each_place():
    # Disjoint vocabularies; each place has five terms, all in every unit, and
    # the top is 10: a within-place resample keeps exactly those five in the
    # top, a unit drawn from another place would bring foreign terms in.
    a_terms, b_terms = [f"甲{k}" for k in range(5)], [f"乙{k}" for k in range(5)]
    groups = {("甲", "a"): [a_terms + a_terms[:k] for k in range(6)],
              ("乙", "b"): [b_terms + b_terms[:k] for k in range(6)]}
    em = compute_emphases(make_units(groups), {}, params(stability_top=10, bootstrap_samples=60))
    own = np.array([[t.startswith(p) for t in em.vocab] for p in em.places])
    for method in METHODS:
        assert (em.stability[method][own] == 1.0).all()
        assert (em.stability[method][~own] == 0.0).all()


def test_log_odds_rows_are_ranked_by_z_not_by_delta():
    # 社区 is frequent and moderately over-used; 邻里 rare but used by 甲 only:
    # a larger delta, less evidence.
    groups = {("甲", "a"): [["社区"] * 300 + ["服务"] * 100 + ["邻里"] * 4],
              ("乙", "b"): [["社区"] * 150 + ["服务"] * 250]}
    em = compute_emphases(make_units(groups), {}, params(bootstrap_samples=0, prior_strength=50))
    i = em.places.index("甲")
    j_sq, j_ll = em.vocab.index("社区"), em.vocab.index("邻里")
    assert em.delta[i, j_ll] > em.delta[i, j_sq] and em.z[i, j_sq] > em.z[i, j_ll]  # the premise
    part = emphases_table(em, top_n=3).query("place == '甲' and method == 'logodds'")
    assert part["term"].tolist()[:2] == ["社区", "邻里"]


def test_bootstrap_is_reproducible_with_its_seed_and_changes_with_another():
    units = synthetic_units(5)
    kwargs = dict(samples=40, top=10, prior_strength=100, sublinear_tf=True)
    counted = count_units(units, sublinear_tf=True)
    first = bootstrap_stability(counted, random_state=7, **kwargs)
    again = bootstrap_stability(counted, random_state=7, **kwargs)
    other = bootstrap_stability(counted, random_state=8, **kwargs)
    for method in METHODS:
        np.testing.assert_array_equal(first[method], again[method])
        assert not np.array_equal(first[method], other[method])
        values = first[method]
        assert ((values >= 0) & (values <= 1)).all()
        # Some terms are uncertain in this corpus, so the test can see a change of seed.
        assert ((values > 0) & (values < 1)).any()
        # Each resample puts at least `top` terms in each place's top (more when terms tie at the cut).
        assert (values.sum(axis=1) >= 10 - 1e-9).all()


def test_no_bootstrap_gives_missing_stability():
    em = compute_emphases(real_units(), {}, params(bootstrap_samples=0))
    assert np.isnan(em.stability["logodds"]).all()


# ------------------------------------------------------------------ table ---

def test_place_terms_columns_ranks_and_ordering():
    cats = {"党建引领": "党建引领", "协商": "自治协商", "智慧社区": "数字治理"}
    table = place_terms(real_units(), cats, params(top_n=5))
    assert list(table.columns) == TABLE_COLUMNS
    assert set(table["method"]) == {"tfidf", "logodds"}
    for (place, method), part in table.groupby(["place", "method"]):
        key = (part["z"] if method == "logodds" else part["score"]).round(10).to_numpy()
        # Competition ranks: 1 + the number of listed terms with a strictly higher score.
        assert part["rank"].tolist() == [1 + int((key > k).sum()) for k in key]
        assert (part["rank"] <= 5).all() and part["rank"].is_monotonic_increasing
        assert part["tied"].tolist() == [int((key == k).sum()) > 1 for k in key]
        assert (part["count"] >= 1).all()
    # Places in the order they first occur in the units (the manifest's order), not code-point order.
    assert list(dict.fromkeys(table["place"])) == ["合肥市", "安徽省", "成都市"]
    row = table[(table["term"] == "协商") & (table["method"] == "logodds")].iloc[0]
    assert row["place"] == "合肥市" and row["category"] == "自治协商" and row["count"] == 3
    assert (table.loc[table["term"] == "圈", "category"] == "").all()


def test_tfidf_rows_carry_the_log_odds_z_and_q_of_the_same_place_and_term():
    em = compute_emphases(real_units(), {}, params(bootstrap_samples=0))
    table = emphases_table(em, top_n=50)
    for row in table[table["method"] == "tfidf"].itertuples():
        i, j = em.places.index(row.place), em.vocab.index(row.term)
        assert row.z == em.z[i, j] and row.q == em.q[i, j] and row.score == em.tfidf[i, j]
    for row in table[table["method"] == "logodds"].itertuples():
        i, j = em.places.index(row.place), em.vocab.index(row.term)
        assert row.score == em.delta[i, j]


def test_tied_terms_share_a_rank_and_are_marked():
    units = make_units({("甲", "a"): [["乙词", "甲词", "丙词"]], ("乙", "b"): [["丁词"]]})
    table = place_terms(units, {}, params(bootstrap_samples=0, top_n=3))
    part = table[(table["place"] == "甲") & (table["method"] == "logodds")]
    assert sorted(part["term"]) == sorted(["乙词", "甲词", "丙词"])
    assert part["rank"].tolist() == [1, 1, 1] and part["tied"].all()


def test_a_top_n_list_never_holds_more_than_n_rows_and_names_the_tie_it_leaves_out():
    units = make_units({("甲", "a"): [["乙词", "甲词", "丙词"]], ("乙", "b"): [["丁词"]]})
    em = compute_emphases(units, {}, params(bootstrap_samples=0, top_n=1))
    table = emphases_table(em, top_n=1)
    assert table[table["place"] == "甲"].empty  # the three-way tie at rank 1 does not fit in one row
    line = cut_table(em, top_n=1).query("place == '甲' and method == 'logodds'")["line"].item()
    assert line == "and 3 more tied at rank 1: 丙词、乙词、甲词"


def test_the_result_does_not_depend_on_the_order_of_the_units():
    units = synthetic_units(2)
    shuffled = list(units)
    random.Random(1).shuffle(shuffled)
    p = params(bootstrap_samples=20, stability_top=5)

    def by_place(table):  # the place order is the order places first occur; the rest must not move
        return table.sort_values(["place", "method", "rank", "term"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(by_place(place_terms(units, {}, p)), by_place(place_terms(shuffled, {}, p)))


def test_guardrail_flags():
    # 苏州市: one article cut into two units; 淮南市: two articles.
    groups = {("苏州市", "suzhou"): [["社区"] * 20 + ["邻里"] * 2, ["社区"] * 20 + ["网格"] * 3],
              ("淮南市", "huainan-1"): [["社区"] * 30 + ["服务"] * 10],
              ("淮南市", "huainan-2"): [["社区"] * 30 + ["服务"] * 10]}
    table = place_terms(make_units(groups), {}, params(bootstrap_samples=0, min_count=3))
    flags = {(r.place, r.method, r.term): r.guardrail for r in table.itertuples()}
    assert flags[("苏州市", "logodds", "社区")].split(";")[0] == "one_article"
    assert "one_article" not in flags[("淮南市", "logodds", "社区")]
    # 邻里: 2 occurrences (< 3); expected 45 * 2 / 125 = 0.7 < 5.
    assert flags[("苏州市", "logodds", "邻里")] == "one_article;below_min_count;small_expected"
    # 网格: exactly min_count occurrences is enough.
    assert flags[("苏州市", "tfidf", "网格")] == "one_article;small_expected"
    # 社区 in 淮南市: 60 occurrences, expected 80 * 100 / 125 = 64: no flag.
    assert flags[("淮南市", "tfidf", "社区")] == ""
    # 服务 in 淮南市: 20 occurrences; expected 80 * 20 / 125 = 13 -> no flag.
    assert flags[("淮南市", "logodds", "服务")] == ""
    # With three units required, both places have too few for a meaningful bootstrap.
    table = place_terms(make_units(groups), {}, params(bootstrap_samples=0, min_units=3))
    flags = {(r.place, r.method, r.term): r.guardrail for r in table.itertuples()}
    assert flags[("淮南市", "tfidf", "社区")] == "few_units"
    assert flags[("苏州市", "logodds", "邻里")] == "one_article;few_units;below_min_count;small_expected"


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="at least two"):
        place_terms(make_units({("甲", "a"): [["社区"]]}), {}, PARAMS)
    units = real_units()
    with pytest.raises(ValueError, match="twice"):
        place_terms(units + [dict(units[0])], {}, PARAMS)
    with pytest.raises(ValueError, match="prior_strength"):
        place_terms(units, {}, params(prior_strength=0))
    without = {k: v for k, v in PARAMS.record().items() if k != "min_expected"}
    assert problems(without, EmphasesParams) == [
        "min_expected: missing; expected a number >= 0 (see the project's params.yaml)"]


def test_methods_agreement():
    rows = [("甲", "tfidf", 1, "a"), ("甲", "tfidf", 2, "b"), ("甲", "tfidf", 3, "c"),
            ("甲", "logodds", 1, "b"), ("甲", "logodds", 2, "d"), ("甲", "logodds", 3, "a"),
            ("乙", "tfidf", 1, "x"), ("乙", "logodds", 1, "y")]
    frame = pd.DataFrame(rows, columns=["place", "method", "rank", "term"])
    frame["z"] = [0.0, 0.0, 0.0, 3.0, 2.0, 2.0, 0.0, 1.0]
    agreement = methods_agreement(frame, top=3)
    assert agreement.to_dict("records") == [
        {"place": "甲", "logodds_terms": 3, "tfidf_terms": 3, "overlap": 2, "jaccard": 0.5, "distinct_z": 2},
        {"place": "乙", "logodds_terms": 1, "tfidf_terms": 1, "overlap": 0, "jaccard": 0.0, "distinct_z": 1}]
    assert methods_agreement(frame, top=1).set_index("place").loc["甲", "overlap"] == 0


def test_heatmap_matrix_is_the_z_of_the_union_of_top_terms():
    em = compute_emphases(real_units(), {}, params(bootstrap_samples=0))
    matrix = heatmap_matrix(em, top=3)
    assert list(matrix.index) == list(em.place_order)
    # Terms tied at a place's cut all enter, so the union can exceed 3 per place.
    assert len(set(matrix.columns)) == len(matrix.columns)
    table = emphases_table(em, top_n=3)
    assert set(matrix.columns) == set(table.loc[table["method"] == "logodds", "term"])
    for term in matrix.columns:
        j = em.vocab.index(term)
        np.testing.assert_array_equal(matrix[term].to_numpy(), em.z[:, j])


# ---------------------------------------------------------------- figures ---

def test_figures_render_with_chinese_labels(tmp_path):
    from pipeline.figures.emphases import plot_top_logodds, plot_zscore_heatmap

    em = compute_emphases(real_units(), {}, params(bootstrap_samples=10))
    table = emphases_table(em, top_n=15)
    glosses = {"协商": "consultation", "社区发展治理": "community development governance"}
    bars = plot_top_logodds(table, tmp_path / "bars.png", top=15, glosses=glosses)
    heat = plot_zscore_heatmap(heatmap_matrix(em, top=5), tmp_path / "heat.png", glosses=glosses)
    for path in (bars, heat):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
