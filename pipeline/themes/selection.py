"""The choice of K from the sweep: per-K summaries and the stated rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.themes.params import round_frame

__all__ = ["choose_k", "frontier", "settle_k", "summarise_sweep"]


def summarise_sweep(k_selection: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread across seeds for each K.

    Parameters
    ----------
    k_selection : pd.DataFrame
        The sweep's table, one row per K x seed.

    Returns
    -------
    pd.DataFrame
        One row per K: seeds, coherence, exclusivity, perplexity and stability means, and the spreads of c_v and
        stability.
    """
    g = k_selection.groupby("k", sort=True)
    out = pd.DataFrame(
        {
            "k": sorted(k_selection["k"].unique()),
            "seeds": g.size().to_numpy(),
            "c_v_mean": g["c_v"].mean().to_numpy(),
            "c_v_sd": g["c_v"].std(ddof=1).to_numpy(),
            "c_npmi_mean": g["c_npmi"].mean().to_numpy(),
            "u_mass_mean": g["u_mass"].mean().to_numpy(),
            "exclusivity_mean": g["exclusivity"].mean().to_numpy(),
            "semantic_coherence_mean": g["semantic_coherence"].mean().to_numpy(),
            "perplexity_mean": g["perplexity"].mean().to_numpy(),
            "stability_mean": g["stability"].mean().to_numpy(),
            "stability_sd": g["stability"].std(ddof=1).to_numpy(),
        }
    )
    return round_frame(out)


def frontier(points: dict[int, tuple[float, float]]) -> list[int]:
    """The K not dominated on (coherence, exclusivity): no other K is at least as good on both and better on one."""
    out = []
    for k, (c, e) in points.items():
        dominated = any(c2 >= c and e2 >= e and (c2 > c or e2 > e) for k2, (c2, e2) in points.items() if k2 != k)
        if not dominated:
            out.append(int(k))
    return sorted(out)


def settle_k(k_selection: pd.DataFrame, min_stability: float, fixed: int | None = None) -> tuple[int, str]:
    """The final model's K and why: `fixed` (the `themes.k` setting) when given, else the rule of `choose_k`.

    A fixed K still reports what the rule would have chosen from the sweep,
    so that a reader sees whether the two agree.

    Parameters
    ----------
    k_selection : pd.DataFrame
        The sweep's table, one row per K x seed.
    min_stability : float
        The mean stability a K needs to be chosen by the rule.
    fixed : int or None, optional
        The K set by hand, if any.

    Returns
    -------
    tuple[int, str]
        The K and the reason, as text.
    """
    k, reason = choose_k(k_selection, min_stability)
    if fixed is None:
        return k, reason
    return fixed, f"K={fixed}: fixed by themes.k; the sweep's rule would choose {reason}"


def choose_k(k_selection: pd.DataFrame, min_stability: float) -> tuple[int, str]:
    """The documented K rule; returns (K, reason as text).

    As stm's searchK is read: among K with mean stability >= `min_stability`,
    the K on the frontier of mean c_npmi (coherence) and mean FREX
    exclusivity, i.e. not beaten on both by another stable K; of the frontier,
    the most stable K, ties to the smaller K. Without any stable K, the most
    stable K (ties to the smaller). Means are compared at `RANK_DIGITS`
    significant digits, so that ties are exact and floating-point noise cannot
    decide; the reason quotes them at three decimals.
    """
    summary = summarise_sweep(k_selection)
    coh = dict(zip(summary["k"], rank_key(summary["c_npmi_mean"].to_numpy())))
    exc = dict(zip(summary["k"], rank_key(summary["exclusivity_mean"].to_numpy())))
    stab = dict(zip(summary["k"], rank_key(summary["stability_mean"].to_numpy())))
    eligible = [int(k) for k in summary["k"] if np.isfinite(stab[k]) and stab[k] >= min_stability]
    finite = [k for k in eligible if np.isfinite(coh[k]) and np.isfinite(exc[k])]
    if finite:
        front = frontier({k: (coh[k], exc[k]) for k in finite})
        k = min(front, key=lambda f: (-stab[f], f))
        return k, (
            f"K={k}: the most stable K (mean stability {stab[k]:.3f}) on the frontier of mean c_npmi and mean "
            f"FREX exclusivity (frontier K: {', '.join(map(str, front))}) among K with mean stability >= "
            f"{min_stability:g} (eligible K: {', '.join(map(str, eligible))}); its mean c_npmi is {coh[k]:.3f}, "
            f"its mean exclusivity {exc[k]:.3f}"
        )
    if eligible:
        k = min(eligible)
        return k, f"K={k}: no stable K had finite coherence and exclusivity; smallest K with mean stability >= {min_stability:g}"
    ranked = sorted((k for k in summary["k"] if np.isfinite(stab[k])), key=lambda k: (-stab[k], k))
    if not ranked:
        raise ValueError("themes: no K has a finite stability; check seeds and the corpus")
    k = int(ranked[0])
    return k, (
        f"K={k}: no K reached mean stability {min_stability:g}; the most stable K was taken "
        f"(mean stability {stab[k]:.3f}, mean c_npmi {coh[k]:.3f}); treat its topics as tentative"
    )
