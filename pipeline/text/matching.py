"""The search for lexicon strings in a text (`TermMatcher`: where terms overlap, the longest wins) and the spans of segmented words."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from pipeline.text.lexicon import fold_width

# Marks the end of a string in the trie (no character can equal it).
_END = object()


class TermMatcher:
    """Find lexicon strings in a text, as the segmentation will keep them.

    Where lexicon strings overlap, the longer one wins: candidates are taken
    longest first (and, among equally long ones, leftmost first), each kept
    unless it overlaps one already kept. Plain leftmost-longest scanning
    would let a prefix term swallow the head of a longer term that starts
    inside it: 城乡社区发展治理 would become 城乡社区 | 发展治理 rather than
    城乡 | 社区发展治理, and 智慧社区建设 would lose 智慧社区 to 智慧 | 社区建设
    under a rule that maximises the characters covered.
    """

    def __init__(self, strings: Iterable[str]):
        self.strings = frozenset(fold_width(s) for s in strings if s)
        if not self.strings:
            raise ValueError("a TermMatcher needs at least one string")
        self._trie: dict = {}
        for string in self.strings:
            node = self._trie
            for char in string:
                node = node.setdefault(char, {})
            node[_END] = True
        # Scanning for first characters runs in the regex engine; the trie is
        # walked in Python only where a term can start.
        self._first = re.compile("[" + "".join(re.escape(c) for c in sorted(self._trie)) + "]")

    def _ends(self, folded: str, start: int) -> list[int]:
        ends = []
        node = self._trie
        for position in range(start, len(folded)):
            node = node.get(folded[position])
            if node is None:
                break
            if _END in node:
                ends.append(position + 1)
        return ends

    def candidates(self, text: str) -> list[tuple[int, int]]:
        """Every (start, end) where a lexicon string occurs, overlaps included."""
        return self._candidates(fold_width(text))

    def _candidates(self, folded: str) -> list[tuple[int, int]]:
        return [(hit.start(), end) for hit in self._first.finditer(folded)
                for end in self._ends(folded, hit.start())]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, folded string) matches, left to right."""
        folded = fold_width(text)
        taken = bytearray(len(folded))
        kept = []
        for start, end in sorted(self._candidates(folded), key=lambda c: (c[0] - c[1], c[0])):
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * (end - start)
                kept.append((start, end, folded[start:end]))
        return sorted(kept)


def word_spans(words: Sequence[str], text: str) -> set[tuple[int, int]]:
    """Character spans of a segmentation whose words concatenate to `text`."""
    spans: set[tuple[int, int]] = set()
    position = 0
    for word in words:
        spans.add((position, position + len(word)))
        position += len(word)
    if position != len(text) or "".join(words) != text:
        raise ValueError("the words do not concatenate to the text; pass the unfiltered segmentation")
    return spans
