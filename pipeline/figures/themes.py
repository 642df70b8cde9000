"""Figures of the themes stage: the choice of K, the topics' top terms, and
topic shares by place with their 95% intervals.

Each `figure_*` function takes the tables returned by `pipeline.themes.model.run_themes`
and returns a matplotlib Figure; `theme_figures` and `seeded_figures` give each
figure's file name and the function that saves it there.
Topics are numbered 1..K as in topics.csv.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from pipeline.figures.plotting import drawing, gloss_label, gloss_topic_label, use_cjk_font

if TYPE_CHECKING:
    from pipeline.themes.results import ThemesResult

__all__ = ["FIGURE_FILES", "figure_k_selection", "figure_place_topics", "figure_seeded_place_topics",
           "figure_topic_terms", "METRICS", "SEEDED_FIGURE", "seeded_figures", "seeded_topic_label",
           "SEEDED_UNSTABLE_FIGURE", "theme_figures"]

FIGURE_FILES = {
    "k_selection": "themes_k_selection.png",
    "topic_terms": "themes_topic_terms.png",
    "place_topics": "themes_place_topics.png",
}

METRICS = (
    ("c_npmi", "c_npmi coherence, primary (higher is better)"),
    ("exclusivity", "FREX exclusivity (higher is better)"),
    ("stability", "stability across seeds (top-10 Jaccard)"),
    ("c_v", "c_v coherence (higher is better)"),
    ("semantic_coherence", "semantic coherence, stm (higher is better)"),
    ("u_mass", "u_mass coherence (higher is better)"),
    ("perplexity", "held-out perplexity (lower is better)"),
)


def figure_k_selection(
    k_selection: pd.DataFrame,
    chosen_k: int,
    min_stability: float | None = None,
    k_selection_plain: pd.DataFrame | None = None,
):
    """Every metric against K: one dot per seed, the line through the seed means.

    With the plain-segmentation sweep given, its means are drawn dashed in
    grey beside the lexicon-aware segmentation.
    """
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot as plt

    use_cjk_font()
    fig, axes = plt.subplots(2, 4, figsize=(17, 7.5))
    axes = axes.ravel()
    for ax, (col, title) in zip(axes, METRICS):
        ax.scatter(k_selection["k"], k_selection[col], s=14, color="tab:blue", alpha=0.6, label="lexicon: each seed")
        means = k_selection.groupby("k")[col].mean()
        ax.plot(means.index, means.to_numpy(), color="tab:blue", label="lexicon: mean over seeds")
        if k_selection_plain is not None:
            plain = k_selection_plain.groupby("k")[col].mean()
            ax.plot(plain.index, plain.to_numpy(), color="grey", linestyle="--", label="plain jieba: mean")
        ax.axvline(chosen_k, color="tab:red", linewidth=1, linestyle=":", label=f"chosen K = {chosen_k}")
        if col == "stability" and min_stability is not None:
            ax.axhline(min_stability, color="tab:orange", linewidth=1, label=f"stability threshold {min_stability:g}")
        if col == "perplexity":
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("K (number of topics)")
        ax.set_xticks(sorted(k_selection["k"].unique()))
    handles, labels = [], []
    for ax in axes[: len(METRICS)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    axes[-1].axis("off")
    axes[-1].legend(handles, labels, loc="center", frameon=False)
    fig.suptitle("Choice of K: coherence, held-out perplexity and stability across seeds")
    fig.tight_layout()
    return fig


def figure_topic_terms(topics: pd.DataFrame, top: int = 10, glosses: dict[str, str] | None = None):
    """One small bar chart of the top terms per topic (each with its English gloss), titled with its label."""
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot as plt

    use_cjk_font()
    numbers = sorted(topics["topic"].unique())
    cols = min(3, len(numbers))
    rows = math.ceil(len(numbers) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.2 * rows), squeeze=False)
    for ax, topic in zip(axes.ravel(), numbers):
        sub = topics[topics["topic"] == topic].sort_values("rank").head(top)
        y = np.arange(len(sub))[::-1]
        ax.barh(y, sub["weight"], color="tab:blue")
        ax.set_yticks(y)
        ax.set_yticklabels([gloss_label(term, glosses, 22) for term in sub["term"]])
        ax.set_title(f"{topic}. {gloss_topic_label(sub['label'].iloc[0], glosses)}", fontsize=9)
        ax.set_xlabel("p(term | topic)", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in axes.ravel()[len(numbers) :]:
        ax.axis("off")
    fig.suptitle("Top terms of each topic (final LDA model)")
    fig.tight_layout()
    return fig


def _place_share_points(ax, shares: pd.DataFrame, places: list, numbers: list) -> None:
    """One point with its interval per place and topic; the first place on top within each topic's row."""
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot as plt

    colours = plt.get_cmap("tab10")
    offsets = np.linspace(0.3, -0.3, len(places)) if len(places) > 1 else np.zeros(1)
    for j, place in enumerate(places):
        sub = shares[shares["place"] == place].set_index("topic").loc[numbers]
        y = np.arange(len(numbers))[::-1] + offsets[j]
        ax.errorbar(sub["share"], y, xerr=[sub["share"] - sub["ci_low"], sub["ci_high"] - sub["share"]], fmt="o",
                    markersize=4, capsize=2, color=colours(j % 10), label=place)


