"""The themes stage's constants and the small helpers every part of it shares (its parameters: `ThemeParams`)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.common.numeric import rank_key, round_sig
from pipeline.text.units import Unit

__all__ = ["LDA_DTYPE", "NO_CATEGORY", "SEGMENTATIONS", "TOKEN_FIELD", "check_units",
           "place_order", "round_frame", "top_terms"]

# gensim's LdaModel runs in single precision unless told otherwise; there, the
# last bits of a BLAS kernel's products grow through the iterations into the
# 5th significant digit and swap near-equal top terms, so that the same seed
# gave other tables under each OpenBLAS kernel (Haswell, Prescott,
# Sandybridge). In double precision the five articles' tables are byte for
# byte the same under all three, at no measurable cost in time at this size.
LDA_DTYPE = np.float64


NO_CATEGORY = "no_category"


SEGMENTATIONS = ("lexicon", "plain")


TOKEN_FIELD = {"lexicon": "tokens", "plain": "plain_tokens"}


def round_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table with every float column rounded to `SIG_DIGITS` significant digits.

    Parameters
    ----------
    frame : pd.DataFrame
        A table of the themes stage.

    Returns
    -------
    pd.DataFrame
        The rounded copy; other columns unchanged.
    """
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = round_sig(frame[col].to_numpy())
    return frame


def top_terms(weights: np.ndarray, vocab: Sequence[str], topn: int) -> list[tuple[str, float]]:
    """The `topn` heaviest terms of one weight vector, by weight at `RANK_DIGITS` digits, then term.

    Ranking on the rounded weight makes near-ties (which BLAS noise could flip)
    exact ties, broken by the term itself; the weight returned keeps
    `SIG_DIGITS` digits.

    Parameters
    ----------
    weights : np.ndarray
        One topic's (or component's) weight per term id.
    vocab : Sequence[str]
        The terms by id.
    topn : int
        How many terms to keep.

    Returns
    -------
    list[tuple[str, float]]
        (term, weight) pairs, heaviest first.
    """
    raw = np.asarray(weights, dtype=np.float64)
    key = rank_key(raw)
    topn = min(topn, len(key))
    if topn == 0:
        return []
    cutoff = np.partition(key, len(key) - topn)[len(key) - topn]
    candidates = np.flatnonzero(key >= cutoff)
    ranked = sorted(candidates, key=lambda i: (-key[i], vocab[i]))[:topn]
    return [(vocab[i], float(round_sig(raw[i]))) for i in ranked]


def check_units(units: Sequence[Unit], field: str) -> None:
    """Stop with a ValueError unless there are units, each with its ids, place and `field`, and unique ids.

    Parameters
    ----------
    units : Sequence[Unit]
        The text units to model.
    field : str
        The token field the model reads (the lexicon or the plain segmentation's).
    """
    if not units:
        raise ValueError("themes: no text units to model")
    needed = ("unit_id", "doc_id", "place", field)
    for unit in units:
        lacking = [k for k in needed if k not in unit]
        if lacking:
            raise ValueError(f"themes: unit {unit.get('unit_id', '?')} lacks {', '.join(lacking)}")
    ids = [u["unit_id"] for u in units]
    if len(set(ids)) != len(ids):
        raise ValueError("themes: unit_id values are not unique")


def place_order(units: Sequence[Unit]) -> list[str]:
    """Places in order of first appearance (the manifest's order when units follow it).

    Parameters
    ----------
    units : Sequence[Unit]
        The text units, each with its place.

    Returns
    -------
    list[str]
        Each place once.
    """
    return list(dict.fromkeys(u["place"] for u in units))
