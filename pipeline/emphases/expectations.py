"""The computed emphases against blind expectations, and how much generic policy language the lists hold.

Two expectation sets sit in `data/expectations/`, each written from the
cleaned articles before the lists it is compared with existed:
`blind_expectations.csv` (terms) and `blind_concepts.csv` (concepts, each with
the words that express it). An expected term is a *hit* when its token (a
lexicon variant read as its canonical term) has log-odds rank at most `top`
in its place; an expected concept is a hit when any of its words that is a
lexicon term belongs to a concept with log-odds rank at most `top` there.
Ranks are competition ranks among everything that passes the evidence floor,
so a hit does not depend on how many tied rows a table shows.

A list entry is *generic* when it belongs to the language of any Chinese
policy text: a term that occurs in at least `generic_share` of the
background corpus' documents (the government work reports,
`data/background/counts.csv`); a concept when at least half of its tokens in
the place are such terms. Whether a generic entry still carries a
place-specific meaning is left to the blind reader: the table says whether
it matches one of the place's expectations.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from pipeline.common.errors import InputError
from pipeline.emphases.ranking import split_at_cut

__all__ = ["read_expectations", "HIT_COLUMNS", "SUMMARY_COLUMNS", "GENERIC_COLUMNS", "term_hits", "concept_hits", "hit_summary",
           "generic_entries"]

HIT_COLUMNS = ["set", "place", "expected", "gloss", "as_tokens", "rank", "stability", "status", "hit"]
SUMMARY_COLUMNS = ["set", "place", "expected", "hits", "rate"]
GENERIC_COLUMNS = ["list", "place", "rank", "entry", "generic", "matches_expectation", "top"]


def read_expectations(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """An expectation set as a table (empty cells are empty strings); an empty table when there is none (a
    corpus without blind expectations is scored against nothing).

    Parameters
    ----------
    path : Path
        The expectation file (`data/expectations/blind_expectations.csv` or `blind_concepts.csv`).
    columns : Sequence[str]
        The columns the file must have.

    Returns
    -------
    pd.DataFrame
        The file's rows as strings, or an empty table with `columns` when the file does not exist.

    Raises
    ------
    InputError
        Naming the file when it lacks one of `columns`.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(columns), dtype=str)
    table = pd.read_csv(path, keep_default_na=False, dtype=str)
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        raise InputError(path, f"lacks the column(s) {', '.join(lacking)}")
    return table


def _rank_lookup(stats: pd.DataFrame, key: str) -> dict[tuple[str, str], tuple[int, float]]:
    ranked = stats[stats["ranked"].astype(bool)]
    return {(p, k): (int(r), float(s)) for p, k, r, s in
            zip(ranked["place"], ranked[key], ranked["rank_logodds"], ranked["stability_logodds"])}


def term_hits(expected: pd.DataFrame, term_stats: pd.DataFrame, canonical: Mapping[str, str], top: int) -> pd.DataFrame:
    """One row per expected term (`place, term, gloss`): its token, log-odds rank and stability, and whether it
    is a hit.

    Parameters
    ----------
    expected : pd.DataFrame
        The blind term expectations.
    term_stats : pd.DataFrame
        The term_statistics table.
    canonical : Mapping[str, str]
        Lexicon spelling -> canonical term, to read an expected term as a token.
    top : int
        The log-odds rank at or above which an expected term is a hit.

    Returns
    -------
    pd.DataFrame
        The `HIT_COLUMNS` rows (set "terms"), with a status of "hit", "ranked N", "below floor" or
        "not a token here".
    """
    ranks = _rank_lookup(term_stats, "term")
    used = set(zip(term_stats["place"], term_stats["term"]))
    rows = []
    for r in expected.itertuples():
        token = canonical.get(r.term, r.term)
        rank, stability = ranks.get((r.place, token), (None, None))
        if rank is not None:
            status = "hit" if rank <= top else f"ranked {rank}"
        else:
            status = "below floor" if (r.place, token) in used else "not a token here"
        rows.append({"set": "terms", "place": r.place, "expected": r.term, "gloss": r.gloss, "as_tokens": token,
                     "rank": rank, "stability": stability, "status": status, "hit": status == "hit"})
    return pd.DataFrame(rows, columns=HIT_COLUMNS).astype({"rank": "Int64"})


