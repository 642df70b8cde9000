"""The emphases stage's tables, as one pure function of the computed statistics, the units and the lexicon."""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from pipeline.common.params import EmphasesParams
from pipeline.emphases import tables
from pipeline.emphases.concepts import Background, concept_terms_used, place_concepts_tables
from pipeline.emphases.evidence import kwic
from pipeline.emphases.expectations import concept_hits, generic_entries, hit_summary, term_hits
from pipeline.text.concepts import Concepts
from pipeline.text.units import Unit

__all__ = ["kwic_for_tables", "term_tables", "emphases_tables"]


def kwic_for_tables(units: Sequence[Unit], terms: pd.DataFrame, concepts_table: pd.DataFrame | None,
                    concepts: Concepts | None, window: int) -> pd.DataFrame:
    """Keyword-in-context lines for every place x term listed in `terms` and every term of every place x
    concept listed in `concepts_table`, each line with the concept its term belongs to ("" outside the lexicon)."""
    wanted: dict[str, set[str]] = {}
    for place, term in zip(terms["place"], terms["term"]):
        wanted.setdefault(place, set()).add(term)
    term_concept = concepts.term_concept if concepts is not None else {}
    places = list(terms["place"])
    if concepts is not None and concepts_table is not None:
        members = concepts.terms_of()
        for place, concept in zip(concepts_table["place"], concepts_table["concept"]):
            wanted.setdefault(place, set()).update(members[concept])
        places += list(concepts_table["place"])
    lines = kwic(units, wanted, window)
    lines.insert(lines.columns.get_loc("term") + 1, "concept", [term_concept.get(t, "") for t in lines["term"]])
    order = {p: k for k, p in enumerate(dict.fromkeys(places))}
    return (lines.assign(_place=lines["place"].map(order)).sort_values(["_place", "term", "unit_id"], kind="stable")
            .drop(columns="_place").reset_index(drop=True))


def _expected_tokens(hits: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for place, tokens in zip(hits["place"], hits["as_tokens"]):
        out.setdefault(place, set()).update(t for t in str(tokens).split(";") if t)
    return out


def term_tables(em: tables.Emphases, units: Sequence[Unit], params: EmphasesParams,
                concepts: Concepts | None = None, concepts_table: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The term-level tables (the discovery view), each listed term with its concept where it has one; the
    evidence lines cover the listed terms and the terms of the concepts in `concepts_table`, when given."""
    place_terms = tables.emphases_table(em, int(params.top_n))
    term_concept = concepts.term_concept if concepts is not None else {}
    place_terms.insert(place_terms.columns.get_loc("category") + 1, "concept",
                       [term_concept.get(t, "") for t in place_terms["term"]])
    return {
        "place_terms": place_terms,
        "place_terms_cut": tables.cut_table(em, int(params.top_n)),
        "methods_agreement": tables.methods_agreement(place_terms, int(params.agreement_top)),
        "place_summary": tables.place_summary(em),
        "term_statistics": tables.term_statistics(em),
        "below_floor": tables.below_floor(em),
        "multiple_testing": tables.multiple_testing(em),
        "kwic": kwic_for_tables(units, place_terms, concepts_table, concepts, int(params.kwic_window)),
    }


def emphases_tables(em: tables.Emphases, em_concepts: tables.Emphases, units: Sequence[Unit],  # noqa: PLR0913 (the stage's inputs, one table each)
                    params: EmphasesParams, concepts: Concepts, canonical: Mapping[str, str],
                    background: Background, expected_terms: pd.DataFrame,
                    expected_concepts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """results/tables/<name>.csv for every table of the stage, by name.

    Parameters
    ----------
    em, em_concepts : the statistics of every place x term, and of every place x concept
    units : the text units (for the evidence lines)
    params : the `emphases` parameters
    concepts : the lexicon's concept level
    canonical : lexicon spelling -> canonical term (to read expectations as tokens)
    background : the background corpus' counts (what counts as generic)
    expected_terms, expected_concepts : the blind expectation sets

    Returns
    -------
    dict[str, pd.DataFrame]
        Each table by its file name without `.csv`: the term tables, the concept lists, the concept statistics,
        the expectation hits and summary, and the generic entries.
    """
    used = concept_terms_used(units, concepts.term_concept)
    place_concepts, concepts_cut = place_concepts_tables(em_concepts, concepts, used,
                                                         int(params.concepts.top_n))
    produced = term_tables(em, units, params, concepts, place_concepts)
    term_stats = produced["term_statistics"]
    concept_stats = tables.term_statistics(em_concepts).rename(columns={"term": "concept", "category": "dimension"})
    top = int(params.figure_top)
    hits_terms = term_hits(expected_terms, term_stats, canonical, top)
    hits_concepts = concept_hits(expected_concepts, concept_stats, canonical, concepts.term_concept, top)
    hits = pd.concat([hits_concepts, hits_terms], ignore_index=True)
    share = float(params.concepts.generic_share)
    generic = pd.concat([
        generic_entries(concept_stats, "concept", top, background.documents, background.n_documents, share,
                        _expected_tokens(hits_concepts), used),
        generic_entries(term_stats, "term", top, background.documents, background.n_documents, share,
                        _expected_tokens(hits_terms)),
    ], ignore_index=True)
    return {
        **produced,
        "place_concepts": place_concepts,
        "place_concepts_cut": concepts_cut,
        "concept_statistics": concept_stats,
        "expectation_hits": hits,
        "expectation_summary": hit_summary(hits, list(em.place_order)),
        "generic_in_lists": generic,
    }
