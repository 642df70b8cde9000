"""Place emphases on the lexicon's concepts, with generic policy language shrunk by a background corpus.

The study's primary list of policy-term emphases counts concepts, not terms
(`pipeline.text.concepts`): every lexicon token of a unit becomes a token of
its concept, keeping its character span, so that the statistics, the
evidence floor (`min_term_count` tokens in `min_term_sentences` sentences,
now of the concept's terms together), the bootstrap and the ties are those of
`pipeline.emphases.tables`, applied to concept counts. A term repeated inside
one sentence is one sentence of evidence.

The log-odds prior comes from a background corpus of Chinese policy writing
(`data/background/counts.csv`, the State Council's government work reports
segmented with the study's own tokenizer and lexicon; Monroe, Colaresi & Quinn
2008, section 3.5): a concept's prior share is its terms' background count
plus `background_pseudo_count`, over the total. A concept every policy text
uses has a large prior and cannot lead a place's list on a handful of uses;
a concept the background hardly knows is compared on the places' own counts.
The lists rank by that shrunk log-odds (delta), not by its z: the prior's
pseudo-counts enter z's variance as if they were data, so with a background
prior z rewards small deviations of the concepts every policy text uses (on
a planted corpus, z put a concept used twice at the top of one place's list,
delta the planted one in every place). z, q and the bootstrap stability of the
delta-rank give the uncertainty.

A list holds at most `top_n` rows per place and method. A tie that crosses
the cut is not listed in part: its concepts go to one line of
`place_concepts_cut.csv` ("and 4 more tied at rank 14: ...").
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from pipeline.common.errors import InputError
from pipeline.common.params import EmphasesParams
from pipeline.emphases.tables import Emphases, compute_emphases, cut_table, emphases_table
from pipeline.text.concepts import Concepts
from pipeline.text.units import Unit

__all__ = ["CONCEPT_TABLE_COLUMNS", "concept_units", "load_background", "background_shares", "Background",
           "compute_concept_emphases", "concept_terms_used", "place_concepts_tables", "BACKGROUND_COLUMNS"]

CONCEPT_TABLE_COLUMNS = ["place", "method", "rank", "tied", "concept", "label", "dimension", "terms", "count",
                         "sentences", "peak_sentence", "units", "score", "z", "q", "stability", "guardrail"]
BACKGROUND_COLUMNS = ["term", "count", "documents"]


def concept_units(units: Sequence[Unit], term_concept: Mapping[str, str]) -> list[Unit]:
    """The units with every lexicon token replaced by its concept (its span kept) and every other token dropped."""
    out = []
    for unit in units:
        spans = unit.get("spans")
        pairs = [(term_concept[t], s) for t, s in zip(unit["tokens"], spans or [None] * len(unit["tokens"]))
                 if t in term_concept]
        mapped = {k: unit[k] for k in ("unit_id", "doc_id", "place", "text") if k in unit}
        mapped["tokens"] = [c for c, _ in pairs]
        if spans is not None:
            mapped["spans"] = [s for _, s in pairs]
        out.append(mapped)
    return out


@dataclass(frozen=True)
class Background:
    """The background corpus' word counts: total count and documents per term, and how many documents."""

    counts: Mapping[str, int]
    documents: Mapping[str, int]
    n_documents: int