def _finish_place_shares(fig, ax, labels: list[str], xlabel: str, title: str) -> None:
    """Topic labels down the side (first topic on top), the share axis from 0, the places' legend."""
    ax.set_yticks(np.arange(len(labels))[::-1])
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()


def figure_place_topics(place_topics: pd.DataFrame, topic_roles: pd.DataFrame, glosses: dict[str, str] | None = None):
    """Share of each topic in each place, with 95% bootstrap intervals.

    One row per topic (shared topics marked), one colour per place.
    """
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot as plt

    use_cjk_font()
    places = list(dict.fromkeys(place_topics["place"]))
    roles = topic_roles.set_index("topic")
    numbers = sorted(place_topics["topic"].unique())
    fig, ax = plt.subplots(figsize=(9, 0.75 * len(numbers) * max(1, len(places) / 4) + 1.5))
    _place_share_points(ax, place_topics, places, numbers)
    labels = [f"{t}. {gloss_topic_label(roles.loc[t, 'label'], glosses)}"
              + ("  [shared]" if roles.loc[t, "role"] == "shared" else "") for t in numbers]
    _finish_place_shares(fig, ax, labels, "share of the place's modelled tokens (95% bootstrap interval over units)",
                         "Topic prevalence by place")
    return fig


def theme_figures(result: ThemesResult, min_stability: float | None = None,
                  glosses: dict[str, str] | None = None) -> dict[str, Callable[[Path], Path]]:
    """The three themes figures of the exploratory model, by file name, each as a function that saves it.

    Parameters
    ----------
    result : ThemesResult
        The exploratory model's result (`pipeline.themes.model.run_themes`).
    min_stability : float, optional
        The stability floor drawn in the K-selection figure.
    glosses : dict, optional
        Term -> English gloss for the labels.

    Returns
    -------
    dict of str to callable
        File name -> a function of the path that draws and saves the figure there.
    """
    return {
        FIGURE_FILES["k_selection"]: drawing(figure_k_selection, result.k_selection, result.chosen_k, min_stability,
                                             result.k_selection_plain),
        FIGURE_FILES["topic_terms"]: drawing(figure_topic_terms, result.topics, glosses=glosses),
        FIGURE_FILES["place_topics"]: drawing(figure_place_topics, result.place_topics, result.topic_roles, glosses),
    }


SEEDED_FIGURE = "themes_seeded_place_topics.png"
SEEDED_UNSTABLE_FIGURE = "themes_seeded_place_topics_unstable.png"


def seeded_topic_label(row) -> str:
    """A topic's label in the figures: its reader-facing title, its top words when the title is its dimension,
    and where it lives when one place holds most of it (a row of findings_topics.csv)."""
    words = "·".join(str(row["top_words"]).split("·")[:3])
    label = f"{row['title']}: {words}" if row["named_from"] == "dimension" else str(row["title"])
    return label + (f"  [one place: {row['home']}]" if str(row["one_place"]).lower() == "true" else "")


def figure_seeded_place_topics(seeded_place_topics: pd.DataFrame, named: pd.DataFrame, stable: bool = True,
                               floor: float | None = None):
    """Share of each seeded topic in each place, with 95% intervals: the stable topics (the findings' figure)
    or the others (the appendix's), labelled by `named` (findings_topics.csv); a dotted line at the
    presence `floor` when given."""
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot as plt

    use_cjk_font()
    places = list(dict.fromkeys(seeded_place_topics["place"]))
    named = named.assign(_stable=named["stable"].astype(str).str.lower() == "true")
    chosen = named[named["_stable"] == stable].set_index("topic")
    numbers = sorted(int(t) for t in chosen.index if t in set(seeded_place_topics["topic"]))
    fig, ax = plt.subplots(figsize=(9, 0.6 * max(1, len(numbers)) * max(1, len(places) / 4) + 1.5))
    _place_share_points(ax, seeded_place_topics, places, numbers)
    if floor is not None:
        ax.axvline(floor, color="0.4", linestyle=":", linewidth=1)
        ax.text(floor, 1.0, f" floor {floor:g}", transform=ax.get_xaxis_transform(), fontsize=7, color="0.3",
                va="bottom")
    kind = "stable across seeds" if stable else "not stable across seeds (appendix)"
    _finish_place_shares(fig, ax, [seeded_topic_label(chosen.loc[t]) for t in numbers],
                         "share of the place's modelled tokens (95% interval, passages resampled)",
                         f"Keyword-assisted topics {kind}, by place")
    return fig


def seeded_figures(seeded_place_topics: pd.DataFrame, named: pd.DataFrame,
                   floor: float | None = None) -> dict[str, Callable[[Path], Path]]:
    """The stable topics' figure (the findings' lead figure) and the unstable topics' (an appendix figure),
    by file name, each as a function that saves it.

    Parameters
    ----------
    seeded_place_topics : pandas.DataFrame
        seeded_place_topics.csv.
    named : pandas.DataFrame
        The topics as the findings name them (findings_topics.csv).
    floor : float, optional
        The presence floor, drawn as a dotted line.

    Returns
    -------
    dict of str to callable
        File name -> a function of the path that draws and saves the figure there.
    """
    return {name: drawing(figure_seeded_place_topics, seeded_place_topics, named, stable, floor)
            for stable, name in ((True, SEEDED_FIGURE), (False, SEEDED_UNSTABLE_FIGURE))}
