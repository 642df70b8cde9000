"""When two printed numbers are the same result: the tolerance of `make check` and its rule.

Kept apart from the file comparison (`pipeline.run.compare`) because it is
the one place where the tolerance is written; the README quotes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["TOLERANCE", "Tolerance", "is_integer", "is_number", "numbers_close", "relative_difference"]


@dataclass(frozen=True)
class Tolerance:
    """When two decimal numbers count as the same result.

    `rtol` is ten times the largest relative difference measured between BLAS
    kernels when the topic models ran in single precision (about 1e-5); `atol`
    treats as equal two values that are both zero up to the rounding of a sum.
    """

    rtol: float = 1e-4
    atol: float = 1e-12


TOLERANCE = Tolerance()

_DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


def is_integer(token: str) -> bool:
    """Whether a printed number is an integer ("12", "-3"), not a decimal.

    Parameters
    ----------
    token : str
        A number as printed in a table, notebook or page.

    Returns
    -------
    bool
        True for an optional minus and digits only.
    """
    return re.fullmatch(r"-?\d+", token) is not None


def _last_place(token: str) -> Decimal:
    """One unit of the last digit printed in a decimal token ("0.329" -> 0.001, "1.5e-05" -> 1e-06)."""
    return Decimal(1).scaleb(Decimal(token).as_tuple().exponent)


def relative_difference(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude (0 when both are 0).

    Parameters
    ----------
    a, b : float
        The two values compared.

    Returns
    -------
    float
        `|a - b| / max(|a|, |b|)`, or 0 when the two are equal.
    """
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def numbers_close(expected: str, actual: str, tol: Tolerance = TOLERANCE, as_decimals: bool = False,
                  last_digit: bool = False) -> bool:
    """Whether two printed numbers are the same result.

    Parameters
    ----------
    expected, actual : str
        The numbers as printed.
    tol : Tolerance
        Decimals may differ by `tol.rtol` relative to the larger or by `tol.atol`.
    as_decimals : bool
        Whether integer-looking tokens are decimals too (a column of decimals
        printed with %g); otherwise two integers must be equal and an integer
        never equals a decimal.
    last_digit : bool
        Whether the numbers were rounded to a fixed number of decimals for
        reading (0.329 in a sentence or a page); two numbers with the same
        number of decimals may then also differ by one unit of the last one,
        as a value that moved by 1e-9 can round to 0.330 instead of 0.329.

    Returns
    -------
    bool
        Whether they count as the same result.

    NaN equals NaN; infinities equal only themselves.
    """
    if expected == actual:
        return True
    if not as_decimals and (is_integer(expected) or is_integer(actual)):
        return False
    a, b = float(expected), float(actual)
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    # Printed digits are subtracted exactly in decimal, so that 0.330 - 0.329 is one unit, not a little more.
    unit = _last_place(expected)
    if last_digit and unit == _last_place(actual) and abs(Decimal(expected) - Decimal(actual)) <= unit:
        return True
    return abs(a - b) <= max(tol.rtol * max(abs(a), abs(b)), tol.atol)


def is_number(cell: str) -> bool:
    """Whether a whole cell is one printed number (integer or decimal).

    Parameters
    ----------
    cell : str
        A table cell as printed.

    Returns
    -------
    bool
        True when the cell is one number, exponent allowed.
    """
    return _DECIMAL.match(cell) is not None
