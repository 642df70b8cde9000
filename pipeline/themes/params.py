"""The themes stage's parameters, constants and the small helpers every part of it shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipeline.common.numeric import rank_key, round_sig
from pipeline.themes.scaling import fit_schedule

__all__ = ["LDA_DTYPE", "NO_CATEGORY", "SEGMENTATIONS", "SUBSECTIONS", "TOKEN_FIELD", "ThemeParams", "check_units",
           "dataclass_values", "place_order", "round_frame", "top_terms"]

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


SUBSECTIONS = ("seeded",)


def dataclass_values(cls, params: dict[str, Any], section: str) -> dict[str, Any]:
    """The values of a parameters dataclass from its section of params.yaml: every field, nothing else."""
    names = list(cls.__dataclass_fields__)
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"{section} parameters lack {', '.join(missing)}; copy them from the project's params.yaml")
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(f"{section} parameters has unknown key(s) {', '.join(unknown)}")
    return {n: params[n] for n in names}


@dataclass(frozen=True)
class ThemeParams:
    """The `themes:` section of params.yaml, checked."""

    k_min: int
    k_max: int
    seeds: tuple[int, ...]
    final_seed: int
    passes: int
    iterations: int
    unit_visits: int
    min_passes: int
    min_iterations: int
    selection_max_units: int
    selection_seed: int
    alpha: Any
    eta: Any
    chunksize: int
    no_below: int
    no_above: float
    holdout_fraction: float
    split_seed: int
    topn_terms: int
    min_stability: float
    frex_weight: float
    exclude_categories: tuple[str, ...]
    presence_floor: float
    shared_min_places: int
    bootstrap_samples: int
    bootstrap_seed: int
    nmf_close_jaccard: float
    nmf_max_iter: int
    nmf_seed: int
    ablation: bool
    ldavis_terms: int
    processes: int

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> "ThemeParams":
        # The keyword-assisted model's subsection is checked by pipeline.themes.seeded.SeededParams.
        params = {k: v for k, v in params.items() if k not in SUBSECTIONS}
        values = dataclass_values(cls, params, "themes")
        values["seeds"] = tuple(int(s) for s in params["seeds"])
        values["exclude_categories"] = tuple(str(c) for c in params["exclude_categories"])
        p = cls(**values)
        p._check()
        return p

    def schedule(self, n_units: int) -> tuple[int, int]:
        """(passes, iterations) of every LDA fit on `n_units` units (the rule: pipeline/themes/scaling.py)."""
        return fit_schedule(n_units, self.passes, self.iterations, self.unit_visits, self.min_passes,
                            self.min_iterations)

    def _check(self) -> None:
        problems = []
        if not 2 <= self.k_min <= self.k_max:
            problems.append("need 2 <= k_min <= k_max")
        if len(set(self.seeds)) < 2 or len(set(self.seeds)) != len(self.seeds):
            problems.append("seeds must be at least two distinct integers (stability compares seeds)")
        if not 0.0 <= self.holdout_fraction < 1.0:
            problems.append("holdout_fraction must be in [0, 1)")
        if self.topn_terms < 2:
            problems.append("topn_terms must be at least 2")
        if not 0.0 < self.frex_weight < 1.0:
            problems.append("frex_weight must be in (0, 1)")
        if min(self.passes, self.iterations, self.unit_visits, self.min_passes, self.min_iterations) < 1:
            problems.append("passes, iterations, unit_visits, min_passes and min_iterations must be at least 1")
        if self.selection_max_units < 2:
            problems.append("selection_max_units must be at least 2")
        if self.processes < 1:
            problems.append("processes must be at least 1")
        if self.bootstrap_samples < 1:
            problems.append("bootstrap_samples must be at least 1")
        if self.shared_min_places < 1:
            problems.append("shared_min_places must be at least 1")
        if problems:
            raise ValueError("themes parameters: " + "; ".join(problems))


def round_frame(frame: pd.DataFrame) -> pd.DataFrame:
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


def check_units(units: Sequence[dict[str, Any]], field: str) -> None:
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


def place_order(units: Sequence[dict[str, Any]]) -> list[str]:
    """Places in order of first appearance (the manifest's order when units follow it)."""
    return list(dict.fromkeys(u["place"] for u in units))
