"""The governance lexicon: loading, matching, coverage and category profiles.

The lexicon (`lexicon/governance_terms.csv`) lists policy terms, each with a
governance dimension (`category`) and the spellings (`variants`) that mean the
same thing. Three uses follow from it:

* segmentation never splits a lexicon term (see `pipeline.segment`), which
  rests on `TermMatcher`, the search for lexicon strings in a text;
* `lexicon_coverage` checks, occurrence by occurrence, that this holds;
* `lexicon_profile` counts how much each place says in each dimension.

An *occurrence* of a term is a place where `TermMatcher` finds the term or
one of its variants. A term nested in a longer term (社会组织 in 社区社会组织)
is therefore not counted there: the longer term owns that stretch, as it does
in segmentation.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from pipeline.errors import InputError

LEXICON_COLUMNS = ("term", "category", "variants", "gloss", "note")
VARIANT_SEPARATOR = "|"
CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
SECTION_PATTERN = re.compile(r"^\[([a-z_]+)\]$")

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold one to one
# onto their half-width forms before matching, so that 互联网＋政务服务 is
# found as 互联网+政务服务 while every position in the text stays valid.
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH_FOLD[0x3000] = 0x20


def fold_width(text: str) -> str:
    """Fold full-width ASCII to half-width, character for character."""
    return text.translate(_WIDTH_FOLD)


# ---------------------------------------------------------------- loading


def load_lexicon(path: Path) -> pd.DataFrame:
    """Read and validate the lexicon CSV.

    Returns one row per term, in file order, with columns term, category,
    variants (a tuple of strings), gloss, note and line (the line of the file).
    Terms and variants are width-folded. Any defect raises `InputError` naming
    the file and the line: an unknown or missing column, a row with the wrong
    number of fields, an empty term or category, a category that is not
    snake_case, whitespace or a separator inside a term, a duplicate term, an
    empty variant, a variant that is also a term, or a variant listed twice.
    """
    path = Path(path)
    raw = read_utf8(path, "lexicon file")
    reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path, "is empty; it needs the header " + ",".join(LEXICON_COLUMNS)) from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in LEXICON_COLUMNS]
    missing = [c for c in LEXICON_COLUMNS if c not in header]
    if unknown or missing or len(header) != len(LEXICON_COLUMNS):
        problem = []
        if unknown:
            problem.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            problem.append(f"missing column(s) {', '.join(missing)}")
        if not problem:
            problem.append("a column is repeated")
        raise InputError(path, f"line 1: {'; '.join(problem)}; the header must be {','.join(LEXICON_COLUMNS)}")

    rows: list[dict] = []
    term_line: dict[str, int] = {}
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise InputError(path, f"line {line}: {len(fields)} fields where the header has {len(header)} "
                                       "(quote fields that contain commas)")
            record = {name: value.strip() for name, value in zip(header, fields)}
            term = fold_width(record["term"])
            category = record["category"]
            if not term:
                raise InputError(path, f"line {line}: the term is empty")
            if not category:
                raise InputError(path, f"line {line}: term {term!r} has no category")
            if not CATEGORY_PATTERN.match(category):
                raise InputError(path, f"line {line}: category {category!r} is not English snake_case")
            _check_string(path, line, term, "term")
            if term in term_line:
                raise InputError(path, f"line {line}: duplicate term {term!r} (first on line {term_line[term]})")
            term_line[term] = line
            variants: list[str] = []
            if record["variants"]:
                for variant in record["variants"].split(VARIANT_SEPARATOR):
                    variant = fold_width(variant.strip())
                    if not variant:
                        raise InputError(path, f"line {line}: term {term!r} has an empty variant (check the '|')")
                    _check_string(path, line, variant, "variant")
                    if variant == term or variant in variants:
                        raise InputError(path, f"line {line}: variant {variant!r} repeats the term or another variant")
                    variants.append(variant)
            rows.append({"term": term, "category": category, "variants": tuple(variants),
                         "gloss": record["gloss"], "note": record["note"], "line": line})
    except csv.Error as exc:
        raise InputError(path, f"line {reader.line_num}: malformed CSV ({exc})") from None

    variant_owner: dict[str, tuple[str, int]] = {}
    for row in rows:
        for variant in row["variants"]:
            if variant in term_line:
                raise InputError(path, f"line {row['line']}: variant {variant!r} of {row['term']!r} is also a term "
                                       f"(line {term_line[variant]}); a string maps to one canonical term")
            if variant in variant_owner:
                owner, owner_line = variant_owner[variant]
                raise InputError(path, f"line {row['line']}: variant {variant!r} of {row['term']!r} is already a "
                                       f"variant of {owner!r} (line {owner_line})")
            variant_owner[variant] = (row["term"], row["line"])
    if not rows:
        raise InputError(path, "has a header but no terms")
    return pd.DataFrame(rows, columns=[*LEXICON_COLUMNS, "line"])


def _check_string(path: Path, line: int, value: str, what: str) -> None:
    if re.search(r"\s", value):
        raise InputError(path, f"line {line}: {what} {value!r} contains whitespace; a term must be one token")
    if VARIANT_SEPARATOR in value or "," in value:
        raise InputError(path, f"line {line}: {what} {value!r} contains a separator ('|' or ',')")


def canonical_map(lexicon: pd.DataFrame) -> dict[str, str]:
    """Every lexicon string (terms and variants) mapped to its canonical term."""
    mapping: dict[str, str] = {}
    for term, variants in zip(lexicon["term"], lexicon["variants"]):
        mapping[term] = term
        for variant in variants:
            mapping[variant] = term
    return mapping


def lexicon_strings(lexicon: pd.DataFrame) -> list[str]:
    """All terms and variants, sorted: what the tokenizer must keep whole."""
    return sorted(canonical_map(lexicon))


def category_map(lexicon: pd.DataFrame) -> dict[str, str]:
    """Canonical term -> category."""
    return dict(zip(lexicon["term"], lexicon["category"]))


def read_utf8(path: Path, what: str) -> str:
    """A UTF-8 text file without its byte-order mark; InputError naming the file otherwise."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(path, f"{what} not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 ({exc}); save it as UTF-8") from None
    return text.removeprefix("\ufeff")


