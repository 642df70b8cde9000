"""Lexicon coverage (does every occurrence of a term come out of segmentation as one token?) and the category profile of each place."""

from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import pandas as pd

from pipeline.text.lexicon import canonical_map, category_map, fold_width
from pipeline.text.matching import TermMatcher, word_spans

__all__ = ["add_survival_counts", "coverage_table", "lexicon_coverage", "lexicon_profile", "occurrence_survival",
           "survival_counts"]


def occurrence_survival(text: str, words: Sequence[str], matcher: TermMatcher, canonical: Mapping[str, str],
                        matches: Sequence[tuple[int, int, str]] | None = None) -> list[tuple[str, int, int, bool]]:
    """(canonical term, start, end, intact) for every lexicon occurrence in `text`.

    `intact` is true when the segmentation `words` (unfiltered, concatenating
    to `text`) has a word spanning exactly that occurrence. `matches` are
    `matcher.find(text)` when the caller already has them.

    Parameters
    ----------
    text : str
        A unit (or article) of the cleaned corpus.
    words : Sequence[str]
        Its unfiltered segmentation, whose words concatenate to `text`.
    matcher : TermMatcher
        The matcher of the lexicon strings (terms and variants).
    canonical : Mapping[str, str]
        Every lexicon string and its canonical term (`canonical_map`).
    matches : Sequence[tuple[int, int, str]] or None
        The (start, end, string) matches of `matcher` in `text`; None finds them.

    Returns
    -------
    list[tuple[str, int, int, bool]]
        One (canonical term, start, end, intact) per occurrence, left to right.
    """
    spans = word_spans(words, text)
    return [(canonical[string], start, end, (start, end) in spans)
            for start, end, string in (matcher.find(text) if matches is None else matches)]


def lexicon_coverage(texts_by_place: Mapping[str, str], words_by_place: Mapping[str, Sequence[str]],
                     lexicon: pd.DataFrame) -> pd.DataFrame:
    """One row per lexicon term: does segmentation keep every occurrence whole?

    `words_by_place` holds, per place, the unfiltered words of the
    segmentation of `texts_by_place[place]` (they concatenate to the text).
    Occurrences are found by `TermMatcher`'s string search for the term and
    its variants. Columns: term, category, occurrences, tokens (occurrences
    that came out as exactly one word), split (the rest), places (how many
    places use the term), place_names ('|'-joined, sorted) and survives: true
    when every occurrence came out as one word, false when any was split,
    and missing (NA) for a term that does not occur. Sorted by category, then
    occurrences (most first), then term.
    """
    canonical = canonical_map(lexicon)
    matcher = TermMatcher(canonical)
    return coverage_table({place: survival_counts(texts_by_place[place], words_by_place[place], matcher, canonical)
                           for place in texts_by_place}, lexicon)


def survival_counts(text: str, words: Sequence[str], matcher: TermMatcher, canonical: Mapping[str, str],
                    matches: Sequence[tuple[int, int, str]] | None = None) -> dict[str, tuple[int, int]]:
    """Canonical term -> (occurrences in `text`, occurrences kept whole by `words`).

    Counts of texts that no term spans (units and articles, joined by line
    breaks) add up to the counts of their concatenation, so a large corpus is
    covered unit by unit without keeping its segmentation. `matches` are
    `matcher.find(text)` when the caller already has them.

    Parameters
    ----------
    text : str
        A unit (or article) of the cleaned corpus.
    words : Sequence[str]
        Its unfiltered segmentation, whose words concatenate to `text`.
    matcher : TermMatcher
        The matcher of the lexicon strings (terms and variants).
    canonical : Mapping[str, str]
        Every lexicon string and its canonical term (`canonical_map`).
    matches : Sequence[tuple[int, int, str]] or None
        The (start, end, string) matches of `matcher` in `text`; None finds them.

    Returns
    -------
    dict[str, tuple[int, int]]
        For each canonical term found, its occurrences and how many the segmentation kept as one word.
    """
    found: dict[str, tuple[int, int]] = {}
    for term, _start, _end, whole in occurrence_survival(text, words, matcher, canonical, matches):
        n, kept = found.get(term, (0, 0))
        found[term] = (n + 1, kept + int(whole))
    return found


