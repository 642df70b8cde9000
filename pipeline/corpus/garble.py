"""Garbled spans: text decoded from GBK bytes one byte out of step.

When a GBK byte stream loses a byte, every later two-byte character is read
from the second byte of one character and the first byte of the next, which
yields a run of improbable characters (rare Hanzi, kana, ASCII letters glued
into Hanzi) until an ASCII byte puts the reader back in step. Article 003
prints 現象!肮ぷ魅藛T辦事 where the original said 現象。“工作人員辦事: encoded
back to GBK (the site later folded the full-width ！ to `!`) the span is
a3a1 b0b9 a4d7 f7c8 cb86 54, and with the lost lead byte a1 put back it reads
。“工作人員.

The rule, which knows nothing of where the spans are:
1. find runs of suspicious characters: Hanzi improbable under the character
   model, or fairly rare ones that form no dictionary word with either
   neighbour; foreign scripts and symbols (GBK's kana, Cyrillic and symbol
   rows); Latin letters glued to Hanzi (trail bytes 0x40-0x7E read alone);
2. around each run, try every extent within reach: re-encode it to GBK (each
   printable ASCII character either as itself or as the full-width form the
   site folded to ASCII), drop the orphan first byte or put back a lost lead
   byte that completes a punctuation mark, keep or drop an orphan last byte
   (the decoder drops a lead byte whose partner is invalid and reads on in
   step), and decode strictly;
3. score each reading against the printed text: per character, log10
   probability above a threshold (foreign characters at the model's floor;
   fairly rare characters earn credit only inside a word), plus a bonus for
   every adjacent pair, with one character of context on each side, that
   occurs inside a dictionary word;
4. the best reading confirms the span as garbled when it gains enough. It
   replaces the span when it is clean (every character probable, no foreign
   ones), probable on average and forms words; otherwise the span is removed,
   because bytes were lost inside it (the decoder dropped invalid pairs) and
   the re-aligned text, though valid, is not what was written.
Stray pinyin fragments glued to a confirmed span (`?shù)` in 001, left when a
reading's character was lost) are removed with it.

What a single character can hide is out of reach: a lone rare character is
never removed on its own (it is as likely a place name such as 歙), and one or
two misread characters that happen to be ordinary ones are not detected.
Likewise a span printed as a few Hanzi and nothing else (at most
`name_max_chars`) is confirmed only with a gain of `name_min_gain`: real rare
place and person names (圐圙乡, 嵖岈山, 书记孔永) re-align into likelier text
about as well as short misreadings do, while real misreadings run on until an
ASCII byte and nearly always print foreign characters or run longer.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import unicodedata
from dataclasses import dataclass
from typing import Callable

from pipeline.common.params import GarbleParams
from pipeline.corpus.charmodel import CharModel, is_foreign, is_han
from pipeline.corpus.edits import Edit

__all__ = ["CODEC", "EDGE_MARKS", "GarbleDetector", "Reading", "SENTENCE_MARKS", "Scorer", "garble_edits",
           "misreading_shaped", "name_shaped", "shared_ends"]


# --- readings of a suspicious span: its GBK byte variants, their re-alignments, and the score of each
# against the character model


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


# Kinds of character for the search's seeds (`Scorer.suspicious_positions`):
# never suspicious; always; a fairly rare Hanzi, suspicious unless it forms a
# dictionary word with a neighbour; a Latin letter, suspicious next to a Hanzi.
_ORDINARY, _IMPROBABLE, _RARE, _LETTER = range(4)


# Readings a detector remembers between articles before it starts afresh
# (each a window of at most max_span + max_grow characters: some tens of MB).
_MEMO_SIZE = 1 << 16


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
        self._kinds: dict[str, int] = {}  # character -> its kind for `suspicious_positions`
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

    def suspicious_positions(self, text: str) -> list[int]:
        """Every i for which `suspicious(text, i)` holds, in order.

        What a character is (improbable, fairly rare, foreign, a letter,
        ordinary) is decided once per distinct character and remembered;
        only the fairly rare Hanzi and the letters look at their neighbours.
        Asking `suspicious` of every character of the corpus was a tenth of
        the cleaning stage's time.
        """
        kinds = self._kinds
        found = []
        last = len(text) - 1
        for i, ch in enumerate(text):
            kind = kinds.get(ch)
            if kind is None:
                kind = kinds[ch] = self._kind(ch)
            if kind == _ORDINARY:
                continue
            if kind == _RARE:
                pair_known = self.model.pair_known
                if (i > 0 and pair_known(text[i - 1], ch)) or (i < last and pair_known(ch, text[i + 1])):
                    continue
            elif kind == _LETTER and not ((i > 0 and is_han(text[i - 1])) or (i < last and is_han(text[i + 1]))):
                continue
            found.append(i)
        return found

    def _kind(self, ch: str) -> int:
        """What `suspicious` needs to know of one character, its neighbours aside."""
        if is_han(ch):
            logp = self.model.logp(ch)
            return _IMPROBABLE if logp < self.tau else _RARE if logp < self.isolated_tau else _ORDINARY
        if is_foreign(ch) or is_symbol(ch):
            return _IMPROBABLE
        return _LETTER if is_latin_letter(ch) else _ORDINARY

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


# --- the search for garbled spans and the decision on each


def _seed_runs(text: str, scorer: Scorer, gap: int) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in scorer.suspicious_positions(text):
        if runs and i - runs[-1][1] <= gap and "\n" not in text[runs[-1][1]:i]:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def _best_reading(text: str, run: tuple[int, int], lower: int, scorer: Scorer,
                  settings: GarbleParams, restorable: frozenset[int]) -> Reading | None:
    a, b = run
    # The stretch the span may cover: encodable, no whitespace.
    lo = a
    while lo > lower and encodable(text[lo - 1]):
        lo -= 1
    hi = b
    while hi < len(text) and encodable(text[hi]):
        hi += 1
    if not all(encodable(ch) for ch in text[a:b]):
        return None
    # Any stretch that overlaps the run and reaches at most `max_grow`
    # characters beyond it; and the end where an ASCII byte below 0x40 would
    # have put the decoder back in step.
    starts = range(max(lo, a - settings.max_grow), b)
    ends = set(range(a + 1, min(hi, b + settings.max_grow) + 1))
    for e in range(b, hi + 1):
        if e == hi or (text[e].isascii() and ord(text[e]) < 0x40):
            ends.add(e)
            break
    best: Reading | None = None  # the extent chosen
    strongest: Reading | None = None  # the highest gain, which confirms the span
    for s in starts:
        left = text[s - 1] if s > 0 else ""
        for e in sorted(ends):
            if e - s > settings.max_span or e <= s:
                continue
            span = text[s:e]
            right = text[e] if e < len(text) else ""
            printed = scorer.score(left, span, right)
            for data, width in byte_variants(span):
                only_noise = all(is_foreign(ch) or is_symbol(ch) for ch in span)
                for reading, how in realignments(data, restorable):
                    reading = fold_fullwidth(reading)
                    if not reading and not only_noise:
                        # Deleting text outright is no re-alignment: a lone rare
                        # Hanzi is as likely a real name as a garbled one.
                        continue
                    gain = scorer.score(left, reading, right) - printed
                    label = how + (f", {width}" if width else "")
                    candidate = _trimmed(Reading(s, e, reading, gain, label), span)
                    if strongest is None or _better(candidate, strongest, 0.0):
                        strongest = candidate
                    if candidate.gain >= settings.min_gain and (
                            best is None or _better(candidate, best, settings.cover_bonus)):
                        best = candidate
    return best or strongest


def shared_ends(a: str, b: str) -> tuple[int, int]:
    """Lengths of the longest common prefix of a and b and of the longest common suffix of what follows it."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def _trimmed(reading: Reading, span: str) -> Reading:
    """The reading with what it shares with the printed span at either end left out.

    Once an ASCII byte has put the decoder back in step, the text after it
    reads the same either way; the edit covers only what changes.
    """
    text = reading.text
    head, tail = shared_ends(span, text)
    covered = sum(not ch.isascii() for ch in span[head:len(span) - tail])
    return Reading(reading.start + head, reading.end - tail, text[head:len(text) - tail], reading.gain,
                   reading.how, covered)


