"""The scaling benchmark's figure: seconds against corpus size, per stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.figures.plotting import save_figure, use_cjk_font

__all__ = ["plot_bench"]

_MARKERS = "osD^v<>ph*"


def plot_bench(table: pd.DataFrame, fits: pd.DataFrame, path: Path, condition: str = "study") -> Path:
    """Log-log plot of wall seconds against text units, one line per stage.

    The whole run (`total`) is drawn dashed.

    Parameters
    ----------
    table : pd.DataFrame
        bench.csv: one row per scale x stage.
    fits : pd.DataFrame
        One row per stage with its fitted growth exponent (slope of log seconds on log units), shown in the
        legend (`fit_rows`).
    path : Path
        The PNG file to write.
    condition : str
        The condition whose timings are drawn.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the condition has no positive timing.
    """
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    exponents = dict(zip(fits["stage"], fits["exponent"]))
    part = table[(table["condition"] == condition) & (table["seconds"] > 0)]
    if part.empty:
        raise ValueError(f"no positive timings of condition {condition!r} to plot")
    fig, ax = pyplot.subplots(figsize=(11.0, 5.8))
    for i, (stage, group) in enumerate(part.groupby("stage", sort=False)):
        group = group.sort_values("units")
        slope = exponents.get(stage, float("nan"))
        label = f"{stage} (exponent {slope:.2f})" if np.isfinite(slope) else f"{stage} (one size)"
        style = {"linestyle": "--", "color": "black"} if stage == "total" else {}
        ax.plot(group["units"], group["seconds"], marker=_MARKERS[i % len(_MARKERS)], label=label, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("text units in the corpus (log scale)")
    ax.set_ylabel("wall seconds (log scale)")
    scales = part.drop_duplicates("scale").sort_values("units")
    for units, scale in zip(scales["units"], scales["scale"]):
        ax.annotate(f"{scale}×", (units, 0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                    textcoords="offset points", ha="center", fontsize=8, color="#555555")
    ax.grid(True, which="major", linewidth=0.4, color="#cccccc")
    fitted = fits[np.isfinite(fits["exponent"].astype(float))]
    fitted_on = sorted({int(x) for scales_ in fitted["fit_scales"] for x in str(scales_).split(",") if x})
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              title="stage (growth exponent, fitted on " + ", ".join(f"{s}×" for s in fitted_on) + ")",
              title_fontsize=8)
    ax.set_title("Wall time of each study stage against corpus size (2 cores)", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, Path(path))
