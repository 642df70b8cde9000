"""q-values and competition ranks from scipy against the study's definitions, computed here by hand.

`benjamini_hochberg` and `competition_ranks` call scipy
(`false_discovery_control`, `rankdata(method="min")`); these tests hold them
to the formulas the study states, on the p-values and scores of realistic
emphases (many ties, terms a place never uses) and on generated ones.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.emphases.ranking import comparable, competition_ranks
from pipeline.emphases.scores import benjamini_hochberg, tfidf_from_counts
from pipeline.emphases.tables import compute_emphases
from tests.emphases.test_emphases import params, synthetic_units


def hand_bh(p: np.ndarray) -> np.ndarray:
    """q of p_(k) = min over j >= k of p_(j) m / j, capped at 1, over the finite p (the study's formula).

    j of a value is its position in ascending order, tied values at the last position of their tie.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    values = p[finite]
    m = values.size
    position = np.array([np.sum(values <= v) for v in values])
    q[finite] = [min(1.0, float(np.min(values[values >= v] * m / position[values >= v]))) for v in values]
    return q


def hand_ranks(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """1 + the number of eligible entries of the row with a strictly higher rounded score; 0 if not eligible."""
    values = np.atleast_2d(comparable(scores))
    eligible = np.atleast_2d(eligible) & np.isfinite(values)
    ranks = np.zeros(values.shape, dtype=np.int64)
    for i, j in zip(*np.nonzero(eligible)):
        ranks[i, j] = 1 + int(np.sum(eligible[i] & (values[i] > values[i, j])))
    return ranks


def same_within_ulps(a: np.ndarray, b: np.ndarray, ulps: int = 4) -> bool:
    nan = np.isnan(a)
    if not np.array_equal(nan, np.isnan(b)):
        return False
    return bool(np.all(np.abs(a[~nan] - b[~nan]) <= ulps * np.spacing(np.maximum(a[~nan], b[~nan]))))


def test_q_values_of_realistic_emphases_are_the_hand_formula():
    for seed in range(3):
        em = compute_emphases(synthetic_units(seed), {}, params(bootstrap_samples=0))
        p = em.p.copy()
        p[0, :3] = np.nan  # untestable terms stay out of the family
        q, expected = benjamini_hochberg(p), hand_bh(p)
        assert np.isnan(q[0, :3]).all()
        # scipy scales by p * (m / j), the formula by p * m / j: equal up to rounding in the last bits,
        # and equal as written to the tables (6 significant digits).
        assert same_within_ulps(q, expected)
        finite = np.isfinite(q)
        assert [f"{v:.6g}" for v in q[finite]] == [f"{v:.6g}" for v in expected[finite]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0.0, 0.01, 0.04, 0.5, 1.0, float("nan")]), st.floats(0, 1)),
                min_size=1, max_size=30))
def test_q_values_with_ties_zeros_ones_and_nan(values):
    p = np.array(values)
    assert same_within_ulps(benjamini_hochberg(p), hand_bh(p))


def test_ranks_of_realistic_emphases_are_the_definition():
    for seed in range(3):
        em = compute_emphases(synthetic_units(seed), {}, params(bootstrap_samples=0))
        for scores in (em.z, em.delta, tfidf_from_counts(em.counts, True)):
            np.testing.assert_array_equal(competition_ranks(scores, em.ranked), hand_ranks(scores, em.ranked))
            np.testing.assert_array_equal(competition_ranks(scores, em.counts > 0), hand_ranks(scores, em.counts > 0))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, 1.0 + 1e-13, 2.5, -3.0, float("nan"), float("inf")]),
                          st.booleans()), min_size=1, max_size=15))
def test_ranks_with_ties_noise_nan_and_ineligible_entries(entries):
    scores = np.array([[s for s, _ in entries]])
    eligible = np.array([[e for _, e in entries]])
    np.testing.assert_array_equal(competition_ranks(scores, eligible), hand_ranks(scores, eligible))
    np.testing.assert_array_equal(competition_ranks(scores[0], eligible[0]), hand_ranks(scores, eligible)[0])
