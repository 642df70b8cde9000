"""Reference case for topic matching: the assignment maximising total Jaccard (Hungarian method).

Greene, O'Callaghan & Cunningham (2014) match topics one to one so that the
total top-term Jaccard is maximal. The case below is one where greedy
matching (take the most similar pair, remove it, repeat) is not optimal;
the Jaccard values are worked out by hand.
"""

from __future__ import annotations

import pytest

from pipeline.themes.matching import agreement, match_topics


def terms(*ids):
    return [str(i) for i in ids]


A = [terms(1, 2, 3, 4, 5), terms(4, 5, 6)]
B = [terms(1, 2, 3, 4, 5, 6), terms(1, 2, 3, 7)]


def test_hungarian_beats_greedy():
    """Jaccard by hand: J(a0,b0) = 5/6, J(a0,b1) = 3/6, J(a1,b0) = 3/6, J(a1,b1) = 0/7.

    Greedy takes (a0,b0) first and is left with (a1,b1): total 5/6.
    The optimum is (a0,b1) + (a1,b0): total 1.
    """
    assert match_topics(A, B) == [(0, 1, pytest.approx(0.5)), (1, 0, pytest.approx(0.5))]
    assert agreement(A, B) == pytest.approx(0.5)
    assert agreement(B, A) == pytest.approx(0.5)


def test_unequal_lists_match_the_best_subset():
    """One topic against two: a0 = {1..5} matches b0 (5/6) rather than b1 (3/6)."""
    assert match_topics(A[:1], B) == [(0, 0, pytest.approx(5 / 6))]
