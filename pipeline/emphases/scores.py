"""The statistics behind place emphases: unit counts, TF-IDF, weighted log-odds with an informative Dirichlet prior, Benjamini-Hochberg q-values and the bootstrap (over articles where a place has several, over units otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse
from scipy.stats import false_discovery_control, norm
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from pipeline.emphases.ranking import top_with_ties
from pipeline.text.units import Unit

__all__ = ["METHODS", "UnitCounts", "benjamini_hochberg", "bootstrap_stability", "cluster_plan", "count_units",
           "log_odds_vs_rest", "resample_unit_weights", "resample_weights", "tfidf_from_counts", "tokens_as_given",
           "two_sided_p"]

METHODS = ("logodds", "tfidf")


def tokens_as_given(tokens: Sequence[str]) -> list[str]:
    """Analyzer for scikit-learn vectorizers: the study's tokens, unchanged.

    A named function (not a lambda) so that a fitted vectorizer can be pickled.
    """
    return list(tokens)


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
    unit_doc: np.ndarray  # article index of every row (articles numbered in row order)
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


def _check_units(units: Sequence[Unit]) -> None:
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


def count_units(units: Sequence[Unit], sublinear_tf: bool) -> UnitCounts:
    """Count matrix of the units and TF-IDF of the places (one document per place).

    Parameters
    ----------
    units : Sequence[Unit]
        The text units (`unit_id`, `doc_id`, `place`, `tokens`) of at least two places.
    sublinear_tf : bool
        Whether the places' TF-IDF uses 1 + ln(count) as term frequency.

    Returns
    -------
    UnitCounts
        The units x terms counts (rows grouped by place), the vocabulary, and every place's TF-IDF row.

    Raises
    ------
    ValueError
        When there are no units, a unit lacks a field, has its tokens as a string or repeats a unit_id, or
        there is only one place.
    """
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
    doc_index: dict[tuple[str, str], int] = {}
    unit_doc = np.array([doc_index.setdefault((u["place"], u["doc_id"]), len(doc_index)) for u in ordered],
                        dtype=np.int64)
    return UnitCounts(places=places, vocab=vocab, unit_ids=tuple(u["unit_id"] for u in ordered),
                      unit_place=unit_place, unit_doc=unit_doc, matrix=matrix, docs_per_place=docs_per_place,
                      place_tfidf=place_tfidf.toarray())


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


def log_odds_vs_rest(counts: np.ndarray, prior_strength: float,
                     prior_shares: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted log-odds (delta) and z of every place against all other places pooled.

    The prior spreads `prior_strength` by the
    corpus-wide term shares, or by `prior_shares` (one positive share per
    term, from a background corpus: Monroe et al. 2008, section 3.5). With
    corpus shares, a term absent from the whole of `counts` has no prior mass
    and gets NaN (it cannot be tested).

    Parameters
    ----------
    counts : np.ndarray
        Places x terms token counts (of the full data, or of one bootstrap resample).
    prior_strength : float
        a0, the total pseudo-count of the Dirichlet prior (positive).
    prior_shares : np.ndarray or None
        One positive background share per term; None spreads the prior by the corpus' own term shares.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Places x terms arrays of delta (the shrunk log-odds ratio) and z (delta over its standard error).

    Raises
    ------
    ValueError
        When `prior_strength` is not positive, or `prior_shares` is not one positive share per term.
    """
    if prior_strength <= 0:
        raise ValueError(f"prior_strength must be positive, got {prior_strength}")
    counts = np.asarray(counts, dtype=np.float64)
    n_place = counts.sum(axis=1, keepdims=True)
    n_term = counts.sum(axis=0, keepdims=True)
    total = n_term.sum()
    if prior_shares is None:
        alpha = prior_strength * n_term / total
    else:
        shares = np.asarray(prior_shares, dtype=np.float64).reshape(1, -1)
        if shares.shape[1] != counts.shape[1] or not (shares > 0).all():
            raise ValueError("prior_shares needs one positive share per term")
        alpha = prior_strength * shares / shares.sum()
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
    """Two-sided p-values of z scores under the standard normal.

    Parameters
    ----------
    z : np.ndarray
        Log-odds z scores, places x terms (NaN where a term cannot be tested).

    Returns
    -------
    np.ndarray
        2 P(Z > |z|), of the same shape; NaN stays NaN.
    """
    return 2.0 * norm.sf(np.abs(z))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values over all finite entries of `p` (any shape); NaN stays NaN.

    Parameters
    ----------
    p : np.ndarray
        The two-sided p-values of every place x term test; all finite entries form one family.

    Returns
    -------
    np.ndarray
        q-values of the same shape as `p`.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        # One family: every finite p of the array, flattened.
        q[finite] = false_discovery_control(p[finite], method="bh")
    return q


