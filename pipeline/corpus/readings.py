"""Readings of a suspicious span: its GBK byte variants, their re-alignments, and the score of each against the character model."""

from __future__ import annotations

import functools
import itertools
import unicodedata
from dataclasses import dataclass

from pipeline.common.params import GarbleParams
from pipeline.corpus.charmodel import CharModel, is_foreign, is_han

__all__ = ["CODEC", "Reading", "Scorer", "byte_variants", "encodable", "fold_fullwidth",
           "is_latin_letter", "is_symbol", "realignments"]

CODEC = "gbk"


# GBK's punctuation row (lead byte 0xA1). A lost lead byte is put back only
# when it completes a punctuation mark, and only when that mark is a likelier
# owner of the orphan byte than all Hanzi that end in it together (the mark's
# rate in the article against the model's mass of those Hanzi). A guessed
# Hanzi would put a word in the text that the article never had; a guessed
# mark changes no token.
_PUNCT_LEAD = 0xA1


_LATIN_EXTRA = range(0x00C0, 0x0250)  # accented Latin letters, as in pinyin readings


@dataclass(frozen=True)
class Reading:
    """One re-alignment of text[start:end]."""
    start: int
    end: int
    text: str
    gain: float
    how: str
    covered: int = 0  # non-ASCII printed characters the reading replaces


def is_symbol(ch: str) -> bool:
    """A non-ASCII symbol or number sign (∝ ⒒ ⅲ ■), not Chinese punctuation."""
    return not ch.isascii() and not is_han(ch) and unicodedata.category(ch)[0] in "SN"