def concept_hits(expected: pd.DataFrame, concept_stats: pd.DataFrame, canonical: Mapping[str, str],
                 term_concept: Mapping[str, str], top: int) -> pd.DataFrame:
    """One row per expected concept (`place, concept, terms, gloss`; `terms` `;`-separated): the lexicon
    concepts its words belong to, the best log-odds rank among them, and whether it is a hit.

    Parameters
    ----------
    expected : pd.DataFrame
        The blind concept expectations.
    concept_stats : pd.DataFrame
        The concept_statistics table (term_statistics of the concepts, with a `concept` column).
    canonical : Mapping[str, str]
        Lexicon spelling -> canonical term, to read an expected word as a token.
    term_concept : Mapping[str, str]
        Each lexicon term's concept.
    top : int
        The log-odds rank at or above which an expected concept is a hit.

    Returns
    -------
    pd.DataFrame
        The `HIT_COLUMNS` rows (set "concepts").
    """
    ranks = _rank_lookup(concept_stats, "concept")
    rows = []
    for r in expected.itertuples():
        words = [w.strip() for w in str(r.terms).split(";") if w.strip()]
        concepts = sorted({term_concept[canonical.get(w, w)] for w in words if canonical.get(w, w) in term_concept})
        found = sorted((ranks[(r.place, c)][0], c) for c in concepts if (r.place, c) in ranks)
        if not concepts:
            status, rank, stability = "no word of it is a lexicon term", None, None
        elif not found:
            status, rank, stability = "below floor or not used here", None, None
        else:
            rank, best = found[0]
            stability = ranks[(r.place, best)][1]
            status = "hit" if rank <= top else f"ranked {rank}"
        rows.append({"set": "concepts", "place": r.place, "expected": r.concept, "gloss": r.gloss,
                     "as_tokens": ";".join(concepts), "rank": rank, "stability": stability, "status": status,
                     "hit": status == "hit"})
    return pd.DataFrame(rows, columns=HIT_COLUMNS).astype({"rank": "Int64"})


def hit_summary(hits: pd.DataFrame, places: Sequence[str]) -> pd.DataFrame:
    """Hits per set and place, and over all places (`place` = "all").

    Parameters
    ----------
    hits : pd.DataFrame
        The expectation hits of both sets (`term_hits`, `concept_hits`).
    places : Sequence[str]
        The places in output order.

    Returns
    -------
    pd.DataFrame
        The `SUMMARY_COLUMNS` rows: expected entries, hits and hit rate.
    """
    rows = []
    for name, part in hits.groupby("set", sort=False):
        for place in [*places, "all"]:
            sub = part if place == "all" else part[part["place"] == place]
            if len(sub):
                rows.append({"set": name, "place": place, "expected": len(sub), "hits": int(sub["hit"].sum()),
                             "rate": float(sub["hit"].mean())})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def generic_entries(stats: pd.DataFrame, key: str, top: int, background_documents: Mapping[str, int],
                    documents: int, generic_share: float, expected_tokens: Mapping[str, set[str]],
                    concept_terms_used: Mapping[tuple[str, str], Counter] | None = None) -> pd.DataFrame:
    """Every entry of each place's top-`top` log-odds list (at most `top`, a tie across the cut left out, as the
    lists are shown): whether it is generic and whether it matches an expectation.

    Parameters
    ----------
    stats : pd.DataFrame
        The term_statistics or concept_statistics table.
    key : str
        "term" or "concept": the column naming the entries.
    top : int
        The list length.
    background_documents : Mapping[str, int]
        Each term's number of background documents.
    documents : int
        The number of background documents.
    generic_share : float
        The share of background documents from which a term is generic.
    expected_tokens : Mapping[str, set[str]]
        Per place, the tokens (terms, or concept ids) of its blind expectations.
    concept_terms_used : Mapping[tuple[str, str], Counter] or None
        For concepts, the terms behind each place's concept tokens; None for terms.

    Returns
    -------
    pd.DataFrame
        The `GENERIC_COLUMNS` rows, places in the statistics' order, then rank and entry.
    """
    floor = generic_share * documents

    def generic(place: str, entry: str) -> bool:
        if concept_terms_used is None:
            return background_documents.get(entry, 0) >= floor
        used = concept_terms_used.get((place, entry), Counter())
        common = sum(n for t, n in used.items() if background_documents.get(t, 0) >= floor)
        return sum(used.values()) > 0 and 2 * common >= sum(used.values())

    ranked = stats[stats["ranked"].astype(bool)]
    rows = []
    for place, part in ranked.groupby("place", sort=False):
        listed = part[split_at_cut(part["rank_logodds"].to_numpy(), top)[0]]  # the list as shown: at most `top`
        rows += [{"list": f"{key}s", "place": place, "rank": int(r), "entry": e, "generic": generic(place, e),
                  "matches_expectation": e in expected_tokens.get(place, set()), "top": top}
                 for e, r in zip(listed[key], listed["rank_logodds"])]
    frame = pd.DataFrame(rows, columns=GENERIC_COLUMNS)
    order = {p: k for k, p in enumerate(dict.fromkeys(stats["place"]))}  # the statistics' (manifest) place order
    return (frame.assign(_p=frame["place"].map(order)).sort_values(["_p", "rank", "entry"], kind="stable")
            .drop(columns="_p").reset_index(drop=True))
