"""The search for lexicon strings in a text (`TermMatcher`: where terms overlap, the longest wins) and the spans of segmented words."""

from __future__ import annotations

from itertools import accumulate
from typing import Iterable, Sequence

import ahocorasick

from pipeline.text.lexicon import fold_width

__all__ = ["TermMatcher", "reference_find", "word_spans"]


class TermMatcher:
    """Find lexicon strings in a text, as the segmentation will keep them.

    Where lexicon strings overlap, the longer one wins: candidates are taken
    longest first (and, among equally long ones, leftmost first), each kept
    unless it overlaps one already kept. Plain leftmost-longest scanning
    would let a prefix term swallow the head of a longer term that starts
    inside it: 城乡社区发展治理 would become 城乡社区 | 发展治理 rather than
    城乡 | 社区发展治理, and 智慧社区建设 would lose 智慧社区 to 智慧 | 社区建设
    under a rule that maximises the characters covered.

    Every occurrence of every string is found in one pass of a compiled
    Aho-Corasick automaton (pyahocorasick); only the choice among
    overlapping occurrences runs in Python. `reference_find` is the same rule
    written plainly, which the tests hold this matcher to.
    """

    def __init__(self, strings: Iterable[str]):
        self.strings = frozenset(fold_width(s) for s in strings if s)
        if not self.strings:
            raise ValueError("a TermMatcher needs at least one string")
        automaton = ahocorasick.Automaton()
        for string in sorted(self.strings):
            automaton.add_word(string, string)
        automaton.make_automaton()
        self._automaton = automaton
        # Per other matcher's strings: are they all among this matcher's?
        self._covers: dict[frozenset, bool] = {}

    def _occurrences(self, folded: str) -> list[tuple[int, int, str]]:
        return [(last - len(string) + 1, last + 1, string) for last, string in self._automaton.iter(folded)]

    def candidates(self, text: str) -> list[tuple[int, int]]:
        """Every (start, end) where a lexicon string occurs, overlaps included, in text order."""
        return sorted((start, end) for start, end, _ in self._occurrences(fold_width(text)))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, folded string) matches, left to right."""
        return _choose(self._occurrences(fold_width(text)))

    def find_also(self, text: str, other: "TermMatcher") -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        """(self.find(text), other.find(text)), from one pass over the text when
        every string of `other` is also one of this matcher's."""
        if other is self:
            found = self.find(text)
            return found, found
        covers = self._covers.get(other.strings)
        if covers is None:
            covers = self._covers[other.strings] = other.strings <= self.strings
        if not covers:
            return self.find(text), other.find(text)
        occurrences = self._occurrences(fold_width(text))
        theirs = [o for o in occurrences if o[2] in other.strings]
        mine = _choose(occurrences)
        # Where every occurrence is one of theirs too, the choice is the same.
        return mine, (mine if len(theirs) == len(occurrences) else _choose(theirs))


def _longest_then_leftmost(occurrence: tuple[int, int, str]) -> tuple[int, int]:
    return occurrence[0] - occurrence[1], occurrence[0]


def _choose(occurrences: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The occurrences (in the order of their ends) kept by the longest-first,
    then leftmost-first rule, left to right."""
    # The automaton reports occurrences by their end. In that order, two
    # occurrences overlap somewhere only if two neighbours do; where none
    # overlap, every one is kept (and ends in the order of starts).
    if all(a[1] <= b[0] for a, b in zip(occurrences, occurrences[1:])):
        return occurrences
    occurrences.sort(key=_longest_then_leftmost)
    taken = bytearray(max(end for _, end, _ in occurrences))
    kept = []
    for start, end, string in occurrences:
        if taken.find(1, start, end) < 0:
            taken[start:end] = b"\x01" * (end - start)
            kept.append((start, end, string))
    kept.sort()
    return kept


def reference_find(strings: Iterable[str], text: str) -> list[tuple[int, int, str]]:
    """`TermMatcher(strings).find(text)` computed plainly: every occurrence by
    brute force, then longest first, leftmost among equals, skipping overlaps."""
    wanted = {fold_width(s) for s in strings if s}
    folded = fold_width(text)
    lengths = sorted({len(s) for s in wanted}, reverse=True)
    occurrences = [(start, start + n) for n in lengths for start in range(len(folded) - n + 1)
                   if folded[start:start + n] in wanted]
    taken = [False] * len(folded)
    kept = []
    for start, end in occurrences:  # longest first, then leftmost: the order built above
        if not any(taken[start:end]):
            taken[start:end] = [True] * (end - start)
            kept.append((start, end, folded[start:end]))
    return sorted(kept)


def word_spans(words: Sequence[str], text: str) -> set[tuple[int, int]]:
    """Character spans of a segmentation whose words concatenate to `text`.

    Parameters
    ----------
    words : Sequence[str]
        The unfiltered segmentation of `text`.
    text : str
        A unit (or article) of the cleaned corpus.

    Returns
    -------
    set[tuple[int, int]]
        The [start, end) character range of every word.

    Raises
    ------
    ValueError
        When the words do not concatenate to `text`.
    """
    if "".join(words) != text:
        raise ValueError("the words do not concatenate to the text; pass the unfiltered segmentation")
    bounds = list(accumulate(map(len, words), initial=0))
    return set(zip(bounds, bounds[1:]))
