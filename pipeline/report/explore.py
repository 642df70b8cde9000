"""What notebook 06 shows for the term, place or dimension a reader picks.

Every function reads tables the study has already written (units.jsonl and
the CSV tables under results/) and computes nothing new beyond counting and
a Wilson interval, so the notebook's answers are the study's.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from pipeline.text.profile import wilson_interval
from pipeline.text.units import sentence_count, token_sentences, Unit

__all__ = ["BY_PLACE_COLUMNS", "dimension_terms", "term_by_place", "term_dimension", "term_in_topics"]

BY_PLACE_COLUMNS = ["place", "tokens", "sentences_with_term", "sentences", "share", "ci_low", "ci_high"]


def term_by_place(units: Sequence[Unit], term: str, places: Sequence[str],
                  confidence: float = 0.95) -> pd.DataFrame:
    """Per place (in the given order): the term's tokens, and the share of sentences holding it with a Wilson interval."""
    stats = {place: {"tokens": 0, "with": 0, "sentences": 0} for place in places}
    for unit in units:
        row = stats.setdefault(unit["place"], {"tokens": 0, "with": 0, "sentences": 0})
        row["sentences"] += sentence_count(unit["text"])
        hits = [s for token, s in zip(unit["tokens"], token_sentences(unit)) if token == term]
        row["tokens"] += len(hits)
        row["with"] += len(set(hits))
    rows = []
    for place, row in stats.items():
        low, high = wilson_interval(row["with"], row["sentences"], confidence)
        share = row["with"] / row["sentences"] if row["sentences"] else float("nan")
        rows.append({"place": place, "tokens": row["tokens"], "sentences_with_term": row["with"],
                     "sentences": row["sentences"], "share": share, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=BY_PLACE_COLUMNS)


def term_in_topics(term: str, models: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The term's rank and weight in every topic whose listed top terms hold it, model by model."""
    parts = []
    for model, topics in models.items():
        hits = topics[topics["term"] == term]
        label = "dimension" if "dimension" in hits.columns else "label"
        parts.append(pd.DataFrame({"model": model, "topic": hits["topic"], "topic_label": hits.get(label),
                                   "rank": hits["rank"], "weight": hits["weight"]}))
    columns = ["model", "topic", "topic_label", "rank", "weight"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def term_dimension(term: str, coverage: pd.DataFrame) -> dict[str, Any]:
    """The dimension the lexicon codes the term to (with its gloss), or None for a word outside the lexicon."""
    row = coverage[coverage["term"] == term]
    if row.empty:
        return {"term": term, "category": None, "gloss": None}
    first = row.iloc[0]
    return {"term": term, "category": first["category"], "gloss": first.get("gloss")}


def dimension_terms(dimension: str, coverage: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """The dimension's lexicon terms that occur in the corpus, most frequent first."""
    part = coverage[(coverage["category"] == dimension) & (coverage["occurrences"] > 0)]
    columns = [c for c in ("term", "gloss", "occurrences", "places", "place_names") if c in part.columns]
    return part.sort_values(["occurrences", "term"], ascending=[False, True])[columns].head(top)