def resample_unit_weights(unit_place: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How often each unit is drawn in one resample of units within places.

    `unit_place` is the place index of each unit, places in contiguous blocks
    (as `count_units` orders them). Every unit slot of a place draws one unit
    of the same place, so each place keeps its number of units.
    """
    per_place = np.bincount(unit_place)
    start = np.concatenate([[0], np.cumsum(per_place)[:-1]])
    drawn = start[unit_place] + rng.integers(0, per_place[unit_place])
    return np.bincount(drawn, minlength=unit_place.size)


def cluster_plan(unit_place: np.ndarray, unit_doc: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """For every place with two or more articles: (its unit rows, each row's article number within
    the place, the number of articles). Computed once per bootstrap, so a resample costs O(units)."""
    plan = []
    order = np.argsort(unit_place, kind="stable")
    bounds = np.flatnonzero(np.diff(unit_place[order])) + 1
    for rows in np.split(order, bounds) if unit_place.size else []:
        docs, local = np.unique(unit_doc[rows], return_inverse=True)
        if docs.size >= 2:
            plan.append((rows, local.astype(np.int64), int(docs.size)))
    return plan


def resample_weights(unit_place: np.ndarray, unit_doc: np.ndarray, rng: np.random.Generator,
                     plan: list[tuple[np.ndarray, np.ndarray, int]] | None = None) -> np.ndarray:
    """Unit weights of one resample: a cluster bootstrap of articles where a place has several.

    A place with two or more articles draws as many articles as it has, with
    replacement, and every unit of a drawn article gets the number of times
    its article was drawn: the variation measured is then the variation
    between articles, the unit of sampling. A place with one article resamples
    its units (`resample_unit_weights`), the only variation it has. `plan` is
    `cluster_plan(unit_place, unit_doc)`, passed in when resampling many times.
    """
    if plan is None:
        plan = cluster_plan(unit_place, unit_doc)
    weights = resample_unit_weights(unit_place, rng)
    for rows, local, n_docs in plan:
        drawn = np.bincount(rng.integers(0, n_docs, size=n_docs), minlength=n_docs)
        weights[rows] = drawn[local]
    return weights


def bootstrap_stability(counts: UnitCounts, *, samples: int, top: int, prior_strength: float,  # noqa: PLR0913 (keyword-only settings of one bootstrap)
                        sublinear_tf: bool, random_state: int,
                        eligible: np.ndarray | None = None,
                        prior_shares: np.ndarray | None = None, rank_by: str = "z") -> dict[str, np.ndarray]:
    """Share of resamples in which each term is in each place's top `top`.

    One resample: `resample_weights` (articles where a place has several,
    units otherwise); the place counts are then the unit rows weighted by how
    often each was drawn. In a resample, a term counts as in the top `top`
    when its competition rank among the eligible terms is at most `top`: all
    terms tied at the cut are in, so the order of the vocabulary cannot
    matter. Eligible: used in the resample, and (when `eligible` is given)
    passing the floor on the full data. With `samples` = 0 the arrays are NaN.

    Parameters
    ----------
    counts : UnitCounts
        The units' counts, grouped by place (`count_units`).
    samples : int
        Number of bootstrap resamples (`bootstrap_samples`).
    top : int
        The list length whose membership is counted (`stability_top`).
    prior_strength : float
        The log-odds prior's total pseudo-count.
    sublinear_tf : bool
        Whether TF-IDF uses sublinear term frequency.
    random_state : int
        Seed of the resampling.
    eligible : np.ndarray or None
        Places x terms mask of the entries passing the floor on the full data; None lets every used term in.
    prior_shares : np.ndarray or None
        Background prior shares per term, as for `log_odds_vs_rest`; None uses the corpus' own shares.
    rank_by : str
        "z" or "delta": what the log-odds lists rank by.

    Returns
    -------
    dict[str, np.ndarray]
        Places x terms arrays for "logodds" (ranked by z, or by delta with `rank_by="delta"`) and "tfidf":
        each entry's share of resamples in which it is in its place's top `top`.
    """
    shape = (len(counts.places), len(counts.vocab))
    if samples <= 0:
        return {m: np.full(shape, np.nan) for m in METHODS}
    base = np.ones(shape, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    rng = np.random.default_rng(random_state)
    bounds = np.concatenate([[0], np.cumsum(counts.units_per_place)])
    # Terms x units block of each place: a resample's place counts are then one
    # sparse matrix-vector product per place, O(tokens) in all.
    blocks = [counts.matrix[a:b].T.tocsr() for a, b in zip(bounds[:-1], bounds[1:])]
    hits = {m: np.zeros(shape, dtype=np.int64) for m in METHODS}
    plan = cluster_plan(counts.unit_place, counts.unit_doc)
    for _ in range(samples):
        weights = resample_weights(counts.unit_place, counts.unit_doc, rng, plan).astype(np.float64)
        resampled = np.vstack([block @ weights[a:b] for block, a, b in zip(blocks, bounds[:-1], bounds[1:])])
        present = (resampled > 0) & base
        delta, z = log_odds_vs_rest(resampled, prior_strength, prior_shares)
        hits["logodds"] += top_with_ties(delta if rank_by == "delta" else z, present, top)
        hits["tfidf"] += top_with_ties(tfidf_from_counts(resampled, sublinear_tf), present, top)
    return {m: hits[m] / samples for m in METHODS}