def _better(x: Reading, y: Reading, cover_bonus: float) -> bool:
    # Higher gain, with a bonus per printed character the reading replaces: a
    # character next to a garbled run is itself most likely garbled, and one
    # left behind survives into the study. On a tie, the longer span
    # (punctuation next to a garbled run was read out of step with it), then
    # the longer reading.
    def key(r: Reading) -> tuple:
        return round(r.gain + cover_bonus * r.covered, 9), r.end - r.start, len(r.text)
    return key(x) > key(y)


def _absorb_fragments(text: str, start: int, end: int, lower: int) -> tuple[int, int]:
    """Grow a confirmed span over glued Latin fragments with Hanzi beyond them."""
    def fragment(i: int, step: int) -> int:
        j = i
        while 0 <= j + (step if step < 0 else 0) < len(text):
            ch = text[j - 1] if step < 0 else text[j]
            if ch.isspace() or ch.isdigit() or not (ch.isascii() or is_latin_letter(ch)) or is_han(ch):
                break
            j += step
        return j

    new_start = fragment(start, -1)
    if new_start < start and new_start > lower and is_han(text[new_start - 1]) \
            and any(is_latin_letter(ch) for ch in text[new_start:start]):
        start = new_start
    new_end = fragment(end, 1)
    if new_end > end and new_end < len(text) and is_han(text[new_end]) \
            and any(is_latin_letter(ch) for ch in text[end:new_end]):
        end = new_end
    return start, end


