"""Matching topics across fits and their agreement: the stability measure (Greene, O'Callaghan & Cunningham 2014)."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

__all__ = ["agreement", "final_topic_stability", "jaccard", "match_topics"]


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """The Jaccard similarity of two term sets.

    Parameters
    ----------
    a, b : Iterable[str]
        The top terms of two topics.

    Returns
    -------
    float
        Shared terms over all terms; 1 when both are empty.
    """
    a, b = set(a), set(b)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def match_topics(terms_a: Sequence[Sequence[str]], terms_b: Sequence[Sequence[str]]) -> list[tuple[int, int, float]]:
    """One-to-one matching of two topic lists maximising total top-term Jaccard.

    Hungarian method, `scipy.optimize.linear_sum_assignment`.

    Parameters
    ----------
    terms_a, terms_b : Sequence[Sequence[str]]
        The top terms of each topic of two models.

    Returns
    -------
    list[tuple[int, int, float]]
        (index in a, index in b, Jaccard) for every matched pair, ordered by the index in a; empty when either
        list is.
    """
    # scipy.optimize (~1 s) is loaded only when topics are matched
    from scipy.optimize import linear_sum_assignment

    if not terms_a or not terms_b:
        return []
    sim = np.array([[jaccard(a, b) for b in terms_b] for a in terms_a])
    rows, cols = linear_sum_assignment(sim, maximize=True)
    return sorted((int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols))


def agreement(terms_a: Sequence[Sequence[str]], terms_b: Sequence[Sequence[str]]) -> float:
    """Mean top-term Jaccard of matched topics: 1 for identical topic sets, in any order.

    Parameters
    ----------
    terms_a, terms_b : Sequence[Sequence[str]]
        The top terms of each topic of two models.

    Returns
    -------
    float
        The mean Jaccard over the matched pairs; NaN when either model has no topic.
    """
    pairs = match_topics(terms_a, terms_b)
    return float(np.mean([s for _, _, s in pairs])) if pairs else float("nan")


def final_topic_stability(final_tops, other_runs: Sequence[Sequence[Sequence[tuple[str, float]]]]) -> list[float]:
    """Per final topic: mean Jaccard with its Hungarian match in each other seed's model.

    Parameters
    ----------
    final_tops : Sequence[Sequence[tuple[str, float]]]
        The final model's topics as (term, weight) top terms.
    other_runs : Sequence[Sequence[Sequence[tuple[str, float]]]]
        The topics of the models fitted at the same K with the other seeds.

    Returns
    -------
    list[float]
        One stability per final topic, in its order (0 without other runs).
    """
    terms = [[t for t, _ in topic] for topic in final_tops]
    per_topic = np.zeros(len(terms))
    for run in other_runs:
        other = [[t for t, _ in topic] for topic in run]
        for a, _, sim in match_topics(terms, other):
            per_topic[a] += sim
    return list(per_topic / max(len(other_runs), 1))
