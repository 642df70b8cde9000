"""Cleaning: each rule a named, pure function from text to edits.

`clean_text` runs the rules in a fixed order and returns the cleaned text and
the audit rows (rule, step, start, end, before, after) of every change, so a
reader can see, and a test can replay, exactly what the study removed.

Order matters: inserted pinyin is removed first (it is interleaved with the
characters the other patterns must see), then known site chrome
(lexicon/boilerplate.yaml), then the chrome classifier's lines and spans
(pipeline/corpus/chrome.py, lexicon/chrome.yaml), then full-width letters and
digits folded to half-width (the garble search would take them for misread
bytes), then garbled spans, then whitespace normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from pipeline.common.errors import InputError
from pipeline.corpus.edits import Edit, apply_edits

__all__ = ["BoilerplatePattern", "Rule", "Unsettled", "blank_run_edits", "boilerplate_edits", "clean_text", "default_rules",
           "fullwidth_alnum_edits", "is_pinyin_reading", "line_edge_edits", "load_boilerplate", "nfc_edits",
           "odd_space_edits", "pinyin_edits", "space_run_edits", "text_edge_edits"]

# ---------------------------------------------------------------- pinyin ---

# Pinyin syllable shape once tone marks are stripped: optional initial, then a
# final that starts with a vowel. Checked on the toneless form.
_PINYIN_SHAPE = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:[aeiouv\u00fc][a-z\u00fc]{0,4}|ng|n|m)$")
_TONE_MARKS = set("\u0304\u0301\u030c\u0300")  # macron, acute, caron, grave (after NFD)
# Neutral-tone readings carry no tone mark; only these particles are accepted unmarked.
_NEUTRAL_TONE = {"de", "le", "me", "ne", "ma", "ba", "zi", "men", "zhe", "guo", "li", "ge", "shang", "xia", "lai", "qu"}
_PINYIN_CANDIDATE = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\(([a-zA-Z\u00c0-\u024f]{1,7})\)")


def is_pinyin_reading(token: str) -> bool:
    """True for one pinyin syllable as a reading: lower case, tone-marked (or a neutral-tone particle)."""
    if token != token.lower():
        return False
    decomposed = unicodedata.normalize("NFD", token)
    toneless = "".join(c for c in decomposed if c not in _TONE_MARKS)
    toneless = unicodedata.normalize("NFC", toneless)
    if not _PINYIN_SHAPE.match(toneless):
        return False
    has_tone = any(c in _TONE_MARKS for c in decomposed)
    return has_tone or toneless in _NEUTRAL_TONE


def pinyin_edits(text: str) -> list[Edit]:
    """Remove pinyin readings inserted after characters, as in 來(lái); keep real parentheticals.

    Parameters
    ----------
    text : str
        The article's text.

    Returns
    -------
    list[Edit]
        One deletion per parenthesised pinyin reading right after a Han character (rule `pinyin_reading`).
    """
    return [Edit(m.start(), m.end(), "", "pinyin_reading")
            for m in _PINYIN_CANDIDATE.finditer(text) if is_pinyin_reading(m.group(1))]


# ----------------------------------------------------------- boilerplate ---

@dataclass(frozen=True)
class BoilerplatePattern:
    name: str
    scope: str
    regex: re.Pattern
    why: str
    head_lines: int | None = None


def load_boilerplate(path: Path) -> list[BoilerplatePattern]:
    """Read lexicon/boilerplate.yaml; every entry must compile and say why it is there.

    Parameters
    ----------
    path : Path
        The boilerplate list, lexicon/boilerplate.yaml (name, scope, pattern, why for each entry).

    Returns
    -------
    list[BoilerplatePattern]
        The compiled patterns, in file order.

    Raises
    ------
    InputError
        When the file is not valid YAML or not a list, or an entry is incomplete, duplicated, of an unknown scope,
        or does not compile.
    """
    try:
        entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(path, f"is not valid YAML ({exc})") from None
    if not isinstance(entries, list):
        raise InputError(path, "must be a list of patterns (name, scope, pattern, why)")
    patterns = []
    names = set()
    for number, entry in enumerate(entries, start=1):
        where = f"entry {number}"
        if not isinstance(entry, dict) or not {"name", "scope", "pattern", "why"} <= set(entry):
            raise InputError(path, f"{where}: needs name, scope, pattern and why")
        if entry["scope"] not in ("line", "span"):
            raise InputError(path, f"{where} ({entry['name']}): scope must be 'line' or 'span'")
        if entry["name"] in names:
            raise InputError(path, f"{where}: duplicate name {entry['name']!r}")
        names.add(entry["name"])
        try:
            regex = re.compile(entry["pattern"], re.MULTILINE)
        except re.error as exc:
            raise InputError(path, f"{where} ({entry['name']}): pattern does not compile: {exc}") from None
        patterns.append(BoilerplatePattern(entry["name"], entry["scope"], regex, entry["why"].strip(),
                                           entry.get("head_lines")))
    return patterns


def _line_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end_without_newline, end_with_newline) of every line."""
    spans = []
    position = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        spans.append((position, position + len(body), position + len(line)))
        position += len(line)
    return spans


def boilerplate_edits(text: str, patterns: list[BoilerplatePattern]) -> list[Edit]:
    """Edits that remove boilerplate lines and spans; the first pattern to claim a region wins."""
    edits: list[Edit] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    lines = _line_spans(text)
    nonblank_index = {}
    count = 0
    for start, body_end, _ in lines:
        if text[start:body_end].strip():
            count += 1
        nonblank_index[start] = count
    for pattern in patterns:
        for start, body_end, end in lines:
            if pattern.head_lines is not None and nonblank_index[start] > pattern.head_lines:
                continue
            line = text[start:body_end]
            if pattern.scope == "line":
                if line.strip() and pattern.regex.search(line) and free(start, end):
                    edits.append(Edit(start, end, "", pattern.name))
                    taken.append((start, end))
            else:
                for match in pattern.regex.finditer(line):
                    s, e = start + match.start(), start + match.end()
                    if e > s and free(s, e):
                        edits.append(Edit(s, e, "", pattern.name))
                        taken.append((s, e))
    return edits