def load_background(path: Path) -> Background:
    """`data/background/counts.csv` (`term,count,documents`) and the document total of `summary.json` beside it.

    Parameters
    ----------
    path : Path
        The background corpus' counts file.

    Returns
    -------
    Background
        Each term's count and document count, and the number of background documents.

    Raises
    ------
    InputError
        Naming the file when it or `summary.json` is missing or malformed, or a term is in more documents
        than the total.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "not found: the background corpus' counts (see data/background/README.md)") from None
    reader = csv.reader(text.splitlines())
    if next(reader, None) != BACKGROUND_COLUMNS:
        raise InputError(path, f"the header must be `{','.join(BACKGROUND_COLUMNS)}`")
    counts: dict[str, int] = {}
    documents: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if len(row) != 3 or not row[1].isdigit() or not row[2].isdigit() or row[0] in counts:
            raise InputError(path, f"line {line}: expected a new term, a count and a document count, got {row}")
        counts[row[0]], documents[row[0]] = int(row[1]), int(row[2])
    summary = path.with_name("summary.json")
    try:
        n_documents = int(json.loads(summary.read_text(encoding="utf-8"))["documents"])
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        raise InputError(summary, "needs a `documents` count (the number of background documents)") from None
    if documents and max(documents.values()) > n_documents:
        raise InputError(path, f"a term is in more documents than the {n_documents} of {summary.name}")
    return Background(counts, documents, n_documents)


def background_shares(concepts: Concepts, background: Mapping[str, int], pseudo_count: float) -> dict[str, float]:
    """Each concept's prior share: (its terms' background count + `pseudo_count`) over the total of all concepts."""
    if pseudo_count <= 0:
        raise ValueError(f"background_pseudo_count must be positive, got {pseudo_count}")
    raw = {c: sum(background.get(t, 0) for t in terms) + pseudo_count for c, terms in concepts.terms_of().items()}
    total = sum(raw.values())
    return {c: v / total for c, v in raw.items()}


def compute_concept_emphases(units: Sequence[Unit], concepts: Concepts, background: Mapping[str, int],
                             params: EmphasesParams) -> Emphases:
    """Emphases of every place x concept: the `emphases` parameters, with `params.concepts` giving the
    background prior's strength and pseudo-count.

    Parameters
    ----------
    units : Sequence[Unit]
        The text units, with their tokens and spans.
    concepts : Concepts
        The lexicon's concept level (each term's concept and dimension).
    background : Mapping[str, int]
        Each term's count in the background corpus, the source of the log-odds prior.
    params : EmphasesParams
        The `emphases` section of the parameters.

    Returns
    -------
    Emphases
        Every place x concept statistic, log-odds ranked by delta.
    """
    settings = params.concepts
    shares = background_shares(concepts, background, float(settings.background_pseudo_count))
    dims = {c.concept: c.dimension for c in concepts.concepts}
    concept_params = params.model_copy(update={"prior_strength": float(settings.background_prior_strength)})
    return compute_emphases(concept_units(units, concepts.term_concept), dims, concept_params, background=shares,
                            rank_by="delta")


def concept_terms_used(units: Sequence[Unit], term_concept: Mapping[str, str]) -> dict[tuple[str, str], Counter]:
    """(place, concept) -> how often each of the concept's terms occurs there.

    Parameters
    ----------
    units : Sequence[Unit]
        The text units.
    term_concept : Mapping[str, str]
        Each lexicon term's concept.

    Returns
    -------
    dict[tuple[str, str], Counter]
        Per place and concept, the count of each of its terms; only pairs that occur.
    """
    used: dict[tuple[str, str], Counter] = {}
    for unit in units:
        for term in unit["tokens"]:
            concept = term_concept.get(term)
            if concept is not None:
                used.setdefault((unit["place"], concept), Counter())[term] += 1
    return used


def _terms_cell(counter: Counter | None) -> str:
    if not counter:
        return ""
    return "; ".join(f"{t} {n}" for t, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def place_concepts_tables(em: Emphases, concepts: Concepts, used: Mapping[tuple[str, str], Counter],
                          top_n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(place_concepts, place_concepts_cut): the term tables' rows and cut lines (`emphases_table`, `cut_table`)
    for concepts, each row with the concept's label and the terms the place wrote it with.

    Parameters
    ----------
    em : Emphases
        The place x concept statistics (`compute_concept_emphases`).
    concepts : Concepts
        The lexicon's concept level, for the labels.
    used : Mapping[tuple[str, str], Counter]
        Per place and concept, how often each of its terms occurs (`concept_terms_used`).
    top_n : int
        The most rows a place's concept list holds per method.

    Returns
    -------
    tuple[pd.DataFrame, pd.DataFrame]
        The concept list (`CONCEPT_TABLE_COLUMNS`) and its lines for ties across the cut.
    """
    by_id = concepts.by_id()
    table = emphases_table(em, top_n).rename(columns={"term": "concept", "category": "dimension"})
    table["label"] = [by_id[c].label for c in table["concept"]]
    table["terms"] = [_terms_cell(used.get((p, c))) for p, c in zip(table["place"], table["concept"])]
    cut = cut_table(em, top_n, name=lambda c: f"{by_id[c].label} ({c})", count_column="tied_concepts")
    return table[CONCEPT_TABLE_COLUMNS], cut
