"""Percentile bootstrap intervals of topic shares against a distribution known by construction.

Twenty equally long units, 4 entirely in topic 1 and 16 entirely in topic 2.
Drawing 20 units (or 20 one-unit articles) with replacement, the number drawn
from topic 1 is Binomial(20, 0.2), so the resampled share of topic 1 is
Binomial(20, 0.2) / 20 exactly. The 95% percentile interval must then be the
binomial's 2.5% and 97.5% quantiles over 20 (scipy.stats.binom.ppf):
[1/20, 8/20]. With 20,000 resamples the empirical quantiles sit on those atoms
(the binomial CDF is 0.012 and 0.069 around the lower cut, 0.968 and 0.990
around the upper one, each many standard errors from 0.025 and 0.975).
Wrong quantiles (5%/95%: [1/20, 7/20]) and the basic or reflected interval
(2 * share - quantiles: [0, 7/20]) give other atoms.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from pipeline.themes.group_prevalence import group_shares
from pipeline.themes.prevalence import place_shares

N, IN_TOPIC_1, SAMPLES = 20, 4, 20_000
THETA = np.array([[1.0, 0.0]] * IN_TOPIC_1 + [[0.0, 1.0]] * (N - IN_TOPIC_1))
LENGTHS = np.full(N, 5.0)


def expected_interval():
    """Binomial quantiles of the count drawn from topic 1, as shares."""
    low, high = binom.ppf([0.025, 0.975], N, IN_TOPIC_1 / N) / N
    return low, high


def test_expected_interval_by_hand():
    """P(X <= 0) = 0.8^20 = 0.0115 < 0.025 <= P(X <= 1) = 0.0692 and
    P(X <= 7) = 0.9679 < 0.975 <= P(X <= 8) = 0.9900, so the quantiles are 1 and 8."""
    assert expected_interval() == (1 / 20, 8 / 20)


def rows_of_topic(frame, topic):
    return frame[frame["topic"] == topic].iloc[0]


@pytest.mark.parametrize("docs, kind", [
    (["one"] * N, "units_optimistic"),  # one article: units resampled
    ([f"a{i}" for i in range(N)], "cluster"),  # twenty one-unit articles: articles resampled
])
@pytest.mark.parametrize("seed", [1, 20241224])
def test_group_shares_percentile_interval(docs, kind, seed):
    frame = group_shares(THETA, LENGTHS, docs, ["g"] * N, "place", SAMPLES, seed)
    low, high = expected_interval()
    first, second = rows_of_topic(frame, 1), rows_of_topic(frame, 2)
    assert first["interval"] == kind
    assert first["share"] == pytest.approx(0.2)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((low, high), abs=1e-12)
    # Topic 2's share is 1 minus topic 1's in every resample.
    assert (second["ci_low"], second["ci_high"]) == pytest.approx((1 - high, 1 - low), abs=1e-12)


@pytest.mark.parametrize("seed", [1, 20241224])
def test_place_shares_percentile_interval(seed):
    frame = place_shares(THETA, LENGTHS, ["p"] * N, SAMPLES, seed)
    low, high = expected_interval()
    first = rows_of_topic(frame, 1)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((low, high), abs=1e-12)
