"""Evidence for place emphases from token positions: sentence and unit counts, keyword in context.

Every unit in units.jsonl carries its content `tokens` and, per token, the
character `spans` it was read from. A term's evidence in a place is counted
from these tokens, never by searching the text for the term as a substring
(which would count 基层 inside 基层治理, and miss 一站式服务 where the text
writes “一站式”服务):

* `count`: tokens of the term in the place;
* `units`: units of the place with at least one such token;
* `sentences`: distinct sentences (split as `pipeline.text.units` splits
  them, at 。！？；) holding such a token. A unit without spans counts as one
  sentence;
* `peak_sentence`: the most tokens of the term in any one sentence, so that a
  term repeated in one slogan (六个一线: 6 of 苏州's 7 一线) shows as such.

`kwic` lists each occurrence with `window` characters of the unit's text on
either side, as quanteda's `kwic` does; line breaks in the context become
spaces.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.text.units import token_sentences, Unit

__all__ = ["KWIC_COLUMNS", "dispersion", "kwic"]

KWIC_COLUMNS = ["place", "doc_id", "unit_id", "term", "left", "match", "right"]


def dispersion(units: Sequence[Unit], places: Sequence[str],
               vocab: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentences, units, peak_sentence): places x terms counts of sentences and units holding
    each term, and its most tokens in one sentence.

    Parameters
    ----------
    units : Sequence[Unit]
        The text units, with their tokens and (where known) spans.
    places : Sequence[str]
        The places, in the order of the rows.
    vocab : Sequence[str]
        The terms, in the order of the columns.

    Returns
    -------
    tuple[np.ndarray, np.ndarray, np.ndarray]
        Integer places x terms arrays: sentences holding the term, units holding it, most tokens in one sentence.
    """
    place_index = {p: i for i, p in enumerate(places)}
    term_index = {t: j for j, t in enumerate(vocab)}
    sentences = np.zeros((len(places), len(vocab)), dtype=np.int64)
    unit_counts = np.zeros_like(sentences)
    peak = np.zeros_like(sentences)
    for unit in units:
        i = place_index[unit["place"]]
        in_sentence: dict[tuple[int, int], int] = {}
        for token, sentence in zip(unit["tokens"], token_sentences(unit)):
            j = term_index.get(token)
            if j is not None:
                in_sentence[(j, sentence)] = in_sentence.get((j, sentence), 0) + 1
        for (j, _), n in in_sentence.items():
            sentences[i, j] += 1
            peak[i, j] = max(peak[i, j], n)
        for j in {j for j, _ in in_sentence}:
            unit_counts[i, j] += 1
    return sentences, unit_counts, peak


def _context(text: str, start: int, end: int, window: int) -> tuple[str, str, str]:
    def flat(s: str) -> str:
        return " ".join(s.split("\n"))
    return flat(text[max(0, start - window):start]), flat(text[start:end]), flat(text[end:end + window])


def kwic(units: Iterable[Unit], wanted: Mapping[str, Iterable[str]] | None, window: int,
         term: str | None = None) -> pd.DataFrame:
    """Keyword-in-context lines from token positions.

    Rows in unit order, then position within the unit.

    Parameters
    ----------
    units : Iterable[Unit]
        The text units, with their tokens, spans and text.
    wanted : Mapping[str, Iterable[str]] or None
        A place mapped to the terms to show there; None: every place and the single `term`.
    window : int
        Characters of context on either side (zero or more).
    term : str or None
        The one term to show when `wanted` is None.

    Returns
    -------
    pd.DataFrame
        The `KWIC_COLUMNS` rows, sorted by place, term and unit.

    Raises
    ------
    ValueError
        When `window` is negative, or a unit holding a wanted place has no token spans.
    """
    if window < 0:
        raise ValueError("the kwic window must be zero or more characters")
    sets = None if wanted is None else {p: set(ts) for p, ts in wanted.items()}
    rows = []
    for unit in sorted(units, key=lambda u: (u["place"], u["unit_id"])):
        terms = {term} if sets is None else sets.get(unit["place"])
        if not terms:
            continue
        spans = unit.get("spans")
        if spans is None:
            raise ValueError(f"unit {unit['unit_id']} has no token spans; run the segmentation again")
        for token, (start, end) in zip(unit["tokens"], spans):
            if token in terms:
                left, match, right = _context(unit["text"], start, end, window)
                rows.append({"place": unit["place"], "doc_id": unit["doc_id"], "unit_id": unit["unit_id"],
                             "term": token, "left": left, "match": match, "right": right})
    frame = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    return frame.sort_values(["place", "term", "unit_id"], kind="stable").reset_index(drop=True)