SENTENCE_MARKS = frozenset("。！？；")


# Punctuation and spaces a confirmed span can take in at its edges without
# being any less a name (许幼珊, / 洪若珊; in a list of office holders). The
# ASCII ? and ! are not among them: a decoder prints ? for bytes it cannot
# read, and misaligned GBK reads 。“ as ?! (?!拔慕? in a held-out page).
EDGE_MARKS = "，,、。．.；;：:！？“”\"'‘’（）()《》〈〉「」『』 \u3000"


def name_shaped(printed: str, settings: GarbleParams) -> bool:
    """A printed span that could be a name: Hanzi only once the punctuation at its edges is set aside, and
    no longer than a name, or than a place name where a division's suffix follows two Hanzi or more
    (湾沚区陶辛镇)."""
    core = printed.strip(EDGE_MARKS)
    if not core or not all(is_han(ch) for ch in core):
        return False
    if len(core) <= settings.name_max_chars:
        return True
    return len(core) <= settings.place_max_chars and any(
        core.find(suffix, 2) != -1 for suffix in settings.place_suffixes)


def misreading_shaped(printed: str) -> bool:
    """A printed span that can be a misreading at all: two characters or more, a Hanzi or a foreign sign
    (kana, box drawing, ...) among them. Byte-misaligned GBK prints wrong Hanzi, kana or symbols beside
    ASCII (?;剡w). A span of punctuation and Latin letters only (”APP after a quoted name) is what the
    writer typed, and a lone character is never removed on its own (a ─ used as a dash, as a rare Hanzi
    is kept; see the module's note)."""
    return len(printed.strip()) >= 2 and any(is_han(ch) or is_foreign(ch) for ch in printed)


