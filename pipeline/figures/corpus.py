"""Figures of the corpus and of the governance profile.

Each function takes the tables the runner writes (documents, cleaning_audit,
lexicon_profile) and an output path, draws with the packaged CJK font, and
returns the path written. They compute nothing beyond what a figure needs
(sums and a pivot), so a figure can always be checked against its table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.figures.plotting import save_figure, use_cjk_font

__all__ = ["CLEANING_FIGURE_MAX_ROWS", "RULE_GROUPS", "cleaning_by_group", "cleaning_rows", "plot_cleaning",
           "plot_lexicon_profile", "plot_profile_shares", "profile_matrix", "rule_group"]

# Cleaning rules are named `<group>_<detail>` (chrome_breadcrumb,
# footer_contact, garble_repair, ...); the figure sums them by group. Order and
# colours are fixed so that a rule group keeps its colour from run to run.
RULE_GROUPS = ("pinyin", "chrome", "spam", "footer", "repost", "byline", "source", "garble", "whitespace")
_GROUP_COLOURS = {
    "pinyin": "#4e79a7", "chrome": "#f28e2b", "spam": "#e15759", "footer": "#76b7b2",
    "repost": "#59a14f", "byline": "#edc948", "source": "#b07aa1", "garble": "#ff9da7",
    "whitespace": "#9c755f",
}
_OTHER_COLOUR = "#bab0ac"


def rule_group(rule: str) -> str:
    """The group of a cleaning rule: the part of its name before the first underscore."""
    return str(rule).split("_", 1)[0]


def cleaning_by_group(audit: pd.DataFrame) -> pd.DataFrame:
    """Per article and rule group: changes made and characters removed (before minus after).

    Columns doc_id, group, changes, chars_removed; sorted by doc_id, then group
    in RULE_GROUPS order (unknown groups after, alphabetically).
    """
    # A saved page's extraction row records what the extractor dropped before cleaning began, not an edit.
    audit = audit[audit["rule"] != "page_extraction"] if not audit.empty else audit
    if audit.empty:
        return pd.DataFrame(columns=["doc_id", "group", "changes", "chars_removed"])
    before = audit["before"].fillna("").astype(str).str.len()
    after = audit["after"].fillna("").astype(str).str.len()
    frame = pd.DataFrame({"doc_id": audit["doc_id"], "group": audit["rule"].map(rule_group),
                          "removed": before - after})
    summary = (frame.groupby(["doc_id", "group"], sort=True)
               .agg(changes=("removed", "size"), chars_removed=("removed", "sum"))
               .reset_index())
    order = {group: i for i, group in enumerate(RULE_GROUPS)}
    summary["_order"] = summary["group"].map(lambda g: (order.get(g, len(order)), g))
    return summary.sort_values(["doc_id", "_order"]).drop(columns="_order").reset_index(drop=True)


# Rows the cleaning figure draws before it sums articles by place: one row per
# article stops being readable (and its image grows without bound) beyond this.
CLEANING_FIGURE_MAX_ROWS = 40


def cleaning_rows(documents: pd.DataFrame, audit: pd.DataFrame,
                  max_rows: int = CLEANING_FIGURE_MAX_ROWS) -> tuple[pd.DataFrame, str]:
    """What the cleaning figure draws: one row per article, or per place in a large corpus.

    Returns the rows (label, chars_raw, chars_clean, changes, then characters
    removed per rule group, in RULE_GROUPS order) and a note for the title.
    Up to `max_rows` articles, one row each in manifest order; beyond that,
    articles are summed by place; beyond `max_rows` places, the `max_rows`
    places that lost the most characters are kept (ties by name), in
    manifest order.
    """
    groups = cleaning_by_group(audit)
    present = [g for g in RULE_GROUPS if g in set(groups["group"])]
    present += sorted(set(groups["group"]) - set(RULE_GROUPS))
    doc_ids = documents["doc_id"].tolist()
    removed = (groups.pivot_table(index="doc_id", columns="group", values="chars_removed", aggfunc="sum")
               .reindex(index=doc_ids, columns=present).fillna(0))
    per_doc = pd.DataFrame({"key": doc_ids,
                            "chars_raw": documents["chars_raw"].to_numpy(dtype=float),
                            "chars_clean": documents["chars_clean"].to_numpy(dtype=float),
                            "changes": groups.groupby("doc_id")["changes"].sum().reindex(doc_ids)
                            .fillna(0).astype(int).to_numpy()})
    per_doc = pd.concat([per_doc, removed.reset_index(drop=True)], axis=1)
    if len(documents) <= max_rows:
        per_doc["label"] = [f"{place}\n({doc_id})" for place, doc_id in zip(documents["place"], doc_ids)]
        return per_doc.drop(columns="key")[["label", "chars_raw", "chars_clean", "changes", *present]], ""
    per_doc["key"] = documents["place"].to_numpy()
    places = list(dict.fromkeys(per_doc["key"]))
    rows = per_doc.groupby("key", sort=False).sum(numeric_only=True).reindex(places)
    articles = per_doc.groupby("key", sort=False).size().reindex(places)
    note = f"{len(documents):,} articles summed by place"
    if len(places) > max_rows:
        lost = (rows["chars_raw"] - rows["chars_clean"]).rename("lost").reset_index()
        keep = set(lost.sort_values(["lost", "key"], ascending=[False, True], kind="mergesort")
                   ["key"].head(max_rows))
        rows = rows[rows.index.isin(keep)]
        note += f"; the {max_rows} places of {len(places):,} that lost the most characters"
    rows.insert(0, "label", [f"{place}\n({articles[place]:,} articles)" for place in rows.index])
    return rows.reset_index(drop=True)[["label", "chars_raw", "chars_clean", "changes", *present]], note


def plot_cleaning(documents: pd.DataFrame, audit: pd.DataFrame, path: Path,
                  max_rows: int = CLEANING_FIGURE_MAX_ROWS) -> Path:
    """Two panels per article: characters before and after cleaning; characters removed by rule group.

    Articles appear in the order of the documents table (the manifest's
    order); a corpus of more than `max_rows` articles is drawn by place (see
    `cleaning_rows`). The right panel stacks the characters each rule group
    removed and writes the number of changes at the end of each bar, because
    one group (inserted pinyin) makes hundreds of small changes and the others
    a few large ones.

    Parameters
    ----------
    documents : pd.DataFrame
        The documents table: doc_id, place, chars_raw and chars_clean of every article.
    audit : pd.DataFrame
        The cleaning audit: one row per change (doc_id, rule, before, after).
    path : Path
        The PNG file to write.
    max_rows : int
        The most articles drawn one row each; beyond it articles are summed by place.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When there are no documents.
    """
    if documents.empty:
        raise ValueError("no documents to plot")
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    rows, note = cleaning_rows(documents, audit, max_rows)
    present = list(rows.columns[4:])
    fig, (left, right) = pyplot.subplots(1, 2, figsize=(12, 0.7 * len(rows) + 2.2), sharey=True)
    positions = np.arange(len(rows))[::-1]  # first row at the top
    height = 0.38
    raw = rows["chars_raw"].to_numpy(dtype=float)
    clean = rows["chars_clean"].to_numpy(dtype=float)
    left.barh(positions + height / 2, raw, height, color="#b8c4cf", label="原始 raw")
    left.barh(positions - height / 2, clean, height, color="#2b5c8a", label="清洗后 clean")
    for y, r, c in zip(positions, raw, clean):
        left.text(r, y + height / 2, f" {int(r):,}", va="center", fontsize=8)
        left.text(c, y - height / 2, f" {int(c):,}", va="center", fontsize=8)
    left.set_yticks(positions, rows["label"].tolist(), fontsize=10)
    left.set_xlim(0, float(max(raw.max(), clean.max())) * 1.18)
    left.set_xlabel("字符数 characters")
    left.set_title("清洗前后的字符数 characters before / after cleaning", fontsize=11)
    left.legend(loc="lower right", fontsize=8, frameon=False)

    start = np.zeros(len(rows))
    for group in present:
        values = rows[group].to_numpy(dtype=float)
        right.barh(positions, values, 0.6, left=start, label=group,
                   color=_GROUP_COLOURS.get(group, _OTHER_COLOUR))
        start += values
    for y, total, n in zip(positions, start, rows["changes"].to_numpy()):
        right.text(total, y, f" {n:,} 处 changes", va="center", fontsize=8)
    right.set_xlim(0, float(start.max()) * 1.3 if start.max() > 0 else 1.0)
    right.set_xlabel("删除的字符数 characters removed")
    right.set_title("各类规则删除的字符 characters removed, by rule group", fontsize=11)
    right.legend(loc="lower right", fontsize=8, frameon=False, ncol=2)
    if note:
        fig.suptitle(note, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, Path(path))


def profile_matrix(profile: pd.DataFrame, value: str = "per_10k") -> pd.DataFrame:
    """Places x categories of `value`, places in table order, categories by mean rate (highest first)."""
    places = list(dict.fromkeys(profile["place"]))
    matrix = profile.pivot_table(index="place", columns="category", values=value, aggfunc="sum").reindex(places)
    order = sorted(matrix.columns, key=lambda c: (-float(matrix[c].mean()), c))
    return matrix[order].fillna(0.0)


def plot_lexicon_profile(profile: pd.DataFrame, path: Path) -> Path:
    """Heatmap of lexicon-category rates (per 10,000 countable tokens), place x category.

    Colour uses a square-root scale because the frame category (社区 and the
    like) is several times as frequent as any dimension; every cell carries
    its value, so the scale never hides a number.

    Parameters
    ----------
    profile : pd.DataFrame
        The lexicon_profile table: place, category and per_10k rows.
    path : Path
        The PNG file to write.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the profile is empty.
    """
    if profile.empty:
        raise ValueError("empty lexicon profile")
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import colors, pyplot

    matrix = profile_matrix(profile)
    values = matrix.to_numpy(dtype=float)
    n_places, n_categories = values.shape
    top = float(values.max()) or 1.0
    fig, ax = pyplot.subplots(figsize=(max(7.0, 0.62 * n_categories + 2.5), 0.55 * n_places + 3.2))
    image = ax.imshow(values, cmap="Blues", norm=colors.PowerNorm(gamma=0.5, vmin=0.0, vmax=top),
                      aspect="auto", interpolation="nearest")
    for i in range(n_places):
        for j in range(n_categories):
            value = values[i, j]
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if value > 0.45 * top else "#222222")
    ax.set_xticks(np.arange(n_categories), [str(c) for c in matrix.columns], rotation=60, ha="right", fontsize=9)
    ax.set_yticks(np.arange(n_places), [str(p) for p in matrix.index], fontsize=10)
    colourbar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    colourbar.set_label("每万词 per 10,000 tokens")
    ax.set_title("各地对各治理维度的关注度(每万个可计词中的词表词数)\n"
                 "attention to each governance dimension, lexicon tokens per 10,000 countable tokens",
                 fontsize=11)
    fig.tight_layout()
    return save_figure(fig, Path(path))


def plot_profile_shares(shares: pd.DataFrame, path: Path) -> Path:
    """Share of sentences mentioning each dimension, place by place, with intervals.

    One row per dimension (highest mean share first); each place is a coloured
    dot with its interval, places in table order (the manifest's). A hollow
    ring marks the share without brand names and self-references where it
    differs.

    Parameters
    ----------
    shares : pd.DataFrame
        The profile_shares table: place, category, variant, share, ci_low and ci_high.
    path : Path
        The PNG file to write.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the table is empty.
    """
    if shares.empty:
        raise ValueError("empty profile shares")
    use_cjk_font()
    # matplotlib is loaded only when a figure is drawn
    from matplotlib import pyplot

    main = shares[shares["variant"] == "all"]
    without = shares[shares["variant"] != "all"].set_index(["place", "category"])["share"]
    places = list(dict.fromkeys(main["place"]))
    order = main.groupby("category")["share"].mean().sort_values(ascending=True)
    categories = sorted(order.index, key=lambda c: (float(order[c]), c))
    colours = pyplot.get_cmap("tab10")
    step = 0.8 / max(1, len(places))
    fig, ax = pyplot.subplots(figsize=(9.0, 0.5 * len(categories) + 1.8))
    for k, place in enumerate(places):
        part = main[main["place"] == place].set_index("category").reindex(categories)
        y = np.arange(len(categories)) + 0.4 - step * (k + 0.5)  # the first place on top within a row
        share = part["share"].to_numpy(dtype=float)
        # A percentile interval need not contain the share itself; bars are then one-sided.
        low = np.clip(share - part["ci_low"].to_numpy(dtype=float), 0, None)
        high = np.clip(part["ci_high"].to_numpy(dtype=float) - share, 0, None)
        ax.errorbar(share, y, xerr=[low, high], fmt="o", markersize=4, color=colours(k % 10),
                    elinewidth=1, capsize=0, label=place)
        alt = np.array([without.get((place, c), np.nan) for c in categories], dtype=float)
        moved = np.isfinite(alt) & (np.abs(alt - share) > 1e-12)
        ax.scatter(alt[moved], y[moved], s=36, facecolors="none", edgecolors=colours(k % 10), linewidths=1)
    ax.set_yticks(np.arange(len(categories)), categories, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_xlabel("提及该维度的句子比例 share of sentences mentioning the dimension (95% interval)")
    ax.set_title("各地各治理维度的句子比例(空心圈:去掉地方品牌名与自我指称后)\n"
                 "share of sentences per dimension; ring: without local brand names and self-references",
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, Path(path))
