"""Place-specific emphases: what each place stresses more than the others.

Two measures, reported side by side for every place:

* **TF-IDF** (scikit-learn `TfidfVectorizer` with a callable analyzer, so that
  the study's own tokens are used as they are and one-character terms such as
  村 or 站 are kept; the default token pattern would drop them). A "document"
  here is *all of a place's text*: the tokens of every unit of that place,
  concatenated. With smooth idf, idf = ln((1 + P) / (1 + df)) + 1 for P places,
  so with five places a term used by every place has idf exactly 1: it is not
  removed, only weighted below terms used by fewer places. With so few
  documents idf takes only five values, and TF-IDF is mostly a frequency list
  nudged towards local terms; read it next to the log-odds.

* **Weighted log-odds ratio with an informative Dirichlet prior** (Monroe,
  Colaresi & Quinn 2008, "Fightin' Words", Political Analysis 16(4)), each
  place against all other places pooled. The prior is alpha_w =
  prior_strength x (corpus share of w), so a0 = prior_strength; rare terms are
  shrunk towards the corpus rate. For place i and the pooled rest j::

      delta_w = log((y_iw + a_w) / (n_i + a0 - y_iw - a_w))
              - log((y_jw + a_w) / (n_j + a0 - y_jw - a_w))
      var_w  ~= 1 / (y_iw + a_w) + 1 / (y_jw + a_w)
      z_w     = delta_w / sqrt(var_w)

  Two-sided p-values come from the standard normal; Benjamini-Hochberg
  q-values are taken across all place x term tests at once (every term of the
  vocabulary, for every place, including terms a place never uses). Log-odds
  rows are ranked by z (evidence: effect and amount of data together, as
  Monroe et al. rank); `score` on those rows is delta (the effect size alone).

Uncertainty: a bootstrap over units. Each resample draws, within every place,
as many units as the place has, with replacement; both statistics are
recomputed and a term's `stability` is the share of resamples in which it is in
the place's top `stability_top` (only terms the place uses in that resample are
eligible; ties are broken by term, as in the table). The multinomial variance
behind z treats tokens as independent, which they are not (terms cluster in
paragraphs), so z overstates the evidence; the bootstrap over units is the
check on that. When a place rests on one article, the resampling sees only the
variation between that article's paragraphs, never between articles: such rows
carry the `one_article` flag. With very few units a resample can hardly differ
from the original (one unit: never), so stability is then close to 0 or 1 by
construction: such rows carry `few_units`.

Flags in `guardrail` (semicolon-joined, in this order): `one_article` (the
place has one distinct doc_id), `few_units` (fewer than `min_units` units),
`below_min_count` (the term occurs fewer than `min_count` times in the place),
`small_expected` (its count expected under the pooled corpus rate, n_i x
y_w / N, is below `min_expected`, where the normal approximation behind z is
poor).

Everything here is a pure function of the units, the lexicon categories and the
parameters; the runner writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.emphases.scores import (METHODS, benjamini_hochberg, bootstrap_stability, count_units, log_odds_vs_rest,
                                       two_sided_p)

TABLE_COLUMNS = ["place", "method", "rank", "term", "score", "z", "q", "category",
                 "stability", "count", "guardrail"]


PARAM_KEYS = ("top_n", "sublinear_tf", "prior_strength", "min_count", "min_expected", "min_units",
              "bootstrap_samples", "stability_top", "random_state")


@dataclass(frozen=True)
class Emphases:
    """Every place x term statistic; arrays are places x terms, aligned with `vocab`."""

    places: tuple[str, ...]
    vocab: tuple[str, ...]
    categories: tuple[str, ...]
    docs_per_place: np.ndarray
    units_per_place: np.ndarray
    counts: np.ndarray
    expected: np.ndarray  # count expected under the pooled corpus rate
    tfidf: np.ndarray
    delta: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    stability: dict[str, np.ndarray]  # method -> places x terms
    min_count: int
    min_expected: float
    min_units: int


def _require(params: Mapping[str, Any]) -> None:
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise ValueError(f"the emphases parameters lack {', '.join(missing)}; see params.yaml")


def compute_emphases(units: Sequence[Mapping[str, Any]], term_categories: Mapping[str, str],
                     params: Mapping[str, Any]) -> Emphases:
    """TF-IDF, weighted log-odds with q-values, and bootstrap stability for every place x term."""
    _require(params)
    counted = count_units(units, sublinear_tf=bool(params["sublinear_tf"]))
    counts = counted.place_counts().toarray().astype(np.int64)
    delta, z = log_odds_vs_rest(counts, float(params["prior_strength"]))
    p = two_sided_p(z)
    total = counts.sum()
    expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True) / total
    stability = bootstrap_stability(
        counted, samples=int(params["bootstrap_samples"]), top=int(params["stability_top"]),
        prior_strength=float(params["prior_strength"]), sublinear_tf=bool(params["sublinear_tf"]),
        random_state=int(params["random_state"]))
    return Emphases(
        places=counted.places, vocab=counted.vocab,
        categories=tuple(term_categories.get(t, "") or "" for t in counted.vocab),
        docs_per_place=counted.docs_per_place, units_per_place=counted.units_per_place,
        counts=counts, expected=expected, tfidf=counted.place_tfidf,
        delta=delta, z=z, p=p, q=benjamini_hochberg(p), stability=stability,
        min_count=int(params["min_count"]), min_expected=float(params["min_expected"]),
        min_units=int(params["min_units"]))


def _guardrail(one_article: bool, few_units: bool, count: int, expected: float, min_count: int,
               min_expected: float) -> str:
    flags = []
    if one_article:
        flags.append("one_article")
    if few_units:
        flags.append("few_units")
    if count < min_count:
        flags.append("below_min_count")
    if expected < min_expected:
        flags.append("small_expected")
    return ";".join(flags)


def emphases_table(em: Emphases, top_n: int) -> pd.DataFrame:
    """The top `top_n` terms per place and method (only terms the place uses).

    tfidf rows: score = TF-IDF weight, ranked by it. logodds rows: score =
    delta, ranked by z. On both, z and q are the term's log-odds z and q for
    that place, and `count` its count there. Ties are broken by term.
    """
    frames = []
    vocab = np.array(em.vocab, dtype=object)
    categories = np.array(em.categories, dtype=object)
    term_order = np.arange(len(vocab))  # vocab is sorted, so index order is term order
    for i, place in enumerate(em.places):
        used = np.flatnonzero(em.counts[i] > 0)
        for method, score, key in (("logodds", em.delta[i], em.z[i]), ("tfidf", em.tfidf[i], em.tfidf[i])):
            order = used[np.lexsort((term_order[used], -key[used]))][:top_n]
            one_article = bool(em.docs_per_place[i] == 1)
            few_units = bool(em.units_per_place[i] < em.min_units)
            frames.append(pd.DataFrame({
                "place": place,
                "method": method,
                "rank": np.arange(1, order.size + 1, dtype=np.int64),
                "term": vocab[order],
                "score": score[order],
                "z": em.z[i, order],
                "q": em.q[i, order],
                "category": categories[order],
                "stability": em.stability[method][i, order],
                "count": em.counts[i, order].astype(np.int64),
                "guardrail": [_guardrail(one_article, few_units, int(c), float(e), em.min_count, em.min_expected)
                              for c, e in zip(em.counts[i, order], em.expected[i, order])],
            }))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS)
    table = table.sort_values(["place", "method", "rank", "term"], kind="stable").reset_index(drop=True)
    return table[TABLE_COLUMNS]


def place_terms(units: Sequence[Mapping[str, Any]], term_categories: Mapping[str, str],
                params: Mapping[str, Any]) -> pd.DataFrame:
    """results/tables/place_terms.csv: top terms per place by TF-IDF and by weighted log-odds."""
    return emphases_table(compute_emphases(units, term_categories, params), int(params["top_n"]))


def term_statistics(em: Emphases) -> pd.DataFrame:
    """Every place x term the place uses: count, expected, delta, z, p, q, tfidf, stabilities.

    q was computed over all place x term tests, including the terms a place
    never uses (those rows are not listed).
    """
    place_idx, term_idx = np.nonzero(em.counts > 0)
    frame = pd.DataFrame({
        "place": np.array(em.places, dtype=object)[place_idx],
        "term": np.array(em.vocab, dtype=object)[term_idx],
        "category": np.array(em.categories, dtype=object)[term_idx],
        "count": em.counts[place_idx, term_idx],
        "expected": em.expected[place_idx, term_idx],
        "delta": em.delta[place_idx, term_idx],
        "z": em.z[place_idx, term_idx],
        "p": em.p[place_idx, term_idx],
        "q": em.q[place_idx, term_idx],
        "tfidf": em.tfidf[place_idx, term_idx],
        "stability_logodds": em.stability["logodds"][place_idx, term_idx],
        "stability_tfidf": em.stability["tfidf"][place_idx, term_idx],
    })
    return frame.sort_values(["place", "term"], kind="stable").reset_index(drop=True)


def methods_agreement(place_terms_df: pd.DataFrame, top: int = 30) -> pd.DataFrame:
    """Per place, how many of the top `top` terms TF-IDF and log-odds share (overlap, Jaccard)."""
    rows = []
    head = place_terms_df[place_terms_df["rank"] <= top]
    for place in sorted(head["place"].unique()):
        sets = {m: set(head.loc[(head["place"] == place) & (head["method"] == m), "term"]) for m in METHODS}
        both = sets["logodds"] & sets["tfidf"]
        either = sets["logodds"] | sets["tfidf"]
        rows.append({"place": place, "overlap": len(both),
                     "jaccard": len(both) / len(either) if either else float("nan")})
    return pd.DataFrame(rows, columns=["place", "overlap", "jaccard"])


def heatmap_matrix(em: Emphases, top: int = 15) -> pd.DataFrame:
    """Places x terms matrix of log-odds z over the union of each place's top `top` terms.

    Columns follow the places in order, each place's terms by rank, first
    occurrence kept, so that each place's own block is easy to find.
    """
    columns: list[int] = []
    term_order = np.arange(len(em.vocab))
    for i in range(len(em.places)):
        used = np.flatnonzero(em.counts[i] > 0)
        for j in used[np.lexsort((term_order[used], -em.z[i, used]))][:top]:
            if j not in columns:
                columns.append(int(j))
    matrix = pd.DataFrame(em.z[:, columns], index=pd.Index(em.places, name="place"),
                          columns=pd.Index([em.vocab[j] for j in columns], name="term"))
    return matrix


def place_summary(em: Emphases) -> pd.DataFrame:
    """Per place: articles, units and tokens behind its emphases (the evidence base)."""
    return pd.DataFrame({"place": list(em.places), "articles": em.docs_per_place.astype(np.int64),
                         "units": em.units_per_place.astype(np.int64),
                         "tokens": em.counts.sum(axis=1).astype(np.int64)})
