"""Every number in the study's reader-facing prose must be one a result table holds.

Our own code, as no maintained library checks numbers written in prose against result tables.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ProseNumber", "Support", "check_documents", "params_numbers", "prose_numbers", "support_values",
           "unsupported"]

# "4,073" (commas before groups of three), else digits and decimals; [0-9], as \d takes full-width digits.
_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9])|[0-9]+(?:\.[0-9]+)*")
_PERCENT, _SCALE = re.compile(r"\s?[%％]|\s?per ?cent\b"), re.compile(r"[×x](?![A-Za-z_])")  # 100x: a figure
# Digits touching a word character (letter, digit, _, Han: h08, K2, 14th, 2nd, 12月14日) or East Asian
# punctuation, joined to a letter (doc-0011, utf-8, 1+N, 15-minute) or quoted inside Chinese text (“1+10”基层,
# 达99.2%、98.3%, ……100%): a name, an ordinal or a quote from the articles, no figure of the study.
_CJK, _QUOTE = "\u2026\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f", "0-9.,%+×/“”‘’\"'()·-"
_GLUED_AFTER = re.compile(rf"[\w{_CJK}]|[-+/·.'’][^\W\d_]|[{_QUOTE}]*[{_CJK}]")
_GLUED_BEFORE = re.compile(rf"(?:[\w{_CJK}#@$]|[^\W\d_][-+/·.'’]|[{_CJK}][{_QUOTE}]*)\Z")
_BEFORE_SIGN = " \t\n([{=:;,<>≤≥~≈"  # a minus after these is a sign; after a digit, a range dash
_MASKS = (  # spans blanked before numbers are sought
    re.compile(r"^ {0,3}(`{3,}|~{3,}).*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S),  # fenced code
    re.compile(r"<!--.*?-->|</?[A-Za-z][^>\n]*>", re.S),  # HTML comments (never rendered), tags' attributes
    re.compile(r"(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)"),  # code spans: names, commands
    re.compile(r"^[ \t]*!\[.*$|!\[[^\]]*\]\([^)]*\)", re.M),  # image lines and images: file names, alt text
    re.compile(r"(?<=\])\([^)\n]*\)|^[ \t]*\[[^\]\n]+\]:.*$", re.M),  # link targets (the link text stays)
    re.compile(r"\b[A-Za-z][\w+.-]*://[^\s)>\]]+|\bwww\.[^\s)>\]]+"),  # URLs
    re.compile(r"(?<![0-9])[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}(?![0-9])"),  # dates: 2020-12-31
    re.compile(r"(?:(?<![0-9.,])[0-9]{1,2}(?:st|nd|rd|th)?[ \t]+)?\b(?:January|February|March|April|May|June|July"
               r"|August|September|October|November|December)\b(?:[ \t]+[0-9]{1,2}\b(?![.,]?[0-9]))?"),  # 1 June
    re.compile(r"(?i)\b(?:python|version|release)[ \t]+v?[0-9](?:[0-9.]*[0-9])?"),  # versions: Python 3.11
)
_HEADING_NUMBER = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<m>[0-9]+(?:\.[0-9]+)*\.?)(?=[ \t])")
_LIST_MARKER = re.compile(r"^(?:[ \t]*>)*[ \t]*(?P<m>(?P<n>[0-9]{1,9})[.)])(?=[ \t]|$)")
_BULLET = re.compile(r"^(?:[ \t]*>)*[ \t]*[-*+][ \t]")


@dataclass(frozen=True)
class ProseNumber:
    """One figure as written: "0.581"; "60%" (value 60, percent); "4,073" (value 4073)."""

    text: str
    value: float
    decimals: int
    percent: bool
    line: int
    context: str


def _mask(text: str) -> str:
    """`text` with what is no prose turned to spaces, line breaks kept, so offsets and lines stay put."""
    for pattern in _MASKS:
        text = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    lines, in_list, after_blank = text.split("\n"), False, True
    for i, line in enumerate(lines):
        if not line.strip():
            after_blank = True
            continue
        heading, marker = _HEADING_NUMBER.match(line), _LIST_MARKER.match(line)
        # Ordered-list markers ("1. ", "2) "); as in CommonMark, a number other than 1
        # cannot interrupt a paragraph, so a wrapped line that starts "4. " stays prose.
        listed = bool(marker) and (marker.group("n") == "1" or after_blank or in_list)
        if listed or heading:  # ...and section numbers: "## 2.1 Methods"
            start, end = (marker if listed else heading).span("m")
            lines[i] = line[:start] + " " * (end - start) + line[end:]
        in_list = listed or bool(_BULLET.match(line)) or (in_list and (not after_blank or line[:1] in " \t"))
        after_blank = False
    return "\n".join(lines)


def _scan(masked: str, text: str) -> Iterator[tuple[ProseNumber, int, int, bool]]:
    """Each free-standing number of `masked` (`text` with spans blanked): number, start, end, is a year."""
    lines, starts = text.split("\n"), [0] + [m.end() for m in re.finditer("\n", text)]
    for m in _NUMBER.finditer(masked):
        digits, begin, end = m.group(), m.start(), m.end()
        signed = begin > 0 and masked[begin - 1] in "-−" and (begin == 1 or masked[begin - 2] in _BEFORE_SIGN)
        first = begin - signed
        suffix = _PERCENT.match(masked, end) or _SCALE.match(masked, end)
        last = suffix.end() if suffix else end
        glued = _GLUED_BEFORE.search(masked, max(0, first - 30), first) or _GLUED_AFTER.match(masked, last)
        if glued or digits.count(".") > 1:  # 1.2.3 is a version string, not a figure
            continue
        plain, line = digits.replace(",", ""), bisect.bisect_right(starts, first)
        row = starts[line - 1]
        context = lines[line - 1][max(0, first - row - 15):last - row + 15].strip()
        number = ProseNumber(text[first:last], -float(plain) if signed else float(plain), len(plain.partition(".")[2]),
                             bool(suffix) and suffix.re is _PERCENT, line, context)
        # A year (1900-2099, no % or separators) dates the text; it is no result.
        yield number, first, last, len(digits) == 4 and plain.isdigit() and 1900 <= int(plain) <= 2099 and not suffix


def prose_numbers(text: str) -> list[ProseNumber]:
    """Every number a reader reads as a figure, in Markdown or plain text, in reading order.

    Parameters
    ----------
    text : str
        The document.

    Returns
    -------
    list of ProseNumber
        Integers, decimals, thousands ("4,073"), percentages, scales ("100x"); see the masks for what is skipped.
    """
    return [number for number, _, _, year in _scan(_mask(text), text) if not year]


@dataclass(frozen=True, eq=False)  # eq=False: a numpy array has no single truth value
class Support:
    """The sorted distinct values that the tables (and the parameters) hold, from any iterable of numbers."""

    values: np.ndarray

    def __post_init__(self) -> None:  # sorted and distinct, whatever the caller passes, for searchsorted
        object.__setattr__(self, "values", np.unique(np.asarray(list(self.values), dtype=float)))

    def _holds(self, low: float, high: float) -> bool:
        slack = 1e-9 * max(1.0, abs(low), abs(high))  # binary floats: 0.605 is 0.60499...
        i = np.searchsorted(self.values, low - slack, side="left")
        return bool(i < len(self.values) and self.values[i] <= high + slack)

    def supports(self, n: ProseNumber) -> bool:
        """True when some value, rounded as the prose rounds it, is the number written.

        Parameters
        ----------
        n : ProseNumber
            A number from the prose.

        Returns
        -------
        bool
            An integer needs an equal value; a decimal or percentage (also a share x 100) one rounding to it.
        """
        if n.decimals == 0 and not n.percent:  # 69 units must be 69, not a rounded 68.6
            return self._holds(n.value, n.value)
        half = 0.5 * 10.0 ** -n.decimals  # either way at an exact tie: writers round differently
        low, high = n.value - half, n.value + half
        return self._holds(low, high) or (n.percent and self._holds(low / 100, high / 100))


def support_values(tables: Path | Iterable[Path], extra: Iterable[float] = ()) -> Support:
    """Every value the given result tables hold, to check the prose against.

    Parameters
    ----------
    tables : Path or iterable of Path
        A folder searched recursively for ``*.csv``, or the tables themselves: a document checked against
        only the tables it draws on cannot be backed by a coincidence elsewhere.
    extra : iterable of float
        Further values, such as the parameters' numbers (`params_numbers`).

    Returns
    -------
    Support
        Numeric cells, numbers inside text cells, each table's row count, and `extra`.
    """
    values = list(extra)
    files = sorted(Path(tables).rglob("*.csv")) if isinstance(tables, Path) else sorted(map(Path, tables))
    for path in files:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
        values.append(len(table))
        numeric = table.select_dtypes("number")  # not bool: True and False are no figures 1 and 0
        values.extend(v for v in numeric.to_numpy(float).ravel() if v == v)  # v == v: not NaN
        # Text cells ("社区矫正 2; 街道 1", "stable: 0.77 >= 0.6") are read by the prose's rules,
        # so digits quoted inside Chinese (12月14日 in documents.csv) back nothing.
        for cell in {c for c in table.drop(columns=numeric.columns).to_numpy().ravel() if isinstance(c, str)}:
            values.extend(number.value for number, _, _, _ in _scan(_mask(cell), cell))
    return Support(values)


def unsupported(text: str, support: Support, allowed: Iterable[str] = ()) -> list[ProseNumber]:
    """The numbers of `text` that no support value backs and no allowed phrase covers.

    Parameters
    ----------
    text : str
        The document.
    support : Support
        What the tables hold (`support_values`).
    allowed : iterable of str
        Exact phrases of this document whose numbers are cited from outside the study.

    Returns
    -------
    list of ProseNumber
        In reading order.
    """
    covered = [m.span() for phrase in allowed if phrase for m in re.finditer(re.escape(phrase), text)]
    return [number for number, start, end, year in _scan(_mask(text), text) if not year
            and not support.supports(number) and not any(a <= start and end <= b for a, b in covered)]


def check_documents(documents: Mapping[str, str], support: Support,
                    allowed: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> list[str]:
    """One message per number no table supports, and per allowed phrase that no longer occurs.

    Parameters
    ----------
    documents : mapping of str to str
        Document name (as the messages give it) to its text.
    support : Support
        What the tables hold.
    allowed : mapping of str to sequence of (phrase, reason), optional
        Per document, exact phrases whose numbers are cited from outside ("Article 31 of the regulation").

    Returns
    -------
    list of str
        ``"<name>:<line>: <number> (…context…) matches no value in results/tables"``, and stale phrases.
    """
    allowed = allowed or {}
    messages = [f"{name}: allowed phrases are listed for a document that is not checked"
                for name in allowed if name not in documents]
    for name, text in documents.items():
        phrases = allowed.get(name, ())
        # A phrase the text no longer holds would rot in the list unseen: report it.
        messages += [f"{name}: allowed phrase {phrase!r} ({reason}) no longer occurs in the document"
                     for phrase, reason in phrases if phrase not in text]
        messages += [f"{name}:{n.line}: {n.text} (…{n.context}…) matches no value in results/tables"
                     for n in unsupported(text, support, [phrase for phrase, _ in phrases])]
    return messages


def params_numbers(params: Mapping) -> list[float]:
    """Every number in the parameters, in the file's order.

    Parameters
    ----------
    params : Mapping
        The study's parameters as plain values (``StudyParams.record()``).

    Returns
    -------
    list of float
        Each int or float value at any depth; booleans are not numbers here.
    """
    def walk(node: object) -> list[float]:
        if isinstance(node, (Mapping, list)):
            return [x for child in (node.values() if isinstance(node, Mapping) else node) for x in walk(child)]
        return [float(node)] if isinstance(node, (int, float)) and not isinstance(node, bool) else []
    return walk(params)
