"""Figures of the place-specific emphases (weighted log-odds z-scores).

Each function takes the tables `pipeline.emphases.tables` produces and an output
path, draws with the packaged CJK font, and returns the path written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.emphases.ranking import cut_line, split_at_cut
from pipeline.figures.plotting import gloss_label, save_figure, use_cjk_font

__all__ = ["SIGNIFICANT_Q", "plot_top_logodds", "plot_zscore_heatmap"]

# A row is drawn as "significant" below this q; the threshold is only a visual
# aid (the table carries the q-values themselves).
SIGNIFICANT_Q = 0.05


_STRONG, _WEAK = "#2b5c8a", "#b8c4cf"


def plot_top_logodds(place_terms_df: pd.DataFrame, path: Path, top: int = 15, ncols: int = 5,
                     glosses: dict[str, str] | None = None, entry: str = "term", noun: str = "词",
                     measure: str = "z") -> Path:
    """One panel per place: its top `top` entries (terms, or concepts with `entry="label"`) by log-odds z,
    with bootstrap stability; never more than `top` bars, a tie across the cut named beneath the panel. Bars
    show what the list ranks by: `measure="z"`, or `measure="score"` (the shrunk log-odds delta of a list
    ranked by it).

    Dark bars have q < 0.05, light bars do not; the number after each bar is
    the term's stability (share of resamples in which it stays in the top).
    A panel title marks a place that rests on one article, or on too few
    units for the bootstrap to say much. Panels follow the table's place order
    (the manifest's); each term carries its English gloss where one is known,
    and a tied rank is marked with '='.

    Parameters
    ----------
    place_terms_df : pd.DataFrame
        The place_terms or place_concepts table; only its log-odds rows are drawn.
    path : Path
        The PNG file to write.
    top : int
        The most bars per panel (`figure_top`).
    ncols : int
        The most panels per row.
    glosses : dict[str, str] or None
        English glosses of the entries; None for none.
    entry : str
        The column naming the entries: "term", or "label" for concepts.
    noun : str
        What the entries are called in the title (词, or 政策概念 for concepts).
    measure : str
        The column the bars show: "z", or "score" (delta).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the table has no log-odds rows to draw.
    """
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    rows = place_terms_df[(place_terms_df["method"] == "logodds") & (place_terms_df["rank"] <= top)]
    # Each place's own ranks decide its cut.
    listed, crossing = np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    for place in dict.fromkeys(rows["place"]):
        at = np.flatnonzero((rows["place"] == place).to_numpy())
        listed[at], crossing[at] = split_at_cut(rows["rank"].to_numpy()[at], top)
    beneath = {place: cut_line([gloss_label(t, glosses) for t in sorted(part[entry])], int(part["rank"].iloc[0]))
               for place, part in rows[crossing].groupby("place", sort=False)}
    rows = rows[listed]
    places = list(dict.fromkeys(rows["place"]))
    if not places:
        raise ValueError("no log-odds rows to plot")
    ncols = max(1, min(ncols, len(places)))
    nrows = math.ceil(len(places) / ncols)
    tallest = int(rows.groupby("place").size().max())  # at most `top`
    fig, axes = pyplot.subplots(nrows, ncols, figsize=(4.6 * ncols, 0.28 * tallest * nrows + 1.2), squeeze=False)
    x_max = float(np.nanmax(rows[measure].to_numpy(dtype=float)))
    for ax, place in zip(axes.flat, places):
        part = rows[rows["place"] == place].sort_values("rank")
        z = part[measure].to_numpy(dtype=float)
        positions = np.arange(len(part))[::-1]  # rank 1 at the top
        colours = [_STRONG if q < SIGNIFICANT_Q else _WEAK for q in part["q"].to_numpy(dtype=float)]
        ax.barh(positions, z, color=colours, height=0.75)
        labels = [("=" if tied else "") + f"{rank} " + gloss_label(term, glosses)
                  for rank, tied, term in zip(part["rank"], part["tied"], part[entry])]
        ax.set_yticks(positions, labels, fontsize=8)
        for y, value, stab in zip(positions, z, part["stability"].to_numpy(dtype=float)):
            if np.isfinite(stab):
                ax.text(value, y, f" {stab:.2f}", va="center", ha="left", fontsize=7, color="#444444")
        flags = set(";".join(part["guardrail"].fillna("")).split(";"))
        caveats = [text for flag, text in (("one_article", "仅一篇文章"), ("few_units", "文本单元过少"))
                   if flag in flags]
        ax.set_title(place + (f"({'、'.join(caveats)})" if caveats else ""), fontsize=11)
        ax.set_xlim(min(0.0, float(np.nanmin(z))), x_max * 1.25 if x_max > 0 else 1.0)
        ax.axvline(0, color="#888888", linewidth=0.6)
        ax.set_xlabel(("z(加权对数几率)" if measure == "z" else "δ(加权对数几率,背景语料先验)") + (f"\n{beneath[place]}" if place in beneath else ""), fontsize=9,
                      wrap=True)
        ax.tick_params(axis="x", labelsize=8)
    for ax in list(axes.flat)[len(places):]:
        ax.set_visible(False)
    fig.suptitle(f"各地相对其他地区突出的{noun}(前{top}位;深色 q<{SIGNIFICANT_Q};数字为自助法稳定性)",
                 fontsize=12)
    fig.tight_layout()
    return save_figure(fig, Path(path))


def plot_zscore_heatmap(matrix: pd.DataFrame, path: Path, glosses: dict[str, str] | None = None) -> Path:
    """Places x terms heatmap of log-odds z (diverging, centred on zero); rows in the matrix's place order.

    Parameters
    ----------
    matrix : pd.DataFrame
        Log-odds z, places x terms (`heatmap_matrix`).
    path : Path
        The PNG file to write.
    glosses : dict[str, str] or None
        English glosses of the terms, beside the column labels; None for none.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the matrix is empty.
    """
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    if matrix.empty:
        raise ValueError("empty heatmap matrix")
    values = matrix.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) or 1.0
    n_places, n_terms = values.shape
    fig, ax = pyplot.subplots(figsize=(max(6.0, 0.26 * n_terms + 2.0), max(2.5, 0.45 * n_places + 3.4)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(n_terms), [gloss_label(str(t), glosses, 22) for t in matrix.columns], rotation=90, fontsize=7)
    ax.set_yticks(np.arange(n_places), [str(p) for p in matrix.index], fontsize=10)
    colourbar = fig.colorbar(image, ax=ax, fraction=0.025, pad=0.01)
    colourbar.set_label("z(该地 vs 其他地区合并)")
    ax.set_title("各地突出词的加权对数几率 z 值(每地前若干位词的并集)", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, Path(path))