def is_latin_letter(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or ord(ch) in _LATIN_EXTRA


def encodable(ch: str) -> bool:
    # The ideographic space is GBK a1a1, so it turns up inside misread runs.
    if ch.isspace() and ch != "\u3000":
        return False
    try:
        ch.encode(CODEC)
    except UnicodeEncodeError:
        return False
    return True


# Distinct character pairs whose word test is remembered (a few MB).
_PAIR_CACHE_SIZE = 1 << 18


class Scorer:
    """Character and pair scores under the model; everything here depends on the
    model and settings only, so one scorer serves every article of a run."""

    def __init__(self, model: CharModel, settings: GarbleParams):
        self.model = model
        self.tau = settings.char_logp_threshold
        self.bonus = settings.pair_bonus
        self.isolated_tau = settings.isolated_logp_threshold
        self.bad = model.floor - self.tau
        self._cache: dict[str, float] = {}
        self.known_pair = functools.lru_cache(maxsize=_PAIR_CACHE_SIZE)(self._known_pair)
        # Punctuation marks of GBK's row a1, with the model's mass of all Hanzi
        # that share the mark's trail byte.
        self._marks: dict[int, tuple[str, float]] = {}
        for trail in range(0xA1, 0xFF):
            mark = _decode(bytes([_PUNCT_LEAD, trail]))
            if mark is not None and unicodedata.category(mark).startswith("P"):
                self._marks[trail] = (mark, self._hanzi_mass(trail))

    def restorable(self, text: str) -> frozenset[int]:
        """Trail bytes whose lost lead byte is put back, given this article's punctuation."""
        if not text:
            return frozenset()
        return frozenset(trail for trail, (mark, mass) in self._marks.items()
                         if text.count(mark) / len(text) > mass)

    def _hanzi_mass(self, trail: int) -> float:
        mass = 0.0
        for lead in range(0x81, 0xFF):
            ch = _decode(bytes([lead, trail]))
            if ch is not None and is_han(ch):
                mass += 10 ** self.model.logp(ch)
        return mass

    def _known_pair(self, a: str, b: str) -> bool:
        return is_han(a) and is_han(b) and self.model.pair_known(a, b)

    def char(self, ch: str) -> float:
        value = self._cache.get(ch)
        if value is None:
            if is_han(ch):
                value = self.model.logp(ch) - self.tau
            elif is_foreign(ch):
                value = self.bad
            else:  # Latin letters, punctuation, digits, symbols: no evidence either way
                value = 0.0
            self._cache[ch] = value
        return value

    def suspicious(self, text: str, i: int) -> bool:
        ch = text[i]
        if is_han(ch):
            logp = self.model.logp(ch)
            if logp < self.tau:
                return True
            # Out of step, GB2312 text also yields ordinary characters, but
            # they do not form words with their neighbours.
            return logp < self.isolated_tau and not (
                (i > 0 and self.model.pair_known(text[i - 1], ch))
                or (i + 1 < len(text) and self.model.pair_known(ch, text[i + 1])))
        if is_foreign(ch) or is_symbol(ch):
            return True  # GBK's symbol rows (∝ ⒒ ⅲ) come up when bytes are read out of step
        if is_latin_letter(ch):
            # A letter glued to a Hanzi: a trail byte in 0x40-0x7E read on its own.
            return (i > 0 and is_han(text[i - 1])) or (i + 1 < len(text) and is_han(text[i + 1]))
        return False

    def clean(self, text: str) -> bool:
        """Every character probable; no foreign script, symbol or Latin letter."""
        return all(self.char(ch) >= 0.0 and not is_latin_letter(ch) and not is_symbol(ch) for ch in text)

    def score(self, left: str, body: str, right: str) -> float:
        """Characters of `body`, plus a bonus per word pair in left+body+right.

        A character below `isolated_logp_threshold` earns its positive score
        only inside a word (a known pair with a neighbour): text read out of
        step is full of such characters standing alone.
        """
        joined = left + body + right
        known = [self.known_pair(a, b) for a, b in zip(joined, joined[1:])]
        value = 0.0
        offset = len(left)
        for i, ch in enumerate(body):
            q = self.char(ch)
            if q > 0 and self.model.logp(ch) < self.isolated_tau:
                j = offset + i
                if not ((j > 0 and known[j - 1]) or (j < len(known) and known[j])):
                    q = 0.0
            value += q
        return value + self.bonus * sum(known)


def byte_variants(span: str) -> list[tuple[bytes, str]]:
    """GBK bytes of the span, each printable ASCII character as itself or full-width.

    The site folded full-width forms (！ ，Ｒ １) to ASCII, so the bytes that
    were read may have been either.
    """
    # Digits are left alone: an ASCII digit ends a misaligned run (no GBK
    # trail byte is below 0x40), and reading them as full-width only invents text.
    marks = [i for i, ch in enumerate(span) if 0x21 <= ord(ch) <= 0x7E and not ch.isdigit()]
    if len(marks) > 3:  # keep the search small: all as printed, or all full-width
        choices = [(), tuple(marks)]
    else:
        choices = [c for n in range(len(marks) + 1) for c in itertools.combinations(marks, n)]
    variants = []
    for widen in choices:
        chars = [chr(ord(ch) + 0xFEE0) if i in widen else ch for i, ch in enumerate(span)]
        try:
            variants.append(("".join(chars).encode(CODEC), "ASCII read as full-width" if widen else ""))
        except UnicodeEncodeError:
            continue
    return variants


def _decode(data: bytes) -> str | None:
    try:
        return data.decode(CODEC)
    except UnicodeDecodeError:
        return None


def realignments(data: bytes, restorable: frozenset[int]) -> list[tuple[str, str]]:
    """Readings of the span's bytes one byte back in step.

    `restorable`: trail bytes for which the lost lead byte is put back.
    """
    if data[0] < 0x80:  # an ASCII byte is a whole character, never half of one
        return []
    heads = [(data[1:], "dropped orphan first byte")]
    if data[0] in restorable:
        restored = _decode(bytes([_PUNCT_LEAD, data[0]]))
        heads.append((bytes([_PUNCT_LEAD]) + data, f"restored lead byte a1 ({restored})"))
    out = []
    for body, how in heads:
        # The decoder drops a lead byte whose partner is not a valid trail byte
        # (ASCII below 0x40, or a pair GBK does not define) and reads on in
        # step from there, so the span may end with half a character.
        tails = [(body, how)]
        if body:
            tails.append((body[:-1], how + ", dropped orphan last byte"))
        for candidate, label in tails:
            text = _decode(candidate)
            if text is not None:
                out.append((text, label))
    return out


def fold_fullwidth(text: str) -> str:
    """Full-width ASCII forms to ASCII, as the site did to the rest of the article."""
    return "".join(chr(ord(ch) - 0xFEE0) if 0xFF01 <= ord(ch) <= 0xFF5E else ch for ch in text)
