"""Rounding that makes a rank, a choice or a threshold immune to floating-point noise.

Another CPU, BLAS kernel or architecture can move a computed value in about
its 6th significant digit. Tables print `SIG_DIGITS` digits; every value that
decides something (a rank, the leading category, which K, whether a share
passes a floor) is compared at `RANK_DIGITS` digits, ties then broken by a
stated key. At 4 digits a relative change of 1e-6 moves a decision only when
the value sits within it of a rounding boundary (at most 2 values in 100),
whereas unrounded values swap whenever two lie that close, and a value that
equals a threshold exactly (a share of 3 in 5 against 0.6) no longer falls on
either side of it by chance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIG_DIGITS", "RANK_DIGITS", "round_sig", "rank_key"]

SIG_DIGITS = 6
RANK_DIGITS = 4


def round_sig(values, digits: int = SIG_DIGITS):
    """Round to `digits` significant digits (array or scalar); NaN stays NaN.

    Parameters
    ----------
    values : array_like or float
        The values to round.
    digits : int
        Significant digits kept (`SIG_DIGITS` by default, as the tables print).

    Returns
    -------
    np.ndarray or float
        The rounded values, an array of the input's shape, or a float for a scalar.
    """
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mags = np.where(arr == 0, 0, np.floor(np.log10(np.abs(arr))))
    exps = digits - 1 - np.where(np.isfinite(mags), mags, 0)
    # Scaling only by exact powers of ten (multiplying for small values,
    # dividing for large ones) makes the result the double nearest the
    # rounded decimal, so values that round alike become identical floats and
    # ties after rounding are exact.
    up = 10.0 ** np.clip(exps, 0, None)
    down = 10.0 ** np.clip(-exps, 0, None)
    out = np.round(arr * up / down) * down / up
    return out if arr.shape else float(out)


def rank_key(values):
    """Values rounded to `RANK_DIGITS` significant digits, for ranking, choosing and thresholds.

    Parameters
    ----------
    values : array_like or float
        The values that decide a rank, a choice or a threshold.

    Returns
    -------
    np.ndarray or float
        The values rounded (`round_sig`), an array of the input's shape, or a float for a scalar.
    """
    return round_sig(values, RANK_DIGITS)
