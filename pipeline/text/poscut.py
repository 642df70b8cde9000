"""jieba's cuts computed as jieba computes them but without its per-call overheads: the POS cut with the HMM off (the segmentation), the plain cut with the HMM on (the ablation's baseline).

jieba (0.42) cuts a block of Hanzi, letters and digits by the route of
highest probability through the dictionary: `get_DAG` lists, for every
position, where the dictionary's words starting there end; `calc` walks the
block from the right, scoring each word as log(frequency) - log(total) plus
the best score after it, and keeps for every position the best (score, end)
pair (on equal scores the later end wins, as tuples compare). Both build
dictionaries, generators and tuples per character, and the logarithm is taken
again for every occurrence of a word; together they are most of the cost of
segmentation.

`Route` computes the same route in one right-to-left pass: the dictionary is
probed for the same fragments, each word's weight log(f) - log(total) is the
same double (computed once per word and remembered), scores are added in the
same order, and ties go to the later end as in jieba. `PosCut` walks that
route as jieba's POS tagger does without the HMM; `PlainCut` as jieba's
`Tokenizer.cut` does with it (runs of single characters that are not a word
go to jieba's own HMM, `jieba.finalseg`). The words and tags that come out
are therefore jieba's own; `tests/text/test_segment.py` compares them with
jieba's on the corpus, on edge cases and on random texts.
"""

from __future__ import annotations

from math import log
from typing import Callable, Iterable

import jieba
import jieba.finalseg
import jieba.posseg

__all__ = ["PlainCut", "PosCut", "Route"]

# jieba's POS tagger cuts text into blocks with these expressions (jieba.posseg).
_POS_BLOCK = jieba.posseg.re_han_internal


_POS_SKIP = jieba.posseg.re_skip_internal


_POS_NUMBER = jieba.posseg.re_num


_POS_LATIN = jieba.posseg.re_eng


# ... and jieba's plain cut with these (jieba).
_PLAIN_BLOCK = jieba.re_han_default


_PLAIN_SKIP = jieba.re_skip_default


# jieba joins runs of route words that match ^[a-zA-Z0-9]$ (jieba.posseg.re_eng1)
# into one word tagged eng. Route words never hold a line break, so for them the
# expression means: one ASCII letter or digit.
_ONE_LATIN_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


# A dictionary entry with frequency 0: a prefix of longer words, not a word.
_PREFIX_ONLY = False


class Route:
    """The dictionary route of one jieba tokenizer (see the module docstring).

    Word weights are remembered per tokenizer total; a tokenizer whose
    dictionary changes after the first cut needs a new cut object
    (`StudyTokenizer` makes one whenever a word is added).
    """

    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        self.tokenizer = tokenizer
        self._total = None
        self._logtotal = 0.0
        self._weights: dict[str, float | bool] = {}

    def _check_total(self) -> None:
        total = self.tokenizer.total
        if total != self._total:
            self._total, self._logtotal, self._weights = total, log(total), {}

    def _route(self, block: str) -> list[int]:
        """End (exclusive) of the route's word starting at every position of `block`."""
        n = len(block)
        weights, freq, logtotal = self._weights, self.tokenizer.FREQ, self._logtotal
        scores = [0.0] * (n + 1)
        ends = [0] * n
        for start in range(n - 1, -1, -1):
            best = None
            best_end = start + 1
            end = start + 1
            fragment = block[start]
            # The fragments jieba's get_DAG probes: longer and longer, while
            # the dictionary holds them (as words or as prefixes).
            while True:
                weight = weights.get(fragment)
                if weight is None:
                    count = freq.get(fragment)
                    if count is None:
                        break
                    weight = weights[fragment] = log(count) - logtotal if count else _PREFIX_ONLY
                if weight is not _PREFIX_ONLY:
                    score = weight + scores[end]
                    if best is None or score >= best:
                        best, best_end = score, end
                if end == n:
                    break
                end += 1
                fragment = block[start:end]
            if best is None:
                # No word starts here: the character alone, weighted as
                # log(1) - log(total) as jieba weighs it.
                best = 0.0 - logtotal + scores[start + 1]
            scores[start] = best
            ends[start] = best_end
        return ends


