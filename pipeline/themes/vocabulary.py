"""What the vocabulary pruning removes, measured: the themes stage reports it beside the topics.

The exploratory model keeps a term when it occurs in at least `no_below`
units and in at most `no_above` of them (gensim's `filter_extremes`). A term
found in a large share of the units is in the language of the genre rather
than of any one theme (服务, 居民 and the frame's 社区 in these articles), and
LDA puts such a term at the top of several topics at once, where it names
none of them. The table lists every term pruned as too common, with the share
of units and places it occurs in, and one row summing up the rare terms, so a
reader sees what the rule costs in tokens.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping, Sequence

import pandas as pd

from pipeline.text.units import Unit
from pipeline.themes.params import round_frame

__all__ = ["frame_vocabulary", "pruning_table", "without_terms"]


def pruning_table(texts: Sequence[Sequence[str]], places: Sequence[str], no_below: int, no_above: float) -> pd.DataFrame:
    """One row per term pruned as too common, then one row for all terms pruned as too rare.

    Parameters
    ----------
    texts : Sequence[Sequence[str]]
        Each unit's tokens.
    places : Sequence[str]
        Each unit's place.
    no_below : int
        The fewest units a kept term appears in.
    no_above : float
        The largest share of units a kept term appears in.

    Returns
    -------
    pd.DataFrame
        Term, reason, units, unit share, tokens, token share and places.
    """
    n = len(texts)
    df: Counter = Counter()
    tokens: Counter = Counter()
    where: dict[str, set] = {}
    for text, place in zip(texts, places):
        tokens.update(text)
        for term in set(text):
            df[term] += 1
            where.setdefault(term, set()).add(place)
    total = sum(tokens.values()) or 1
    common = sorted((t for t in df if df[t] > no_above * n), key=lambda t: (-df[t], t))
    rare = [t for t in df if df[t] < no_below and t not in common]
    rows = [{"term": t, "reason": f"in more than no_above={no_above:g} of units", "units": df[t],
             "unit_share": df[t] / n, "tokens": tokens[t], "token_share": tokens[t] / total,
             "places": len(where[t])} for t in common]
    rows.append({"term": f"({len(rare)} terms)", "reason": f"in fewer than no_below={no_below} units",
                 "units": None, "unit_share": None, "tokens": sum(tokens[t] for t in rare),
                 "token_share": sum(tokens[t] for t in rare) / total, "places": None})
    return round_frame(pd.DataFrame(rows))


def frame_vocabulary(term_categories: Mapping[str, str], categories: Iterable[str],
                     extra: Iterable[str] = ()) -> frozenset[str]:
    """Every lexicon term of the given categories, plus `extra` tokens (the notation tokens).

    Parameters
    ----------
    term_categories : Mapping[str, str]
        The lexicon's category of each term.
    categories : Iterable[str]
        The categories whose terms are wanted (`themes.exclude_categories`).
    extra : Iterable[str], optional
        Further tokens to include.

    Returns
    -------
    frozenset[str]
        The terms.
    """
    wanted = set(categories)
    return frozenset({t for t, c in term_categories.items() if c in wanted} | set(extra))


def without_terms(units: Sequence[Unit], terms: frozenset[str], field: str = "tokens") -> list[Unit]:
    """Copies of the units with the given terms dropped from `field` (other fields shared, not copied).

    Parameters
    ----------
    units : Sequence[Unit]
        The text units.
    terms : frozenset[str]
        The terms to drop (such as `frame_vocabulary`'s).
    field : str, optional
        The token field to filter.

    Returns
    -------
    list[Unit]
        The units; the same unit objects when `terms` is empty.
    """
    if not terms:
        return list(units)
    return [{**unit, field: [t for t in unit[field] if t not in terms]} for unit in units]
