"""Ties, the count and sentence floor, the test count, the cluster bootstrap, evidence and kwic."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.emphases.evidence import dispersion, kwic
from pipeline.emphases.kwic import run_kwic
from pipeline.emphases.ranking import competition_ranks, tied_mask, top_with_ties
from pipeline.emphases.scores import count_units, resample_weights
from pipeline.emphases.stage import term_tables
from pipeline.emphases.tables import compute_emphases, multiple_testing
from pipeline.common.params import load_params

PARAMS = load_params(PROJECT_ROOT / "params.yaml").emphases.model_copy(update=dict(
    top_n=10, sublinear_tf=True, prior_strength=100, min_count=3, min_expected=5, min_units=2, bootstrap_samples=30,
    stability_top=5, random_state=3, min_term_count=2, min_term_sentences=2, agreement_top=5, kwic_window=4))


def unit(unit_id: str, place: str, pieces: list[str], doc_id: str | None = None) -> dict:
    """A unit whose text is `pieces` joined; every piece of two or more characters not
    ending a sentence is a token with its span (so tokens and spans agree by construction)."""
    text, tokens, spans = "", [], []
    for piece in pieces:
        if len(piece) > 1 and piece not in "。，":
            tokens.append(piece)
            spans.append([len(text), len(text) + len(piece)])
        text += piece
    return {"unit_id": unit_id, "doc_id": doc_id or unit_id.split("-")[0], "place": place, "text": text,
            "tokens": tokens, "spans": spans}


def synthetic(seed: int, n_terms: int = 40) -> list[dict]:
    rng = np.random.default_rng(seed)
    terms = [f"词{k:02d}" for k in range(n_terms)]
    units = []
    for p, place in enumerate(["乙地", "甲地", "丙地"]):
        for u in range(6):
            sentences = []
            for _ in range(3):
                sentences += list(rng.choice(terms, size=4, p=np.roll(1 / np.arange(1, n_terms + 1), p * 7)
                                             / (1 / np.arange(1, n_terms + 1)).sum())) + ["。"]
            units.append(unit(f"d{p}-{u:04d}", place, sentences, doc_id=f"d{p}"))
    return units


def test_competition_ranks_and_ties():
    scores = np.array([[3.0, 1.0, 3.0, 2.0, np.nan]])
    eligible = np.array([[True, True, True, True, True]])
    assert competition_ranks(scores, eligible).tolist() == [[1, 4, 1, 3, 0]]
    assert tied_mask(scores, eligible).tolist() == [[True, False, True, False, False]]
    # Floating-point noise below the rounding does not break a tie.
    assert competition_ranks(np.array([1.0, 1.0 + 1e-13]), np.array([True, True])).tolist() == [1, 1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=12), st.integers(1, 6))
def test_top_with_ties_is_rank_at_most_k(values, k):
    scores = np.array([values], dtype=float)
    eligible = np.ones_like(scores, dtype=bool)
    np.testing.assert_array_equal(top_with_ties(scores, eligible, k), competition_ranks(scores, eligible) <= k)


def _reverse_terms(units: list[dict], mapping: dict[str, str]) -> list[dict]:
    return [{**u, "tokens": [mapping[t] for t in u["tokens"]]} for u in units]


def test_reversing_the_vocabulary_order_gives_identical_tables():
    units = synthetic(1)
    terms = sorted({t for u in units for t in u["tokens"]})
    # An order-reversing renaming: the first term in code-point order becomes the last.
    forward = dict(zip(terms, reversed(terms)))
    first = term_tables(compute_emphases(units, {}, PARAMS), units, PARAMS)
    second = term_tables(compute_emphases(_reverse_terms(units, forward), {}, PARAMS),
                             _reverse_terms(units, forward), PARAMS)
    assert (first["place_terms"]["tied"]).any(), "the test corpus must have ties to test anything"
    for name in ("place_terms", "below_floor", "term_statistics", "kwic"):
        a = first[name]
        b = second[name].assign(term=second[name]["term"].map(forward))  # the map is its own inverse
        keys = [c for c in ("place", "method", "rank", "term", "unit_id", "left") if c in a]
        a, b = (f.sort_values(keys).reset_index(drop=True) for f in (a, b))
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(first["methods_agreement"], second["methods_agreement"])


def test_lists_never_cut_through_a_tie():
    table = term_tables(compute_emphases(synthetic(2), {}, PARAMS), synthetic(2), PARAMS)["term_statistics"]
    for (place,), part in table[table["ranked"]].groupby(["place"]):
        listed = part[part["rank_logodds"] <= PARAMS.top_n]
        cut = listed["z"].round(10).min()
        # Every ranked term with the cut's score is listed.
        assert (part.loc[part["z"].round(10) == cut, "rank_logodds"] <= PARAMS.top_n).all()


def test_the_floor_keeps_one_sentence_terms_out_of_the_ranking():
    units = [unit("a-0001", "甲", ["口号", "一线", "一线", "一线", "。", "社区", "。", "社区", "。"]),
             unit("b-0001", "乙", ["服务", "。", "服务", "。"])]
    em = compute_emphases(units, {}, PARAMS)
    i, j = em.places.index("甲"), em.vocab.index("一线")
    assert (em.counts[i, j], em.sentences[i, j], em.peak_sentence[i, j]) == (3, 1, 3)
    tables = term_tables(em, units, PARAMS)
    assert "一线" not in set(tables["place_terms"]["term"])
    below = tables["below_floor"].set_index(["place", "term"])
    assert below.loc[("甲", "一线"), "sentences"] == 1
    assert "社区" in set(tables["place_terms"]["term"])  # two tokens in two sentences


def test_sentence_counts_come_from_tokens_not_substrings():
    # 基层 inside the token 基层治理 is not an occurrence of 基层.
    units = [unit("a-0001", "甲", ["基层治理", "要", "抓", "。", "基层", "。", "基层治理", "。"]),
             unit("b-0001", "乙", ["服务", "。"])]
    counted = count_units(units, sublinear_tf=True)
    sentences, unit_counts, _ = dispersion(units, counted.places, counted.vocab)
    i = counted.places.index("甲")
    assert sentences[i, counted.vocab.index("基层")] == 1
    assert sentences[i, counted.vocab.index("基层治理")] == 2
    assert unit_counts[i, counted.vocab.index("基层")] == 1


def test_number_of_tests_is_the_number_the_q_values_were_computed_over():
    em = compute_emphases(synthetic(3), {}, PARAMS)
    finite = np.isfinite(em.p)
    assert multiple_testing(em)["n_tests"].item() == em.n_tests == finite.sum() == len(em.places) * len(em.vocab)
    np.testing.assert_allclose(em.q[finite], false_discovery_control(em.p[finite]))


def test_cluster_bootstrap_draws_whole_articles_in_a_place_with_several():
    # Place 0: two articles (units 0-2 and 3-4); place 1: one article of three units.
    unit_place = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    unit_doc = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    rng = np.random.default_rng(0)
    draws = np.array([resample_weights(unit_place, unit_doc, rng) for _ in range(2000)])
    for doc in (0, 1):
        rows = draws[:, unit_doc == doc]
        assert (rows == rows[:, :1]).all()  # units of one article move together
    per_article = draws[:, [0, 3]]
    assert set(map(tuple, per_article)) == {(2, 0), (1, 1), (0, 2)}
    np.testing.assert_allclose((per_article == (1, 1)).all(axis=1).mean(), 0.5, atol=0.05)
    # The one-article place resamples its units and keeps its size.
    assert (draws[:, 5:].sum(axis=1) == 3).all() and (draws[:, 5:] != 1).any()


def test_stability_of_a_term_from_one_of_two_articles_reflects_the_article_draw():
    # 网格 fills every unit of article A and none of article B: within-article
    # resampling would call it perfectly stable; drawing articles loses it whenever A is not drawn (1/4).
    a = [unit(f"A-{k:04d}", "甲", ["网格", "。", "网格", "。", "社区", "。"], doc_id="A") for k in range(4)]
    b = [unit(f"B-{k:04d}", "甲", ["服务", "。", "居民", "。", "社区", "。"], doc_id="B") for k in range(4)]
    other = [unit(f"C-{k:04d}", "乙", ["服务", "。", "社区", "。", "治理", "。"], doc_id="C") for k in range(4)]
    em = compute_emphases(a + b + other, {}, PARAMS.model_copy(update=dict(bootstrap_samples=400, stability_top=1)))
    value = em.stability["logodds"][em.places.index("甲"), em.vocab.index("网格")]
    assert 0.65 < value < 0.85


def test_kwic_lines_are_the_token_spans(tmp_path):
    units = [unit("a-0001", "甲", ["推广", "“", "一站式", "”", "服务", "。"]), unit("b-0001", "乙", ["服务", "。"])]
    lines = kwic(units, {"甲": {"一站式", "服务"}}, window=2)
    assert lines[["term", "left", "match", "right"]].values.tolist() == [
        ["一站式", "广“", "一站式", "”服"], ["服务", "式”", "服务", "。"]]
    path = tmp_path / "units.jsonl"
    path.write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in units), encoding="utf-8")
    out = io.StringIO()
    assert run_kwic(path, "服务", None, 3, out=out) == 2
    assert "[服务]" in out.getvalue() and out.getvalue().count("\n") == 2
    with pytest.raises(InputError, match="no place"):
        run_kwic(path, "服务", "丙", 3)
    path.write_text(json.dumps({k: v for k, v in units[0].items() if k != "spans"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="spans"):
        run_kwic(path, "服务", None, 3)


def test_kwic_subcommand_prints_from_the_results_folder(tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.common.config import PROJECT_ROOT

    units = [unit("a-0001", "甲", ["推广", "“", "一站式", "”", "服务", "。"]), unit("b-0001", "乙", ["服务", "。"])]
    folder = tmp_path / "results" / "corpus"
    folder.mkdir(parents=True)
    (folder / "units.jsonl").write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in units),
                                        encoding="utf-8")
    args = ["--root", str(tmp_path), "--params", str(PROJECT_ROOT / "params.yaml"), "--quiet", "kwic", "服务"]
    assert main(args + ["--place", "乙", "--window", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["乙\tb-0001\t   [服务] 。"]
    assert main(args + ["--place", "丙"]) == 2  # an unknown place is an input error, named
