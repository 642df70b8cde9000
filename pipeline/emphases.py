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
from scipy import sparse
from scipy.stats import norm
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

METHODS = ("logodds", "tfidf")
TABLE_COLUMNS = ["place", "method", "rank", "term", "score", "z", "q", "category",
                 "stability", "count", "guardrail"]
PARAM_KEYS = ("top_n", "sublinear_tf", "prior_strength", "min_count", "min_expected", "min_units",
              "bootstrap_samples", "stability_top", "random_state")


def tokens_as_given(tokens: Sequence[str]) -> list[str]:
    """Analyzer for scikit-learn vectorizers: the study's tokens, unchanged.

    A named function (not a lambda) so that a fitted vectorizer can be pickled.
    """
    return list(tokens)


# ------------------------------------------------------------ the inputs ---

@dataclass(frozen=True)
class UnitCounts:
    """Token counts of the units, grouped by place.

    `matrix` is units x terms (sparse CSR); its rows are sorted by (place,
    unit_id) so that every place's units are one contiguous block, which makes
    the result independent of the order the units arrive in.
    """

    places: tuple[str, ...]
    vocab: tuple[str, ...]
    unit_ids: tuple[str, ...]
    unit_place: np.ndarray  # place index of every row of `matrix`
    matrix: sparse.csr_matrix
    docs_per_place: np.ndarray
    place_tfidf: np.ndarray  # places x terms, from TfidfVectorizer over whole places

    @property
    def units_per_place(self) -> np.ndarray:
        return np.bincount(self.unit_place, minlength=len(self.places))

    def place_counts(self, weights: np.ndarray | None = None) -> sparse.csr_matrix:
        """Places x terms counts: the weighted sum of each place's unit rows."""
        n_units = self.matrix.shape[0]
        if weights is None:
            weights = np.ones(n_units, dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(self.units_per_place)])
        summer = sparse.csr_matrix((weights, np.arange(n_units), indptr), shape=(len(self.places), n_units))
        return (summer @ self.matrix).tocsr()


def _check_units(units: Sequence[Mapping[str, Any]]) -> None:
    if not units:
        raise ValueError("no text units: emphases need the units of at least two places")
    seen: set[str] = set()
    for position, unit in enumerate(units):
        missing = [k for k in ("unit_id", "doc_id", "place", "tokens") if k not in unit]
        if missing:
            raise ValueError(f"unit #{position} lacks {', '.join(missing)}")
        if isinstance(unit["tokens"], str):
            raise ValueError(f"unit {unit['unit_id']}: tokens must be a list of terms, not a string")
        if unit["unit_id"] in seen:
            raise ValueError(f"unit_id {unit['unit_id']} occurs twice")
        seen.add(unit["unit_id"])


def count_units(units: Sequence[Mapping[str, Any]], sublinear_tf: bool) -> UnitCounts:
    """Count matrix of the units and TF-IDF of the places (one document per place)."""
    _check_units(units)
    ordered = sorted(units, key=lambda u: (u["place"], u["unit_id"]))
    places = tuple(sorted({u["place"] for u in ordered}))
    if len(places) < 2:
        raise ValueError(f"only one place ({places[0]}): each place is compared with the others, "
                         "so at least two are needed")
    index = {p: i for i, p in enumerate(places)}
    unit_place = np.array([index[u["place"]] for u in ordered], dtype=np.int64)

    # One document per place: all of its tokens, units in unit_id order.
    place_docs: list[list[str]] = [[] for _ in places]
    place_doc_ids: list[set[str]] = [set() for _ in places]
    for unit, i in zip(ordered, unit_place):
        place_docs[i].extend(unit["tokens"])
        place_doc_ids[i].add(unit["doc_id"])
    vectorizer = TfidfVectorizer(analyzer=tokens_as_given, sublinear_tf=sublinear_tf,
                                 smooth_idf=True, norm="l2")
    place_tfidf = vectorizer.fit_transform(place_docs)
    vocab = tuple(vectorizer.get_feature_names_out())

    counter = CountVectorizer(analyzer=tokens_as_given, vocabulary=vectorizer.vocabulary_)
    matrix = counter.transform([u["tokens"] for u in ordered]).tocsr()
    docs_per_place = np.array([len(ids) for ids in place_doc_ids], dtype=np.int64)
    return UnitCounts(places=places, vocab=vocab, unit_ids=tuple(u["unit_id"] for u in ordered),
                      unit_place=unit_place, matrix=matrix, docs_per_place=docs_per_place,
                      place_tfidf=place_tfidf.toarray())


# -------------------------------------------------------- the statistics ---

def tfidf_from_counts(place_counts: np.ndarray, sublinear_tf: bool) -> np.ndarray:
    """TF-IDF of a dense places x terms count matrix, as `TfidfVectorizer` defines it.

    Smooth idf = ln((1 + P) / (1 + df)) + 1, tf = 1 + ln(count) when
    sublinear, rows scaled to unit length. Used inside the bootstrap, where it
    is several times faster than building a transformer per resample; a test
    holds it equal to scikit-learn's result.
    """
    counts = np.asarray(place_counts, dtype=np.float64)
    present = counts > 0
    idf = np.log((1.0 + counts.shape[0]) / (1.0 + present.sum(axis=0))) + 1.0
    if sublinear_tf:
        tf = np.zeros_like(counts)
        tf[present] = 1.0 + np.log(counts[present])
    else:
        tf = counts
    weights = tf * idf
    norms = np.sqrt((weights ** 2).sum(axis=1, keepdims=True))
    return np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)


