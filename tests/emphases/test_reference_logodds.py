"""Reference values for the weighted log-odds with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", eq. 16 (delta) and eq. 19
(its approximate variance, z = delta / sqrt(var)). Each place i is compared
with "the rest" j, the pooled counts of all other places; the prior is
alpha_w = strength * (share of term w in the whole count matrix) and
alpha_0 = strength. The expected numbers below are worked out by hand from
those equations, not taken from the project's output.
"""

from __future__ import annotations

from math import log, sqrt

import numpy as np
import pytest

from pipeline.emphases.scores import log_odds_vs_rest


def monroe_delta_z(y_i, n_i, y_j, n_j, alpha_w, alpha_0):
    """Eq. 16 and eq. 19 of Monroe et al. (2008) for one term."""
    delta = (log((y_i + alpha_w) / (n_i + alpha_0 - y_i - alpha_w))
             - log((y_j + alpha_w) / (n_j + alpha_0 - y_j - alpha_w)))
    return delta, delta / sqrt(1 / (y_i + alpha_w) + 1 / (y_j + alpha_w))


def test_two_places_asymmetric_by_hand():
    """counts [[6,2],[2,10]], strength 4: term totals 8 and 12 of 20, so alpha = (1.6, 2.4).

    Place 0, term 0: y_i = 6, n_i = 8, y_j = 2, n_j = 12, so
    delta = ln(7.6 / 4.4) - ln(3.6 / 12.4) = 1.783306 and
    z = delta / sqrt(1/7.6 + 1/3.6) = 2.787244.
    """
    delta, z = log_odds_vs_rest(np.array([[6, 2], [2, 10]]), 4)
    hand_delta = log(7.6 / 4.4) - log(3.6 / 12.4)
    hand_z = hand_delta / sqrt(1 / 7.6 + 1 / 3.6)
    assert hand_delta == pytest.approx(1.783306, abs=1e-6)
    assert hand_z == pytest.approx(2.787244, abs=1e-6)
    assert delta[0, 0] == pytest.approx(hand_delta, rel=1e-12)
    assert z[0, 0] == pytest.approx(hand_z, rel=1e-12)
    # With two places, place 1 against the rest is place 1 against place 0: both signs flip.
    assert delta[1, 0] == pytest.approx(-hand_delta, rel=1e-12)
    assert z[1, 0] == pytest.approx(-hand_z, rel=1e-12)


def test_three_places_rest_is_pool_of_the_others():
    """counts [[6,2],[2,10],[4,4]], strength 4: term totals 12 and 16 of 28, alpha = (12/7, 16/7).

    Place 0, term 0: the rest is places 1 and 2 pooled, y_j = 2 + 4 = 6, n_j = 12 + 8 = 20;
    delta = ln((54/7) / (30/7)) - ln((54/7) / (114/7)) = ln(3.8), z = ln(3.8) / sqrt(14/54).
    Place 1, term 1: y_i = 10, n_i = 12, y_j = 2 + 4 = 6, n_j = 8 + 8 = 16;
    delta = ln((86/7) / (26/7)) - ln((58/7) / (82/7)) = ln(86*82 / (26*58)).
    """
    counts = np.array([[6, 2], [2, 10], [4, 4]])
    delta, z = log_odds_vs_rest(counts, 4)
    assert delta[0, 0] == pytest.approx(log(3.8), rel=1e-12)
    assert z[0, 0] == pytest.approx(log(3.8) / sqrt(14 / 54), rel=1e-12)
    assert delta[1, 1] == pytest.approx(log(86 * 82 / (26 * 58)), rel=1e-12)

    # Every cell, from the equations with "the rest" pooled explicitly.
    alpha = [4 * 12 / 28, 4 * 16 / 28]
    for i in range(3):
        others = [p for p in range(3) if p != i]
        for w in range(2):
            want = monroe_delta_z(counts[i, w], counts[i].sum(), sum(counts[p, w] for p in others),
                                  sum(counts[p].sum() for p in others), alpha[w], 4)
            assert (delta[i, w], z[i, w]) == pytest.approx(want, rel=1e-12)
