"""A character-frequency model of written Chinese, built from jieba's dictionary.

The study uses it twice: ingestion asks which codec's decoding reads most like
Chinese (`mean_logp`), and cleaning asks which characters are improbable and
whether a re-aligned byte stream reads better than what the site printed
(`logp`, `pair_share`).

Source: `jieba/dict.txt`, shipped inside the jieba package (one word per line:
word, frequency, part of speech). A word's frequency is spread evenly over its
characters, so the model's total mass is the dictionary's total word
frequency. The dictionary is in simplified script; because three of the
articles are traditional, a character scores as the better of itself and its
OpenCC t2s form. The same dictionary also gives the set of character pairs
that occur inside words, a cheap test of whether a run of characters forms
words at all.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path
from typing import Mapping

import numpy as np
import opencc

__all__ = ["CharModel", "is_foreign", "is_han", "jieba_dictionary_path", "pair_code", "read_jieba_dictionary"]

# Han ideographs: the BMP blocks (extension A, unified, compatibility) and the
# supplementary-plane extensions.
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))
# Scripts and areas that GBK's non-Han rows (kana, Greek, Cyrillic, bopomofo,
# box drawing) and its user-defined areas produce when bytes are read out of
# step; in a Chinese article they are a sign of mis-decoding, not text.
_FOREIGN_RANGES = (
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x1100, 0x11FF),  # Hangul jamo
    (0x2500, 0x257F),  # box drawing
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x31A0, 0x31FF),  # bopomofo extended, katakana extension
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xE000, 0xF8FF),  # private use (GBK user-defined areas map here)
    (0xFF21, 0xFF3A),  # full-width Latin letters: the site folded full-width forms to ASCII
    (0xFF41, 0xFF5A),
    (0xFFFD, 0xFFFD),  # replacement character
)
_BMP_HAN = "".join(chr(c) for lo, hi in _HAN_RANGES if hi <= 0xFFFF for c in range(lo, hi + 1))
_PAIR_BASE = 0x110000
_DICT_LINE = re.compile(r"^(\S+) (\d+)", re.MULTILINE)


def _characters(ranges: tuple[tuple[int, int], ...]) -> frozenset[str]:
    return frozenset(chr(c) for lo, hi in ranges for c in range(lo, hi + 1))


# Set membership, because cleaning asks these questions of every character of
# the corpus, several times over (about 100,000 Han code points, a few MB).
_HAN = _characters(_HAN_RANGES)
_FOREIGN = _characters(_FOREIGN_RANGES)


def is_han(ch: str) -> bool:
    """True for a Han ideograph.

    Parameters
    ----------
    ch : str
        One character of an article.

    Returns
    -------
    bool
        Whether it lies in the Han ranges (the CJK unified ideographs, their extensions and compatibility block).
    """
    return ch in _HAN


def is_foreign(ch: str) -> bool:
    """True for a character that, inside Chinese prose, signals mis-decoded bytes.

    Parameters
    ----------
    ch : str
        One character of an article.

    Returns
    -------
    bool
        Whether it lies in the foreign ranges (kana, Hangul, private use, ...).
    """
    return ch in _FOREIGN


def read_jieba_dictionary(text: str) -> tuple[list[str], np.ndarray]:
    """Words and their frequencies from a jieba-format dictionary text."""
    tokens = text.split()
    # The shipped file has exactly three fields a line; a custom one may omit
    # the part of speech, so fall back to a line-by-line parse.
    if len(tokens) % 3 == 0 and len(tokens) == 3 * text.count("\n", 0, len(text.rstrip("\n"))) + 3:
        try:
            return tokens[0::3], np.asarray(tokens[1::3], dtype=np.int64)
        except ValueError:
            pass
    found = _DICT_LINE.findall(text)
    return [w for w, _ in found], np.asarray([int(f) for _, f in found], dtype=np.int64)


class CharModel:
    """Log10 character probabilities, with a floor for characters never seen."""

    def __init__(self, counts: Mapping[str, float], simplified: Mapping[str, str] | None = None,
                 pairs: frozenset[int] = frozenset(), floor: float | None = None):
        """`counts`: character → frequency; `simplified`: traditional → simplified
        character; `pairs`: codes (see `pair_code`) of character pairs that occur
        inside words."""
        total = float(sum(counts.values()))
        if total <= 0:
            raise ValueError("a character model needs at least one character with a positive count")
        # Half an occurrence: below every character the source actually attests.
        self.floor = math.log10(0.5 / total) if floor is None else floor
        self._simplified = dict(simplified or {})
        logp = {ch: max(math.log10(n / total), self.floor) for ch, n in counts.items() if n > 0}
        # A traditional character scores as the better of itself and its simplified form.
        for trad, simp in self._simplified.items():
            if simp in logp and logp[simp] > logp.get(trad, self.floor):
                logp[trad] = logp[simp]
        self._logp = logp
        self._pairs = pairs

    @classmethod
    def from_words(cls, words: list[str], freqs, converter=None) -> "CharModel":
        """A model from words and their frequencies (as in a jieba dictionary).

        `converter` is an OpenCC t2s converter (made when None).
        """
        if converter is None:
            converter = opencc.OpenCC("t2s")
        freqs = np.asarray(freqs, dtype=np.float64)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        # All words as one array of code points; summing with bincount keeps the
        # build well under a second for the 350,000-word dictionary.
        codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype="<u4").astype(np.int64)
        weights = np.repeat(freqs / np.maximum(lengths, 1), lengths)
        totals = np.bincount(codes, weights=weights)
        seen = np.nonzero(totals)[0]
        counts = {chr(int(c)): float(totals[c]) for c in seen}
        # Pairs inside words: consecutive code points that belong to the same word.
        word_of = np.repeat(np.arange(len(words)), lengths)
        same_word = word_of[:-1] == word_of[1:]
        pair_codes = codes[:-1][same_word] * _PAIR_BASE + codes[1:][same_word]
        return cls(counts, _simplified_map(converter), frozenset(pair_codes.tolist()))

    @classmethod
    def from_jieba_dictionary(cls, converter=None, dictionary: str | None = None) -> "CharModel":
        """The model from the dictionary jieba ships (or `dictionary`, a text in its format).

        `converter` is an OpenCC t2s converter; a new one is made when None.
        """
        if dictionary is None:
            dictionary = _shipped_jieba_dictionary()
        words, freqs = read_jieba_dictionary(dictionary)
        return cls.from_words(words, freqs, converter)

    # ------------------------------------------------------------ scoring --

    def logp(self, ch: str) -> float:
        """Log10 probability of one character (the floor when never seen)."""
        return self._logp.get(ch, self.floor)

    def simplify(self, ch: str) -> str:
        return self._simplified.get(ch, ch)

    def mean_logp(self, text: str) -> float:
        """Mean log10 probability over the text's Han characters.

        Characters of foreign scripts (kana, Hangul, private use, ...) count at
        the floor, since in a Chinese article they come from mis-decoding.
        ASCII, punctuation, digits and spaces are ignored. A text with nothing
        to score gets the floor, so any Chinese reading beats it.
        """
        total = 0.0
        n = 0
        for ch in text:
            if ch.isascii():
                continue
            if is_han(ch):
                total += self.logp(ch)
                n += 1
            elif is_foreign(ch):
                total += self.floor
                n += 1
        return total / n if n else self.floor

    def pair_known(self, a: str, b: str) -> bool:
        """True when the two characters (in simplified form) occur adjacently inside some word."""
        return pair_code(self.simplify(a), self.simplify(b)) in self._pairs

    def pair_share(self, text: str) -> float | None:
        """Share of adjacent Han-character pairs that occur inside dictionary words.

        None when the text has no two adjacent Han characters.
        """
        known = n = 0
        for a, b in zip(text, text[1:]):
            if is_han(a) and is_han(b):
                n += 1
                known += self.pair_known(a, b)
        return known / n if n else None


def pair_code(a: str, b: str) -> int:
    """One integer for an ordered pair of characters."""
    return ord(a) * _PAIR_BASE + ord(b)


def jieba_dictionary_path() -> Path:
    """The dictionary file jieba ships, which the character model is built from.

    Returns
    -------
    Path
        jieba/dict.txt inside the installed jieba package.

    Raises
    ------
    ModuleNotFoundError
        When jieba is not installed.
    """
    # Located without importing jieba, whose import sets up its tokenizer.
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is not installed; it ships the dictionary the character model is built from")
    return Path(spec.origin).parent / "dict.txt"


def _shipped_jieba_dictionary() -> str:
    return jieba_dictionary_path().read_text(encoding="utf-8")


def _simplified_map(converter) -> dict[str, str]:
    """Traditional → simplified for every BMP Han character, in one converter call.

    Characters are converted one per line so that OpenCC's phrase tables cannot
    merge neighbours; only one-to-one results are kept.
    """
    converted = converter.convert("\n".join(_BMP_HAN)).split("\n")
    if len(converted) != len(_BMP_HAN):
        raise ValueError("the t2s converter changed the number of lines; expected one character per line")
    return {t: s for t, s in zip(_BMP_HAN, converted) if s != t and len(s) == 1}
