"""The Wilson score interval (Wilson 1927) against its formula, worked out here.

`wilson_interval` calls SciPy (`binomtest(k, n).proportion_ci(method="wilson")`);
the reference is the formula in Wilson's own form, centre
(p + z^2/2n) / (1 + z^2/n) and half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n),
for every k of several n and confidence levels, and the intervals the study
committed in results/tables/profile_shares.csv.
"""

from __future__ import annotations

import math
from math import sqrt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import norm

from pipeline.text.profile import wilson_interval

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "tables"


def by_formula(k: int, n: int, confidence: float) -> tuple[float, float]:
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (0.0 if k == 0 else centre - half), (1.0 if k == n else centre + half)


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("n", [1, 2, 7, 40, 333])
def test_wilson_matches_the_formula(n, confidence):
    """Every k = 0..n agrees with the formula to 1e-12, as written to the tables (6 significant digits)
    too, with bounds of exactly 0 and 1 at k = 0 and k = n."""
    for k in range(n + 1):
        low, high = wilson_interval(k, n, confidence)
        ref = by_formula(k, n, confidence)
        assert (low, high) == pytest.approx(ref, abs=1e-12), (k, n, confidence)
        assert (f"{low:.6g}", f"{high:.6g}") == (f"{ref[0]:.6g}", f"{ref[1]:.6g}"), (k, n, confidence)
        assert (low == 0.0) == (k == 0) and (high == 1.0) == (k == n)


def test_wilson_by_hand():
    """k = 3, n = 10, 95%: about [0.107791, 0.603222]."""
    assert wilson_interval(3, 10, 0.95) == pytest.approx((0.107791, 0.603222), abs=1e-6)


def test_edge_cases():
    assert all(math.isnan(v) for v in wilson_interval(0, 0, 0.95))  # no sentences: NaN
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            wilson_interval(1, 2, bad)


def test_the_committed_wilson_intervals_are_reproduced():
    shares = pd.read_csv(RESULTS / "profile_shares.csv", dtype=str, keep_default_na=False)
    wilson = shares[shares["interval"] == "wilson"]
    assert len(wilson) > 50
    confidence = float(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["profile"]["confidence"])
    for row in wilson.itertuples():
        low, high = wilson_interval(int(row.mentioning), int(row.sentences), confidence)
        assert (f"{low:.6g}", f"{high:.6g}") == (row.ci_low, row.ci_high), row
