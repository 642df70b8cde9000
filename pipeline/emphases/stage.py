"""The emphases stage's tables, as one pure function of the computed statistics and the units."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from pipeline.emphases import tables
from pipeline.emphases.evidence import kwic


def kwic_for_table(units: Sequence[Mapping[str, Any]], table: pd.DataFrame, window: int) -> pd.DataFrame:
    """Keyword-in-context lines for every place x term listed in `table` (both methods)."""
    wanted: dict[str, set[str]] = {}
    for place, term in zip(table["place"], table["term"]):
        wanted.setdefault(place, set()).add(term)
    lines = kwic(units, wanted, window)
    order = {p: k for k, p in enumerate(dict.fromkeys(table["place"]))}
    return (lines.assign(_place=lines["place"].map(order)).sort_values(["_place", "term", "unit_id"], kind="stable")
            .drop(columns="_place").reset_index(drop=True))


def emphases_tables(em: tables.Emphases, units: Sequence[Mapping[str, Any]],
                    params: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """results/tables/<name>.csv for every table of the stage, by name."""
    table = tables.emphases_table(em, int(params["top_n"]))
    return {
        "place_terms": table,
        "methods_agreement": tables.methods_agreement(table, int(params["agreement_top"])),
        "place_summary": tables.place_summary(em),
        "term_statistics": tables.term_statistics(em),
        "below_floor": tables.below_floor(em),
        "multiple_testing": tables.multiple_testing(em),
        "kwic": kwic_for_table(units, table, int(params["kwic_window"])),
    }