def add_survival_counts(total: dict[str, tuple[int, int]], more: Mapping[str, tuple[int, int]]) -> None:
    """Add `more` (from `survival_counts`) into `total`, in place.

    Parameters
    ----------
    total : dict[str, tuple[int, int]]
        The running counts (a place's, an article's), updated in place.
    more : Mapping[str, tuple[int, int]]
        The counts of one more text: canonical term -> (occurrences, kept whole).
    """
    for term, (n, kept) in more.items():
        n0, kept0 = total.get(term, (0, 0))
        total[term] = (n0 + n, kept0 + kept)


def coverage_table(survival_by_place: Mapping[str, Mapping[str, tuple[int, int]]],
                   lexicon: pd.DataFrame) -> pd.DataFrame:
    """The `lexicon_coverage` table from per-place `survival_counts`.

    Parameters
    ----------
    survival_by_place : Mapping[str, Mapping[str, tuple[int, int]]]
        For each place, canonical term -> (occurrences, kept whole).
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).

    Returns
    -------
    pd.DataFrame
        One row per lexicon term (sorted by category, then by occurrences, most first, then term): term, category,
        occurrences, tokens (kept whole), split, places, place_names, survives (NA for a term that never occurs).
    """
    occurrences: Counter = Counter()
    intact: Counter = Counter()
    where: dict[str, set[str]] = {}
    for place in sorted(survival_by_place):
        for term, (n, kept) in survival_by_place[place].items():
            if n:
                occurrences[term] += n
                intact[term] += kept
                where.setdefault(term, set()).add(place)
    rows = []
    for term, category in zip(lexicon["term"], lexicon["category"]):
        n = occurrences[term]
        places = sorted(where.get(term, ()))
        rows.append({"term": term, "category": category, "occurrences": n, "tokens": intact[term],
                     "split": n - intact[term], "places": len(places), "place_names": "|".join(places),
                     "survives": (intact[term] == n) if n else pd.NA})
    frame = pd.DataFrame(rows)
    frame["survives"] = frame["survives"].astype("boolean")
    frame["_order"] = -frame["occurrences"]
    return (frame.sort_values(["category", "_order", "term"], kind="mergesort")
            .drop(columns="_order").reset_index(drop=True))


def lexicon_profile(tokens_by_place: Mapping[str, Sequence[str] | Counter], lexicon: pd.DataFrame,
                    decimals: int = 2) -> pd.DataFrame:
    """Attention to each governance dimension, per place.

    `tokens_by_place` are a place's countable tokens (a list, or a Counter of
    them): the segmentation after
    dropping punctuation, whitespace and numbers, but before stopwords and
    toponym/person/role exclusions are removed (`pipeline.text.segment.countable_tokens`).
    That token count is the denominator: per_10k = 10,000 x (tokens of the
    category's terms) / (all countable tokens of the place). Variants count
    for their canonical term. One row per place x category, zeros included,
    in place order, then by category; columns place, category, count, terms
    (distinct terms used), total_tokens, per_10k (rounded to `decimals`).
    Places keep the order of `tokens_by_place` (the runner passes them in
    manifest order), categories are sorted.

    Parameters
    ----------
    tokens_by_place : Mapping[str, Sequence[str] or Counter]
        Each place's countable tokens, in manifest order.
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).
    decimals : int
        Decimals of `per_10k`.

    Returns
    -------
    pd.DataFrame
        One row per place and category: place, category, count, terms, total_tokens, per_10k.
    """
    canonical = canonical_map(lexicon)
    categories = category_map(lexicon)
    rows = []
    for place in tokens_by_place:
        tokens = tokens_by_place[place]
        tally = tokens if isinstance(tokens, Counter) else Counter(tokens)
        total = sum(tally.values())
        counts: Counter = Counter()
        distinct: dict[str, set[str]] = {}
        for token, n in tally.items():
            term = canonical.get(fold_width(token))
            if term is not None:
                counts[categories[term]] += n
                distinct.setdefault(categories[term], set()).add(term)
        for category in sorted(set(categories.values())):
            count = counts[category]
            rows.append({"place": place, "category": category, "count": count,
                         "terms": len(distinct.get(category, ())), "total_tokens": total,
                         "per_10k": round(10000 * count / total, decimals) if total else 0.0})
    return pd.DataFrame(rows, columns=["place", "category", "count", "terms", "total_tokens", "per_10k"])
