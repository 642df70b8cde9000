"""Topic labels: suggestions from the governance lexicon and the researcher's overrides."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from pipeline.common.errors import InputError
from pipeline.common.numeric import rank_key
from pipeline.themes.params import NO_CATEGORY

__all__ = ["LEAD_TERMS", "apply_labels", "load_topic_labels", "suggest_label"]


LEAD_TERMS = 5


def suggest_label(topic_top: Sequence[tuple[str, float]], term_categories: dict[str, str]) -> str:
    """Lexicon category with the largest summed top-term weight, plus the top two terms.

    Only a category with at least one term among the topic's first
    `LEAD_TERMS` (5) terms can name the topic: a category that appears only
    further down (rank 9, say) does not say what the topic is about.

    Parameters
    ----------
    topic_top : Sequence[tuple[str, float]]
        The topic's top terms with their weights, heaviest first.
    term_categories : dict[str, str]
        The lexicon's category of each term.

    Returns
    -------
    str
        "category: term1/term2", or the no-category label with the two terms when no leading term is in the lexicon.
    """
    leading = {term_categories.get(term) for term, _ in topic_top[:LEAD_TERMS]} - {None, ""}
    weight: dict[str, float] = {}
    for term, w in topic_top:
        cat = term_categories.get(term)
        if cat in leading:
            weight[cat] = weight.get(cat, 0.0) + w
    terms = "/".join(t for t, _ in topic_top[:2])
    if not weight:
        return f"{NO_CATEGORY}: {terms}"
    rounded = {c: float(rank_key(w)) for c, w in weight.items()}
    category = min(rounded, key=lambda c: (-rounded[c], c))
    return f"{category}: {terms}"


def load_topic_labels(path: Path) -> dict[int, str]:
    """Read researcher overrides of topic labels (CSV with header `topic,label`, optionally `,justification`:
    why the label fits the topic's top terms and places; read by people, not by the study).

    Parameters
    ----------
    path : Path
        The overrides file (`lexicon/topic_labels.csv`); InputError when it is missing or malformed.

    Returns
    -------
    dict[int, str]
        Each overridden topic's label by its 1-based number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "topic-label overrides not found; create it with the header line `topic,label`") from None
    rows = list(csv.reader(text.splitlines()))
    header = [c.strip() for c in rows[0]] if rows else []
    if header not in (["topic", "label"], ["topic", "label", "justification"]):
        raise InputError(path, "first line must be the header `topic,label` or `topic,label,justification`")
    labels: dict[int, str] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"line {line_no}: expected {len(header)} columns ({','.join(header)}), got {len(row)}")
        topic, label = row[0].strip(), row[1].strip()
        if not topic.isdigit() or int(topic) < 1:
            raise InputError(path, f"line {line_no}: topic must be a 1-based topic number, got {topic!r}")
        if not label:
            raise InputError(path, f"line {line_no}: empty label for topic {topic}")
        if int(topic) in labels:
            raise InputError(path, f"line {line_no}: topic {topic} is labelled twice")
        labels[int(topic)] = label
    return labels


def apply_labels(suggested: dict[int, str], overrides: dict[int, str]) -> dict[int, str]:
    """The suggested topic labels with the researcher's overrides put in their place.

    Parameters
    ----------
    suggested : dict[int, str]
        The label `suggest_label` gives each topic, by its 1-based number.
    overrides : dict[int, str]
        The labels of `lexicon/topic_labels.csv`; a topic the model does not have is a ValueError.

    Returns
    -------
    dict[int, str]
        Every topic's label, the override where there is one.
    """
    beyond = sorted(t for t in overrides if t not in suggested)
    if beyond:
        raise ValueError(
            f"themes: topic-label overrides name topic(s) {', '.join(map(str, beyond))} but the model has "
            f"{len(suggested)} topics; update lexicon/topic_labels.csv to the current topics.csv"
        )
    return {t: overrides.get(t, label) for t, label in suggested.items()}
