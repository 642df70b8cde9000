"""The choice of K from the sweep: per-K summaries and the stated rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.themes.params import _round_frame


def summarise_sweep(k_selection: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread across seeds for each K."""
    g = k_selection.groupby("k", sort=True)
    out = pd.DataFrame(
        {
            "k": sorted(k_selection["k"].unique()),
            "seeds": g.size().to_numpy(),
            "c_v_mean": g["c_v"].mean().to_numpy(),
            "c_v_sd": g["c_v"].std(ddof=1).to_numpy(),
            "c_npmi_mean": g["c_npmi"].mean().to_numpy(),
            "u_mass_mean": g["u_mass"].mean().to_numpy(),
            "perplexity_mean": g["perplexity"].mean().to_numpy(),
            "stability_mean": g["stability"].mean().to_numpy(),
            "stability_sd": g["stability"].std(ddof=1).to_numpy(),
        }
    )
    return _round_frame(out)


def choose_k(k_selection: pd.DataFrame, min_stability: float, cv_tolerance: float = 0.0) -> tuple[int, str]:
    """The documented K rule; returns (K, reason as text).

    Among K with mean stability >= `min_stability`, the highest mean c_v;
    every K within `cv_tolerance` of that best counts as tied and the smallest
    tied K wins. Without any stable K, the most stable K (ties to the smaller).
    Means are rounded to six significant digits first so that ties are exact.
    """
    summary = summarise_sweep(k_selection)
    cv = dict(zip(summary["k"], summary["c_v_mean"]))
    stab = dict(zip(summary["k"], summary["stability_mean"]))
    eligible = [k for k in summary["k"] if np.isfinite(stab[k]) and stab[k] >= min_stability]
    if eligible:
        finite = [k for k in eligible if np.isfinite(cv[k])]
        if not finite:
            k = int(min(eligible))
            return k, f"K={k}: no K had a finite mean c_v; smallest K with mean stability >= {min_stability:g}"
        best = max(cv[k] for k in finite)
        tied = [k for k in finite if cv[k] >= best - cv_tolerance]
        k = int(min(tied))
        if cv_tolerance > 0:
            tol = f" (K within {cv_tolerance:g} of the best mean c_v, {best:.3f}, count as tied; the smallest is taken)"
        else:
            tol = " (ties go to the smaller K)"
        return k, (
            f"K={k}: highest mean c_v ({cv[k]:.3f}) among K with mean stability across seeds >= "
            f"{min_stability:g} (eligible K: {', '.join(str(int(e)) for e in eligible)}){tol}; "
            f"its mean stability is {stab[k]:.3f}"
        )
    ranked = sorted((k for k in summary["k"] if np.isfinite(stab[k])), key=lambda k: (-stab[k], k))
    if not ranked:
        raise ValueError("themes: no K has a finite stability; check seeds and the corpus")
    k = int(ranked[0])
    return k, (
        f"K={k}: no K reached mean stability {min_stability:g}; the most stable K was taken "
        f"(mean stability {stab[k]:.3f}, mean c_v {cv[k]:.3f}); treat its topics as tentative"
    )