# ---------------------------------------------------- unicode/whitespace ---

_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")
# Characters that render as a space (NBSP, ideographic space, ...) or as nothing.
_ODD_SPACE = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]+")
_SPACE_RUN = re.compile(r"[ \t]{2,}")
_LINE_EDGE_SPACE = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TEXT_EDGE = re.compile(r"^\s+|\s+$")


def _regex_edits(text: str, regex: re.Pattern, replace: Callable[[str], str], rule: str) -> list[Edit]:
    return [Edit(m.start(), m.end(), replace(m.group(0)), rule) for m in regex.finditer(text)]


def fullwidth_alnum_edits(text: str) -> list[Edit]:
    """Full-width ASCII letters and digits to half-width; Chinese punctuation is kept.

    Parameters
    ----------
    text : str
        The article's text.

    Returns
    -------
    list[Edit]
        One replacement per run of full-width letters and digits (rule `unicode_fullwidth_alnum`).
    """
    return _regex_edits(text, _FULLWIDTH_ALNUM,
                        lambda s: "".join(chr(ord(c) - 0xFEE0) for c in s), "unicode_fullwidth_alnum")


def odd_space_edits(text: str) -> list[Edit]:
    return (_regex_edits(text, _ODD_SPACE, lambda s: " ", "whitespace_odd_space")
            + _regex_edits(text, _INVISIBLE, lambda s: "", "whitespace_invisible"))


def space_run_edits(text: str) -> list[Edit]:
    return _regex_edits(text, _SPACE_RUN, lambda s: " ", "whitespace_space_run")


def line_edge_edits(text: str) -> list[Edit]:
    return _regex_edits(text, _LINE_EDGE_SPACE, lambda s: "", "whitespace_line_edge")


def blank_run_edits(text: str) -> list[Edit]:
    return _regex_edits(text, _BLANK_RUN, lambda s: "\n\n", "whitespace_blank_lines")


def text_edge_edits(text: str) -> list[Edit]:
    edits = _regex_edits(text, _TEXT_EDGE, lambda s: "", "whitespace_text_edge")
    return edits


def nfc_edits(text: str) -> list[Edit]:
    normal = unicodedata.normalize("NFC", text)
    return [] if normal == text else [Edit(0, len(text), normal, "unicode_nfc")]


# ----------------------------------------------------------------- engine ---

class Unsettled(ValueError):
    """Cleaning still changed the text after its last pass (a rule undoing another, or a text garbled throughout
    whose garble is found a stretch a pass)."""


Rule = Callable[[str], list[Edit]]


def default_rules(patterns: list[BoilerplatePattern], garble_rule: Rule | None,
                  chrome_rule: Rule | None = None) -> list[Rule]:
    """The cleaning rules in the order they run: known boilerplate first, then the chrome classifier.

    Parameters
    ----------
    patterns : list[BoilerplatePattern]
        The known boilerplate (`load_boilerplate`).
    garble_rule : Rule or None
        The article's garble rule (mis-decoded stretches), after the chrome; None leaves it out.
    chrome_rule : Rule or None
        The chrome classifier (`chrome.chrome_rule`), after the boilerplate; None leaves it out.

    Returns
    -------
    list[Rule]
        NFC and pinyin readings, boilerplate, chrome, garble, then the whitespace and full-width normalisations.
    """
    rules: list[Rule] = [nfc_edits, pinyin_edits, lambda text: boilerplate_edits(text, patterns)]
    if chrome_rule is not None:
        rules.append(chrome_rule)
    # Full-width letters and digits are folded before the garble search: to it they are improbable symbols,
    # and it removed real text such as 。１９９５年 and ＩＰＡＤ from news pages.
    rules.append(fullwidth_alnum_edits)
    if garble_rule is not None:
        rules.append(garble_rule)
    rules += [odd_space_edits, space_run_edits, line_edge_edits, blank_run_edits, text_edge_edits]
    return rules


def clean_text(text: str, rules: list[Rule], max_passes: int = 5) -> tuple[str, list[dict]]:
    """Run the rules in order, and again until a pass changes nothing.

    Removing one piece of chrome can expose another (a layout bar trailing a
    site name leaves the bare site name), so the rules are repeated to a fixed
    point; that makes cleaning idempotent. Each audit row's `step` numbers the
    rule application (pass × rules + position), and its start/end are offsets
    into the text that application received.

    Parameters
    ----------
    text : str
        The article's raw text.
    rules : list[Rule]
        The cleaning rules, in the order they run (`default_rules`).
    max_passes : int
        Passes allowed before the rules must have settled.

    Returns
    -------
    tuple[str, list[dict]]
        The cleaned text, and the audit rows of every pass (rule, step, start, end, before, after, note).

    Raises
    ------
    Unsettled
        When a pass still changes the text after `max_passes`.
    """
    audit: list[dict] = []
    for pass_index in range(max_passes):
        changed = False
        for position, rule in enumerate(rules, start=1):
            text, rows = apply_edits(text, rule(text))
            for row in rows:
                row["step"] = pass_index * len(rules) + position
            audit.extend(rows)
            changed = changed or bool(rows)
        if not changed:
            return text, audit
    raise Unsettled(f"cleaning did not settle after {max_passes} passes: each pass still changed the text")