def _read_entries(path: Path) -> Iterable[tuple[int, str]]:
    path = Path(path)
    text = read_utf8(path, "word list")
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            yield number, fold_width(entry)


def load_wordlist(path: Path) -> list[str]:
    """One word per line; `#` starts a comment (a reason), blank lines are skipped.

    Raises `InputError` naming the line for an entry with inner whitespace, a
    section header (use `load_sectioned_wordlist`) or a repeated word.
    """
    words: list[str] = []
    seen: dict[str, int] = {}
    for number, entry in _read_entries(path):
        if SECTION_PATTERN.match(entry):
            raise InputError(path, f"line {number}: section header {entry!r} in a plain word list")
        _check_word(path, number, entry, seen)
        words.append(entry)
    return words


def load_sectioned_wordlist(path: Path, sections: Sequence[str]) -> dict[str, list[str]]:
    """A word list split into `[section]` blocks; every section must be one of `sections`.

    Returns a dict with every name in `sections` (empty lists where a section
    is absent). A word may appear in one section only.
    """
    result: dict[str, list[str]] = {name: [] for name in sections}
    seen: dict[str, int] = {}
    current: str | None = None
    for number, entry in _read_entries(path):
        header = SECTION_PATTERN.match(entry)
        if header:
            if header.group(1) not in result:
                raise InputError(path, f"line {number}: unknown section {entry!r}; expected one of "
                                       + ", ".join(f"[{s}]" for s in sections))
            current = header.group(1)
            continue
        if current is None:
            raise InputError(path, f"line {number}: word {entry!r} before the first [section] header")
        _check_word(path, number, entry, seen)
        result[current].append(entry)
    return result


def _check_word(path: Path, number: int, entry: str, seen: dict[str, int]) -> None:
    if re.search(r"\s", entry):
        raise InputError(path, f"line {number}: {entry!r} contains whitespace; one word per line, reason after '#'")
    if entry in seen:
        raise InputError(path, f"line {number}: {entry!r} repeats line {seen[entry]}")
    seen[entry] = number


# ---------------------------------------------------------------- matching

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


def occurrence_survival(text: str, words: Sequence[str], matcher: TermMatcher, canonical: Mapping[str, str],
                        matches: Sequence[tuple[int, int, str]] | None = None) -> list[tuple[str, int, int, bool]]:
    """(canonical term, start, end, intact) for every lexicon occurrence in `text`.

    `intact` is true when the segmentation `words` (unfiltered, concatenating
    to `text`) has a word spanning exactly that occurrence. `matches` are
    `matcher.find(text)` when the caller already has them.
    """
    spans = word_spans(words, text)
    return [(canonical[string], start, end, (start, end) in spans)
            for start, end, string in (matcher.find(text) if matches is None else matches)]


# ---------------------------------------------------------------- coverage and profile