def log_odds_vs_rest(counts: np.ndarray, prior_strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted log-odds (delta) and z of every place against all other places pooled.

    `counts` is places x terms. A term absent from the whole of `counts` has
    no prior mass and gets NaN (it cannot be tested).
    """
    if prior_strength <= 0:
        raise ValueError(f"prior_strength must be positive, got {prior_strength}")
    counts = np.asarray(counts, dtype=np.float64)
    n_place = counts.sum(axis=1, keepdims=True)
    n_term = counts.sum(axis=0, keepdims=True)
    total = n_term.sum()
    alpha = prior_strength * n_term / total
    a0 = float(prior_strength)
    rest = n_term - counts
    n_rest = total - n_place
    with np.errstate(divide="ignore", invalid="ignore"):
        # The same expression on both sides, so that two identical groups give
        # a delta of exactly zero.
        place_mass = counts + alpha
        rest_mass = rest + alpha
        delta = np.log(place_mass / (n_place + a0 - place_mass)) - np.log(rest_mass / (n_rest + a0 - rest_mass))
        z = delta / np.sqrt(1.0 / place_mass + 1.0 / rest_mass)
    return delta, z


def two_sided_p(z: np.ndarray) -> np.ndarray:
    return 2.0 * norm.sf(np.abs(z))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values over all finite entries of `p` (any shape); NaN stays NaN."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    values = p[finite]
    m = values.size
    if m == 0:
        return q
    order = np.argsort(values, kind="stable")
    scaled = values[order] * m / np.arange(1, m + 1)
    # q_(k) = min over j >= k of p_(j) m / j: a running minimum from the largest p down.
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q_sorted, 1.0)
    q[finite] = out
    return q


def top_k_mask(scores: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """Per row, True for the k highest scores among eligible entries.

    Ties at the cut are broken by column order (the vocabulary is sorted, so by
    term), the same rule that ranks the table; O(rows x terms), no sorting.
    """
    eligible = eligible & np.isfinite(scores)
    if k <= 0:
        return np.zeros(scores.shape, dtype=bool)
    if k >= scores.shape[1]:
        return eligible
    masked = np.where(eligible, scores, -np.inf)
    kth = -np.partition(-masked, k - 1, axis=1)[:, k - 1][:, None]
    above = eligible & (masked > kth)
    at_cut = eligible & (masked == kth)
    slots = k - above.sum(axis=1, keepdims=True)
    return above | (at_cut & (np.cumsum(at_cut, axis=1) <= slots))


def resample_unit_weights(unit_place: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How often each unit is drawn in one resample within places.

    `unit_place` is the place index of each unit, places in contiguous blocks
    (as `count_units` orders them). Every unit slot of a place draws one unit
    of the same place, so each place keeps its number of units.
    """
    per_place = np.bincount(unit_place)
    start = np.concatenate([[0], np.cumsum(per_place)[:-1]])
    drawn = start[unit_place] + rng.integers(0, per_place[unit_place])
    return np.bincount(drawn, minlength=unit_place.size)


def bootstrap_stability(counts: UnitCounts, *, samples: int, top: int, prior_strength: float,
                        sublinear_tf: bool, random_state: int) -> dict[str, np.ndarray]:
    """Share of unit resamples in which each term is in each place's top `top`.

    Returns places x terms arrays for "logodds" (ranked by z) and "tfidf".
    One resample: for every unit slot of a place, draw one of that place's
    units; the place counts are then the unit rows weighted by how often each
    was drawn. With `samples` = 0 the arrays are NaN.
    """
    shape = (len(counts.places), len(counts.vocab))
    if samples <= 0:
        return {m: np.full(shape, np.nan) for m in METHODS}
    rng = np.random.default_rng(random_state)
    bounds = np.concatenate([[0], np.cumsum(counts.units_per_place)])
    # Terms x units block of each place: a resample's place counts are then one
    # sparse matrix-vector product per place, O(tokens) in all.
    blocks = [counts.matrix[a:b].T.tocsr() for a, b in zip(bounds[:-1], bounds[1:])]
    hits = {m: np.zeros(shape, dtype=np.int64) for m in METHODS}
    for _ in range(samples):
        weights = resample_unit_weights(counts.unit_place, rng).astype(np.float64)
        resampled = np.vstack([block @ weights[a:b] for block, a, b in zip(blocks, bounds[:-1], bounds[1:])])
        present = resampled > 0
        _, z = log_odds_vs_rest(resampled, prior_strength)
        hits["logodds"] += top_k_mask(z, present, top)
        hits["tfidf"] += top_k_mask(tfidf_from_counts(resampled, sublinear_tf), present, top)
    return {m: hits[m] / samples for m in METHODS}


# ------------------------------------------------------------ the result ---

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
