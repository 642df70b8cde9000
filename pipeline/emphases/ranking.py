"""Ranking rules for place emphases: ties share a rank, and sparse terms are not ranked.

With a handful of articles most terms occur once or twice, and terms with the
same counts get exactly the same score: a place's top 30 holds only a dozen
distinct values. Two rules keep such ties from deciding a list:

* **Competition ranking** ("1224"): a term's rank is 1 + the number of
  eligible terms of the place with a strictly higher score. Terms with equal
  scores share a rank and are marked `tied`; a list "top n" holds every term
  whose rank is at most n, so it never cuts through a tie (it can hold more
  than n rows). The order of the vocabulary, and so the code-point order of
  the terms, cannot change a rank or a list.
* **A count and dispersion floor**: a term is ranked in a place only when it
  occurs at least `min_term_count` times there and in at least
  `min_term_sentences` different sentences. A term used once, or repeated
  within one slogan sentence, cannot be told apart from chance by any of
  these statistics; such terms are reported separately (`below_floor`).

Scores are compared after rounding to `SCORE_DECIMALS` decimals, so that
values that differ only by floating-point noise count as tied.

The bootstrap applies the same rule: in a resample a term is in the top k
when its competition rank there is at most k (every term tied at the cut is
in). This is the stated tie rule for stability.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["SCORE_DECIMALS", "comparable", "competition_ranks", "cut_line", "floor_mask", "split_at_cut", "tied_mask",
           "top_with_ties"]

SCORE_DECIMALS = 10


def comparable(scores: np.ndarray) -> np.ndarray:
    """Scores rounded for comparison; NaN becomes -inf (never ahead of a number)."""
    rounded = np.round(np.asarray(scores, dtype=np.float64), SCORE_DECIMALS)
    return np.where(np.isfinite(rounded), rounded, -np.inf)


def competition_ranks(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Per row, the competition rank of every eligible entry (0 where not eligible).

    Rank = 1 + number of eligible entries of the row with a strictly higher
    (rounded) score. Works on a 1-d vector or a 2-d places x terms array.

    Parameters
    ----------
    scores : np.ndarray
        The scores a list ranks by (log-odds z or delta, or TF-IDF weights), one row per place.
    eligible : np.ndarray
        Boolean mask of the same shape: the entries that pass the count and dispersion floor.

    Returns
    -------
    np.ndarray
        Integer ranks of the same shape as `scores`; 0 where an entry is not eligible or its score is NaN.
    """
    one_row = np.ndim(scores) == 1
    scores = np.atleast_2d(comparable(scores))
    eligible = np.atleast_2d(np.asarray(eligible, dtype=bool)) & np.isfinite(scores)
    ranks = np.zeros(scores.shape, dtype=np.int64)
    for row in range(scores.shape[0]):
        values = scores[row, eligible[row]]
        if values.size == 0:
            continue
        # "min" ranks of the negated scores: 1 + the number of entries strictly above.
        ranks[row, eligible[row]] = rankdata(-values, method="min")
    return ranks[0] if one_row else ranks