class GarbleDetector:
    """The garble rule for one run: model, settings and scores built once.

    `edits(text)` finds the spans of one text. `article_rule()` gives the rule
    for one article's cleaning passes: cleaning repeats every rule until
    nothing changes, and the later passes see the same garbled spans (at
    shifted offsets, once other rules have removed chrome), so each reading is
    searched once and remembered for the later passes. The memory is the
    detector's, shared by the articles it cleans: a reading depends only on
    the stretch of text the search sees (`_reading_near`), so a stretch that
    recurs in another article (a place name, a standard phrase, a reposted
    paragraph) is not searched again. It is emptied when it reaches
    `_MEMO_SIZE` readings, which keeps its memory bounded and changes no
    answer.
    """

    def __init__(self, model: CharModel, params: GarbleParams):
        self.model = model
        self.settings = params
        self.scorer = Scorer(model, self.settings)
        self._memo: dict[tuple, Reading | None] = {}

    def article_rule(self) -> Callable[[str], list[Edit]]:
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        memo = self._memo
        return lambda text: self.edits(text, memo)

    def edits(self, text: str, memo: dict | None = None) -> list[Edit]:
        """Edits that repair or remove spans garbled by byte-misaligned GBK decoding."""
        settings, model = self.settings, self.model
        restorable = self.scorer.restorable(text)
        edits: list[Edit] = []
        lower = 0
        for run in _seed_runs(text, self.scorer, settings.run_gap):
            if run[1] <= lower:
                continue
            run = (max(run[0], lower), run[1])
            best = self._reading_near(text, run, lower, restorable, memo)
            if best is None or best.gain < settings.min_gain or not misreading_shaped(text[best.start:best.end]):
                continue
            if name_shaped(text[best.start:best.end], settings) and best.gain < settings.name_min_gain:
                # A few ordinary-looking Hanzi: as likely a rare place or person
                # name (圐圙, 嵖岈, 陈塘庄) as a misreading; only an overwhelming
                # gain confirms them.
                continue
            mean = model.mean_logp(best.text)
            share = model.pair_share(best.text)
            repair = (self.scorer.clean(best.text) and mean >= settings.repair_min_mean_logp
                      and share is not None and share >= settings.repair_min_pair_share)
            start, end = _absorb_fragments(text, best.start, best.end, lower)
            detail = (f"re-aligned reading {best.text!r} ({best.how}): gain {best.gain:.2f}, "
                      f"mean log10 p {mean:.2f}, word pairs {'-' if share is None else f'{share:.2f}'}")
            if repair:
                edits.append(Edit(start, end, best.text, "garble_repair", detail))
            else:
                # A sentence mark that opens the reading was re-decoded from whole
                # bytes and is kept, so the sentence boundary survives the removal;
                # so are the reading's pieces that would pass as a repair themselves.
                mark = best.text[0] if best.text[:1] in SENTENCE_MARKS else ""
                pieces = self.readable_pieces(best.text[len(mark):])
                kept = mark + "".join(pieces)
                what = (f"kept the readable piece(s) {'/'.join(pieces)}, the rest is lost" if pieces
                        else "no piece of it is readable, all of it is lost")
                edits.append(Edit(start, end, kept, "garble_remove", f"not a clean reading; {what}; {detail}"))
            lower = end
        return edits

    def readable_pieces(self, reading: str) -> list[str]:
        """The runs of Hanzi in a rejected reading that pass the repair test on their own.

        Bytes lost inside a span garble only the characters around the loss;
        the reading is right elsewhere (“叔”以來R市認 for “十三五”以来，我市认:
        以來 is what was written). A run of at least two Hanzi whose characters
        are all probable, whose mean probability and share of word pairs reach
        the repair thresholds, is what the reading supports and is kept.
        """
        settings, model = self.settings, self.model
        pieces, run = [], ""
        for ch in reading + " ":
            if is_han(ch):
                run += ch
                continue
            if len(run) >= 2:
                share = model.pair_share(run)
                if (self.scorer.clean(run) and model.mean_logp(run) >= settings.repair_min_mean_logp
                        and share is not None and share >= settings.repair_min_pair_share):
                    pieces.append(run)
            run = ""
        return pieces

    def _reading_near(self, text: str, run: tuple[int, int], lower: int, restorable: frozenset[int],
                      memo: dict | None) -> Reading | None:
        """`_best_reading` on the stretch of text it can see, remembered in `memo`.

        No span starts before `floor` (the run less `max_grow`, and not before
        `lower`) or is longer than `max_span`, and scoring looks one character
        beyond either end; so the reading depends only on that stretch, the
        run's place in it and the restorable bytes, whatever the offset.
        """
        a, b = run
        floor = max(lower, a - self.settings.max_grow)
        w0 = max(floor - 1, 0)
        w1 = min(len(text), b + self.settings.max_span)
        window = text[w0:w1]
        key = (window, a - w0, b - w0, floor - w0, restorable)
        if memo is not None and key in memo:
            found = memo[key]
        else:
            found = _best_reading(window, (a - w0, b - w0), floor - w0, self.scorer, self.settings, restorable)
            if memo is not None:
                memo[key] = found
        return None if found is None else dataclasses.replace(found, start=found.start + w0, end=found.end + w0)


def garble_edits(text: str, model: CharModel, params: GarbleParams) -> list[Edit]:
    """Edits that repair or remove spans garbled by byte-misaligned GBK decoding."""
    return GarbleDetector(model, params).edits(text)
