"""Per-topic exclusivity (FREX) and semantic coherence, as R's stm reports them in `searchK`.

* Exclusivity (Roberts, Stewart & Airoldi 2016; stm's `exclusivity`): for a
  topic k and term w, exclusivity is the term's weight in k divided by its
  summed weight over all topics, frequency is its weight in k; both are turned
  into within-topic empirical CDF ranks over the vocabulary, and FREX is their
  weighted harmonic mean, 1 / (w / ECDF(excl) + (1 - w) / ECDF(freq)) with
  w = 0.7 by default. A topic's exclusivity is the sum of FREX over its top M
  terms (M = 10 in stm), so it lies in (0, M].
* Semantic coherence (Mimno et al. 2011; stm's `semanticCoherence`, its
  `semCoh1beta`): for the topic's top M terms in rank order, the sum over
  pairs i < j of log((D(w_i, w_j) + 0.01) / (D(w_i) + 0.01)), where D counts
  units containing the term(s) and w_i is the higher-ranked term of the pair.
  Values are <= 0; closer to 0 is more coherent. (stm orders a pair by the
  position of its terms in the list of all topics' top terms, which is rank
  order within the first topic and can differ from it in later ones; rank
  order is Mimno et al.'s definition.)

Ties in the ranks are averaged, as R's `rank` does. Weights are ranked at
`RANK_DIGITS` significant digits (`pipeline.common.numeric`), so that
floating-point noise from another BLAS kernel cannot reorder near-equal weights.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np

from pipeline.common.numeric import rank_key

__all__ = ["frex_exclusivity", "semantic_coherence"]


def frex_exclusivity(phi: np.ndarray, topn: int = 10, frex_weight: float = 0.7) -> np.ndarray:
    """stm's exclusivity per topic from a topics x terms weight matrix (rows sum to 1).

    Parameters
    ----------
    phi : np.ndarray
        Topics x terms weights.
    topn : int, optional
        How many top terms of each topic are summed.
    frex_weight : float, optional
        The weight of exclusivity against frequency in the FREX harmonic mean.

    Returns
    -------
    np.ndarray
        One exclusivity per topic.
    """
    # scipy.stats (~1.5 s) is loaded only when the measures are computed
    from scipy.stats import rankdata

    phi = np.asarray(phi, dtype=np.float64)
    k, v = phi.shape
    totals = phi.sum(axis=0)
    excl = phi / np.where(totals > 0, totals, 1.0)
    out = np.zeros(k)
    for t in range(k):
        weight = rank_key(phi[t])
        ex = rankdata(rank_key(excl[t])) / v
        fr = rankdata(weight) / v
        frex = 1.0 / (frex_weight / ex + (1.0 - frex_weight) / fr)
        # Top terms by rounded weight, ties broken by term index, as a stable sort does.
        top = np.argsort(-weight, kind="stable")[: min(topn, v)]
        out[t] = float(frex[top].sum())
    return out


def semantic_coherence(top_ids: Sequence[Sequence[int]], doc_term_sets: Sequence[set[int]]) -> np.ndarray:
    """stm's semantic coherence per topic; `top_ids` are term ids in rank order,
    `doc_term_sets` the set of term ids of each unit.

    Parameters
    ----------
    top_ids : Sequence[Sequence[int]]
        Each topic's top term ids, highest rank first.
    doc_term_sets : Sequence[set[int]]
        The term ids of each unit.

    Returns
    -------
    np.ndarray
        One coherence per topic (a sum of log co-document frequencies, 0 or below).
    """
    needed = sorted({i for ids in top_ids for i in ids})
    df: dict[int, int] = {i: 0 for i in needed}
    pair_df: dict[tuple[int, int], int] = {}
    needed_set = set(needed)
    for terms in doc_term_sets:
        present = sorted(needed_set & set(terms))
        for i in present:
            df[i] += 1
        for a, b in combinations(present, 2):
            pair_df[(a, b)] = pair_df.get((a, b), 0) + 1
    out = np.zeros(len(top_ids))
    for t, ids in enumerate(top_ids):
        total = 0.0
        # `combinations` keeps rank order: `higher` is always the higher-ranked term of the pair.
        for higher, lower in combinations(list(ids), 2):
            joint = pair_df.get((min(higher, lower), max(higher, lower)), 0)
            total += np.log(joint + 0.01) - np.log(df[higher] + 0.01)
        out[t] = total
    return out
