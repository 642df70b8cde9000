"""Reference values for the Wilson score interval (Wilson 1927).

Reference: SciPy's independent implementation,
`scipy.stats.binomtest(k, n).proportion_ci(confidence_level=c, method="wilson")`,
for every k of several n and several confidence levels, plus one case
worked out by hand from the formula.
"""

from __future__ import annotations

from math import sqrt

import pytest
from scipy.stats import binomtest

from pipeline.text.profile import wilson_interval


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("n", [1, 7, 40])
def test_wilson_matches_scipy(n, confidence):
    """Every k = 0..n agrees with SciPy's Wilson interval to 1e-12."""
    for k in range(n + 1):
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        low, high = wilson_interval(k, n, confidence)
        assert low == pytest.approx(ci.low, abs=1e-12), (k, n, confidence)
        assert high == pytest.approx(ci.high, abs=1e-12), (k, n, confidence)


def test_wilson_by_hand():
    """k = 3, n = 10, 95%: z = 1.959964 (two-sided), centre (p + z^2/2n) / (1 + z^2/n),
    half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n); about [0.107791, 0.603222]."""
    z, p, n = 1.959963984540054, 0.3, 10
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    assert (centre - half, centre + half) == pytest.approx((0.107791, 0.603222), abs=1e-6)
    assert wilson_interval(3, 10, 0.95) == pytest.approx((centre - half, centre + half), rel=1e-12)