def tied_mask(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """True where an eligible entry shares its (rounded) score with another eligible entry of its row.

    Parameters
    ----------
    scores : np.ndarray
        The scores a list ranks by, one row per place (a 1-d vector is read as one row).
    eligible : np.ndarray
        Boolean mask of the same shape: the entries that pass the count and dispersion floor.

    Returns
    -------
    np.ndarray
        Boolean places x terms mask (always 2-d), the `tied` column of the emphases tables.
    """
    scores = np.atleast_2d(comparable(scores))
    eligible = np.atleast_2d(np.asarray(eligible, dtype=bool)) & np.isfinite(scores)
    tied = np.zeros(scores.shape, dtype=bool)
    for row in range(scores.shape[0]):
        values = scores[row, eligible[row]]
        if values.size == 0:
            continue
        _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        tied[row, eligible[row]] = counts[inverse] > 1
    return tied


def top_with_ties(scores: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    """Per row, True for every eligible entry whose competition rank is at most k.

    Equivalent to `competition_ranks(...) <= k` but O(terms) per row: the k-th
    highest eligible score is the cut, and every entry at or above it is in.

    Parameters
    ----------
    scores : np.ndarray
        Places x terms scores of one resample (log-odds z or delta, or TF-IDF weights).
    eligible : np.ndarray
        Boolean places x terms mask of the entries that may be ranked in the resample.
    k : int
        The list length the bootstrap's stability counts (`stability_top`).

    Returns
    -------
    np.ndarray
        Boolean places x terms mask of the entries in each place's top k, every entry tied at the cut included.
    """
    values = comparable(scores)
    eligible = np.asarray(eligible, dtype=bool) & np.isfinite(values)
    if k <= 0:
        return np.zeros(values.shape, dtype=bool)
    masked = np.where(eligible, values, -np.inf)
    n_eligible = eligible.sum(axis=1)
    if k >= values.shape[1]:
        return eligible
    kth = -np.partition(-masked, k - 1, axis=1)[:, k - 1]
    # A row with fewer than k eligible entries keeps all of them.
    cut = np.where(n_eligible >= k, kth, -np.inf)[:, None]
    return eligible & (masked >= cut)


def floor_mask(counts: np.ndarray, sentences: np.ndarray, min_term_count: int, min_term_sentences: int) -> np.ndarray:
    """True where a place x term passes the count and dispersion floor (and the term is used).

    Parameters
    ----------
    counts : np.ndarray
        Places x terms token counts.
    sentences : np.ndarray
        Places x terms counts of the distinct sentences holding the term.
    min_term_count : int
        The fewest tokens of a term in a place for it to be ranked there (at least 1).
    min_term_sentences : int
        The fewest distinct sentences it must occur in (at least 1).

    Returns
    -------
    np.ndarray
        Boolean places x terms mask of the ranked entries.

    Raises
    ------
    ValueError
        When either minimum is below 1.
    """
    if min_term_count < 1 or min_term_sentences < 1:
        raise ValueError("min_term_count and min_term_sentences must be at least 1")
    counts = np.asarray(counts)
    return (counts >= min_term_count) & (np.asarray(sentences) >= min_term_sentences) & (counts > 0)


def split_at_cut(ranks: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(listed, crossing) masks of a top-`top` list from competition ranks (0 = not ranked).

    A list never holds more than `top` entries: an entry is listed when its
    whole tie fits under the cut; the entries of a tie that starts at or
    above the cut but ends below it are `crossing`, to be named in one line
    beneath the list ("and 4 more tied at rank 14: ..."), never listed in part.

    Parameters
    ----------
    ranks : np.ndarray
        One place's competition ranks over the vocabulary (1-d; 0 where an entry is not ranked).
    top : int
        The list length (`top_n`, or the `top` of a figure or an expectation check).

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        Boolean masks aligned with `ranks`: the entries listed, and the entries of the tie that crosses the cut.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    ranked = ranks >= 1
    values, sizes = np.unique(ranks[ranked], return_counts=True)
    size_of = dict(zip(values.tolist(), sizes.tolist()))
    last = np.array([r + size_of.get(int(r), 1) - 1 for r in ranks], dtype=np.int64)
    listed = ranked & (last <= top)
    crossing = ranked & (ranks <= top) & (last > top)
    return listed, crossing


def cut_line(members: list[str], rank: int) -> str:
    """The line beneath a list for a tie across its cut.

    Parameters
    ----------
    members : list[str]
        The tied entries the list leaves out, as they are to be written (terms, or concept labels with ids).
    rank : int
        The competition rank they share.

    Returns
    -------
    str
        "and N more tied at rank R: " followed by the members joined with 、.
    """
    return f"and {len(members)} more tied at rank {rank}: {'、'.join(members)}"