class PosCut(Route):
    """The no-HMM POS cut of one jieba POS tagger, as `pos.cut(text, HMM=False)` makes it."""

    def __init__(self, pos: jieba.posseg.POSTokenizer):
        super().__init__(pos.tokenizer)
        self.pos = pos

    def cut(self, text: str) -> list[tuple[str, str]]:
        """(word, tag) pairs of `text`, as `pos.cut(text, HMM=False)` gives them."""
        return self.cut_around(text, (), "")

    def cut_around(self, text: str, fixed: Iterable[tuple[int, int, str]], fixed_tag: str) -> list[tuple[str, str]]:
        """(word, tag) pairs of `text` where each (start, end, ...) of `fixed`
        (disjoint, left to right) is one word tagged `fixed_tag` and only the
        stretches between them are cut."""
        pos = self.pos
        pos.makesure_userdict_loaded()
        self._check_total()
        tag_of = pos.word_tag_tab.get
        pairs: list[tuple[str, str]] = []
        cursor = 0
        for start, end, *_ in fixed:
            if start > cursor:
                self._cut(text[cursor:start], pairs, tag_of)
            pairs.append((text[start:end], fixed_tag))
            cursor = end
        if cursor < len(text):
            self._cut(text[cursor:], pairs, tag_of)
        return pairs

    def _cut(self, text: str, pairs: list[tuple[str, str]], tag_of: Callable[[str, str], str]) -> None:
        append = pairs.append
        # re.split with one group alternates: text between blocks, then a block.
        for index, block in enumerate(_POS_BLOCK.split(text)):
            if not block:
                continue
            if index & 1:
                ends = self._route(block)
                position, run, n = 0, "", len(block)
                while position < n:
                    end = ends[position]
                    word = block[position:end]
                    if end - position == 1 and word in _ONE_LATIN_OR_DIGIT:
                        run += word
                    else:
                        if run:
                            append((run, "eng"))
                            run = ""
                        append((word, tag_of(word, "x")))
                    position = end
                if run:
                    append((run, "eng"))
                continue
            for piece in _POS_SKIP.split(block):
                if _POS_SKIP.match(piece):
                    append((piece, "x"))
                    continue
                latin = bool(_POS_LATIN.match(piece))
                for char in piece:
                    append((char, "m" if _POS_NUMBER.match(char) else "eng" if latin else "x"))


class PlainCut(Route):
    """jieba's plain cut with the HMM on, as `tokenizer.lcut(text)` makes it."""

    def lcut(self, text: str) -> list[str]:
        self._check_total()
        freq = self.tokenizer.FREQ
        words: list[str] = []
        append = words.append

        def flush(run: str) -> None:
            # A run of single-character route words: one character stays
            # itself, a word of the dictionary is spelled out, anything else
            # goes to jieba's HMM.
            if len(run) == 1:
                append(run)
            elif not freq.get(run):
                words.extend(jieba.finalseg.cut(run))
            else:
                words.extend(run)

        for index, block in enumerate(_PLAIN_BLOCK.split(text)):
            if not block:
                continue
            if index & 1:
                ends = self._route(block)
                position, run, n = 0, "", len(block)
                while position < n:
                    end = ends[position]
                    if end - position == 1:
                        run += block[position]
                    else:
                        if run:
                            flush(run)
                            run = ""
                        append(block[position:end])
                    position = end
                if run:
                    flush(run)
                continue
            for piece in _PLAIN_SKIP.split(block):
                if _PLAIN_SKIP.match(piece):
                    append(piece)
                else:
                    words.extend(piece)
        return words
