"""Reference values for FREX exclusivity as R's stm computes it (`stm::exclusivity`).

Roberts, Stewart & Airoldi (2016) and stm's source: for topic k, exclusivity of
term v is phi[k, v] / sum_k phi[k, v]; exclusivity and frequency (phi[k, v])
are turned into ECDF ranks within the topic over the vocabulary
(`rank(x) / V`, ties averaged); FREX = 1 / (w / ECDF(excl) + (1 - w) / ECDF(freq));
a topic's exclusivity is FREX summed over its top-M terms by weight (ties kept
in vocabulary order, as R's `order(decreasing = TRUE)` leaves them). The
expected values are worked out by hand below.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.themes.stm_measures import frex_exclusivity

PHI = np.array([[0.6, 0.3, 0.1],
                [0.2, 0.2, 0.6]])


def frex(w, ecdf_excl, ecdf_freq):
    return 1 / (w / ecdf_excl + (1 - w) / ecdf_freq)


def test_frex_by_hand():
    """phi above, M = 2, w = 0.7.

    Column sums 0.8, 0.5, 0.7, so exclusivity is (0.75, 0.6, 1/7) in topic 1
    and (0.25, 0.4, 6/7) in topic 2.
    Topic 1: both ECDFs are (3, 2, 1) / 3; top terms 0 and 1;
    FREX = 1 + 1 / (0.7 * 1.5 + 0.3 * 1.5) = 1 + 2/3 = 5/3.
    Topic 2: ECDF(excl) = (1, 2, 3) / 3, ECDF(freq) = (1.5, 1.5, 3) / 3 (a tie);
    top terms 2 then 0 (the tie 0.2 = 0.2 keeps vocabulary order);
    FREX = 1 + 1 / (0.7 * 3 + 0.3 * 2) = 1 + 1/2.7 = 1.370370.
    """
    topic1 = frex(0.7, 1, 1) + frex(0.7, 2 / 3, 2 / 3)
    topic2 = frex(0.7, 1, 1) + frex(0.7, 1 / 3, 1.5 / 3)
    assert topic1 == pytest.approx(5 / 3, rel=1e-12)
    assert topic2 == pytest.approx(1 + 1 / 2.7, rel=1e-12)
    assert topic2 == pytest.approx(1.370370, abs=1e-6)
    assert frex_exclusivity(PHI, topn=2, frex_weight=0.7) == pytest.approx([5 / 3, 1 + 1 / 2.7], rel=1e-12)


def test_frex_weight_applies_to_exclusivity():
    """w = 1 keeps only exclusivity, w = 0 only frequency (same ECDFs as above).

    w = 1: topic 1 = 1 + 2/3, topic 2 = 1 + 1/3. w = 0: topic 1 = 1 + 2/3, topic 2 = 1 + 1/2.
    """
    assert frex_exclusivity(PHI, topn=2, frex_weight=1.0) == pytest.approx([5 / 3, 4 / 3], rel=1e-12)
    assert frex_exclusivity(PHI, topn=2, frex_weight=0.0) == pytest.approx([5 / 3, 3 / 2], rel=1e-12)