def lexicon_coverage(texts_by_place: Mapping[str, str], words_by_place: Mapping[str, Sequence[str]],
                     lexicon: pd.DataFrame) -> pd.DataFrame:
    """One row per lexicon term: does segmentation keep every occurrence whole?

    `words_by_place` holds, per place, the unfiltered words of the
    segmentation of `texts_by_place[place]` (they concatenate to the text).
    Occurrences are found by `TermMatcher`'s string search for the term and
    its variants. Columns: term, category, occurrences, tokens (occurrences
    that came out as exactly one word), split (the rest), places (how many
    places use the term), place_names ('|'-joined, sorted) and survives: true
    when every occurrence came out as one word, false when any was split,
    and missing (NA) for a term that does not occur. Sorted by category, then
    occurrences (most first), then term.
    """
    canonical = canonical_map(lexicon)
    matcher = TermMatcher(canonical)
    return coverage_table({place: survival_counts(texts_by_place[place], words_by_place[place], matcher, canonical)
                           for place in texts_by_place}, lexicon)


def survival_counts(text: str, words: Sequence[str], matcher: TermMatcher, canonical: Mapping[str, str],
                    matches: Sequence[tuple[int, int, str]] | None = None) -> dict[str, tuple[int, int]]:
    """Canonical term -> (occurrences in `text`, occurrences kept whole by `words`).

    Counts of texts that no term spans (units and articles, joined by line
    breaks) add up to the counts of their concatenation, so a large corpus is
    covered unit by unit without keeping its segmentation. `matches` are
    `matcher.find(text)` when the caller already has them.
    """
    found: dict[str, tuple[int, int]] = {}
    for term, _start, _end, whole in occurrence_survival(text, words, matcher, canonical, matches):
        n, kept = found.get(term, (0, 0))
        found[term] = (n + 1, kept + int(whole))
    return found


def add_survival_counts(total: dict[str, tuple[int, int]], more: Mapping[str, tuple[int, int]]) -> None:
    """Add `more` (from `survival_counts`) into `total`, in place."""
    for term, (n, kept) in more.items():
        n0, kept0 = total.get(term, (0, 0))
        total[term] = (n0 + n, kept0 + kept)


def coverage_table(survival_by_place: Mapping[str, Mapping[str, tuple[int, int]]],
                   lexicon: pd.DataFrame) -> pd.DataFrame:
    """The `lexicon_coverage` table from per-place `survival_counts`."""
    occurrences: Counter = Counter()
    intact: Counter = Counter()
    where: dict[str, set[str]] = {}
    for place in sorted(survival_by_place):
        for term, (n, kept) in survival_by_place[place].items():
            if n:
                occurrences[term] += n
                intact[term] += kept
                where.setdefault(term, set()).add(place)
    rows = []
    for term, category in zip(lexicon["term"], lexicon["category"]):
        n = occurrences[term]
        places = sorted(where.get(term, ()))
        rows.append({"term": term, "category": category, "occurrences": n, "tokens": intact[term],
                     "split": n - intact[term], "places": len(places), "place_names": "|".join(places),
                     "survives": (intact[term] == n) if n else pd.NA})
    frame = pd.DataFrame(rows)
    frame["survives"] = frame["survives"].astype("boolean")
    frame["_order"] = -frame["occurrences"]
    return (frame.sort_values(["category", "_order", "term"], kind="mergesort")
            .drop(columns="_order").reset_index(drop=True))


def lexicon_profile(tokens_by_place: Mapping[str, Sequence[str] | Counter], lexicon: pd.DataFrame,
                    decimals: int = 2) -> pd.DataFrame:
    """Attention to each governance dimension, per place.

    `tokens_by_place` are a place's countable tokens (a list, or a Counter of
    them): the segmentation after
    dropping punctuation, whitespace and numbers, but before stopwords and
    toponym/person/role exclusions are removed (`pipeline.segment.countable_tokens`).
    That token count is the denominator: per_10k = 10,000 x (tokens of the
    category's terms) / (all countable tokens of the place). Variants count
    for their canonical term. One row per place x category, zeros included,
    sorted by place then category; columns place, category, count, terms
    (distinct terms used), total_tokens, per_10k (rounded to `decimals`).
    """
    canonical = canonical_map(lexicon)
    categories = category_map(lexicon)
    rows = []
    for place in sorted(tokens_by_place):
        tokens = tokens_by_place[place]
        tally = tokens if isinstance(tokens, Counter) else Counter(tokens)
        total = sum(tally.values())
        counts: Counter = Counter()
        distinct: dict[str, set[str]] = {}
        for token, n in tally.items():
            term = canonical.get(fold_width(token))
            if term is not None:
                counts[categories[term]] += n
                distinct.setdefault(categories[term], set()).add(term)
        for category in sorted(set(categories.values())):
            count = counts[category]
            rows.append({"place": place, "category": category, "count": count,
                         "terms": len(distinct.get(category, ())), "total_tokens": total,
                         "per_10k": round(10000 * count / total, decimals) if total else 0.0})
    return pd.DataFrame(rows, columns=["place", "category", "count", "terms", "total_tokens", "per_10k"])
