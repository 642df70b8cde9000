"""Text units for topic modelling: paragraphs, or windows of whole sentences.

A paragraph is a line of the cleaned text. A paragraph longer than
`max_chars` is cut into windows of consecutive whole sentences, each at most
`max_chars` long, except that a single sentence longer than that is a unit on
its own (a sentence is never cut). Windows are balanced: a long paragraph is
divided into about equal parts rather than filled greedily, so no unit is a
short leftover tail. The Suzhou article, scraped as one line, becomes
sentence windows in this way, after being cut at its own section headings.

A heading inside a line starts a new paragraph: a line scraped without its
line breaks keeps its headings as short runs set off by spaces after a
sentence end (苏州: "…水平。 夯基垒台 党建引领治理力度显著提升 十年来,…") or as
numbered headings after a sentence end (…。二、…, …。(三)…). The line is cut
before each such heading, so windows never straddle two sections.

Units are whitespace-stripped pieces of the text in order: joined together
they give the text back, apart from whitespace. Headings shorter than
`min_chars` are joined to the paragraph they introduce.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from typing import NotRequired, Sequence, TypedDict

__all__ = ["Unit", "make_units", "sentence_count", "sentence_ends", "split_inline_headings", "split_sentences",
           "token_sentences"]


class Unit(TypedDict):
    """One text unit of an article, as the segmentation hands it on and results/corpus/units.jsonl holds it."""

    unit_id: str
    doc_id: str
    place: str
    text: str
    tokens: list[str]
    # (start, end) in `text` of each token, in order.
    spans: Sequence[Sequence[int]]
    # The plain-jieba tokens of the segmentation ablation, when it runs.
    plain_tokens: NotRequired[list[str]]

# A sentence ends after 。！？!?；; together with any closing quotes or
# brackets that follow (…。” belongs to the sentence it closes), or at an
# ellipsis.
_SENTENCE_END = re.compile(r"(?:[。！？!?；;]+|……)[”’」』）)》〉\]】\"']*")


def sentence_ends(text: str) -> list[int]:
    """Character offsets where the sentences of `text` end (the last is len(text)).

    The same boundaries as `split_sentences`, as positions: a token starting
    at offset s lies in sentence `bisect_right(ends, s)`.
    """
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] < len(text):
        ends.append(len(text))
    return ends


def token_sentences(unit: dict) -> list[int]:
    """Sentence number (within the unit) of every token of a unit from units.jsonl.

    Uses the unit's `spans` (the character range of each token); a unit
    without spans is one sentence.

    Parameters
    ----------
    unit : dict
        A unit of units.jsonl (text, tokens and, when present, spans).

    Returns
    -------
    list[int]
        The sentence number of each token, from 0, in token order.

    Raises
    ------
    ValueError
        When the unit has not one span per token.
    """
    spans = unit.get("spans")
    if spans is None:
        return [0] * len(unit["tokens"])
    if len(spans) != len(unit["tokens"]):
        raise ValueError(f"unit {unit['unit_id']}: {len(spans)} spans for {len(unit['tokens'])} tokens")
    ends = sentence_ends(unit["text"])
    return [bisect_right(ends, start) for start, _ in spans]


def sentence_count(text: str) -> int:
    """Sentences of a unit's text that hold anything but whitespace and punctuation.

    Parameters
    ----------
    text : str
        A unit's text.

    Returns
    -------
    int
        The number of its sentences with at least one alphanumeric character (Han characters count).
    """
    starts = [0, *sentence_ends(text)[:-1]]
    return sum(1 for a, b in zip(starts, sentence_ends(text)) if any(ch.isalnum() for ch in text[a:b]))


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph, punctuation kept; whitespace-only pieces dropped."""
    sentences = []
    cursor = 0
    for match in _SENTENCE_END.finditer(paragraph):
        sentences.append(paragraph[cursor:match.end()])
        cursor = match.end()
    sentences.append(paragraph[cursor:])
    return [s.strip() for s in sentences if s.strip()]


# Before a heading: a sentence end, then whitespace and a short run without
# sentence punctuation that is itself followed by whitespace (its length is
# checked against min_chars in code), or a numbered heading such as 二、 or (三).
_SPACED_HEADING = re.compile(r"(?:(?<=[。！？!?；;])|(?<=[。！？!?；;][”’」』]))\s+(?=([^\s。！？!?；;]+)\s)")
_NUMBERED_HEADING = re.compile(
    r"(?<=[。！？!?；;])\s*(?=(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]))")


def split_inline_headings(line: str, min_chars: int) -> list[str]:
    """A line cut before each heading inside it (see the module docstring); the pieces joined give the line
    back apart from whitespace at the cuts."""
    cuts = {m.start() for m in _NUMBERED_HEADING.finditer(line)}
    if min_chars > 0:
        cuts |= {m.start() for m in _SPACED_HEADING.finditer(line) if len(m.group(1)) < min_chars}
    cuts = sorted(c for c in cuts if 0 < c < len(line))
    pieces = [line[a:b] for a, b in zip([0] + cuts, cuts + [len(line)])]
    return [p.strip() for p in pieces if p.strip()]


def _windows(sentences: list[str], max_chars: int) -> list[str]:
    total = sum(len(s) for s in sentences)
    # Aim for equal parts; the cap of max_chars still holds for each window.
    target = total / max(1, math.ceil(total / max_chars))
    windows: list[str] = []
    current = ""
    for sentence in sentences:
        if current and (len(current) + len(sentence) > max_chars
                        or len(current) + len(sentence) / 2 > target):
            windows.append(current)
            current = ""
        current += sentence
    if current:
        windows.append(current)
    return windows


def make_units(text: str, max_chars: int, min_chars: int = 0) -> list[str]:
    """Paragraphs of `text`, long ones cut into windows of whole sentences.

    Every unit is at most `max_chars` characters unless it is a single
    sentence longer than that. Empty lines give no unit. A line shorter than
    `min_chars` (a heading such as 构建群众自治圈) is not a unit of its own: it
    opens the paragraph that follows it, as one more sentence of it, so that
    the heading is modelled with the text it introduces. Short lines at the
    very end form one last unit.

    Parameters
    ----------
    text : str
        A cleaned article.
    max_chars : int
        The longest unit, in characters (units.max_chars).
    min_chars : int
        Lines shorter than this open the next paragraph (units.min_chars).

    Returns
    -------
    list[str]
        The units, in text order, whitespace-stripped.

    Raises
    ------
    ValueError
        When `max_chars` is below 1.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    units: list[str] = []
    pending: list[str] = []
    lines = [piece for line in text.splitlines() for piece in split_inline_headings(line, min_chars)]
    for line in lines:
        paragraph = line.strip()
        if not paragraph:
            continue
        if len(paragraph) < min_chars:
            # The line break is kept so that the heading's last word and the
            # paragraph's first word cannot fuse into one token.
            pieces = split_sentences(paragraph)
            pieces[-1] += "\n"
            pending.extend(pieces)
            continue
        sentences = pending + split_sentences(paragraph)
        pending = []
        if sum(len(s) for s in sentences) <= max_chars:
            units.append("".join(sentences))
        else:
            units.extend(_windows(sentences, max_chars))
    if pending:
        units.extend(_windows(pending, max_chars))
    return [unit.strip() for unit in units]
