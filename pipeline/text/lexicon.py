"""The governance lexicon: loading, matching, coverage and category profiles.

The lexicon (`lexicon/governance_terms.csv`) lists policy terms, each with a
governance dimension (`category`) and the spellings (`variants`) that mean the
same thing. Three uses follow from it:

* segmentation never splits a lexicon term (see `pipeline.text.segment`), which
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
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from pipeline.common.errors import InputError

__all__ = ["CATEGORY_PATTERN", "KINDS", "KIND_COLUMN", "LEXICON_COLUMNS", "SECTION_PATTERN", "VARIANT_SEPARATOR",
           "canonical_map", "category_map", "fold_width", "lexicon_strings", "load_lexicon", "load_sectioned_wordlist",
           "load_wordlist", "read_utf8"]

LEXICON_COLUMNS = ("term", "category", "variants", "gloss", "note")


# Optional column: what kind of term a row is, beyond its dimension. Empty for
# policy vocabulary; `brand` for a programme name coined by one locality
# (五网智治, 社区发展治理 as Chengdu's name for community governance);
# `self_reference` for the author's or interviewee's own institution (民政部门
# in an interview with a civil-affairs official). The profile is reported with
# and without them (`pipeline.text.profile`).
KIND_COLUMN = "kind"


KINDS = ("", "brand", "self_reference")


VARIANT_SEPARATOR = "|"


CATEGORY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


SECTION_PATTERN = re.compile(r"^\[([a-z_]+)\]$")


# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold one to one
# onto their half-width forms before matching, so that 互联网＋政务服务 is
# found as 互联网+政务服务 while every position in the text stays valid.
_WIDTH_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


_WIDTH_FOLD[0x3000] = 0x20


def fold_width(text: str) -> str:
    """Fold full-width ASCII to half-width, character for character.

    Parameters
    ----------
    text : str
        A term, a variant, a word of the segmentation or a text.

    Returns
    -------
    str
        The text with full-width ASCII forms replaced by their half-width ones.
    """
    return text.translate(_WIDTH_FOLD)


def load_lexicon(path: Path) -> pd.DataFrame:  # noqa: C901, PLR0912, PLR0915 (one check per rule of the lexicon file, each with its message)
    """Read and validate the lexicon CSV.

    Terms and variants are width-folded.

    Parameters
    ----------
    path : Path
        The lexicon CSV (the study's is lexicon/governance_terms.csv).

    Returns
    -------
    pd.DataFrame
        One row per term, in file order, with columns term, category,
        variants (a tuple of strings), gloss, note, kind (empty when the file has
        no `kind` column) and line (the line of the file).

    Raises
    ------
    InputError
        On any defect, naming the file and the line: an unknown or missing column, a row with the wrong
        number of fields, an empty term or category, a category that is not
        snake_case, whitespace or a separator inside a term, a duplicate term, an
        empty variant, a variant that is also a term, or a variant listed twice,
        or a `kind` outside KINDS.
    """
    path = Path(path)
    raw = read_utf8(path, "lexicon file")
    reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path, "is empty; it needs the header " + ",".join(LEXICON_COLUMNS)) from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in (*LEXICON_COLUMNS, KIND_COLUMN)]
    missing = [c for c in LEXICON_COLUMNS if c not in header]
    if unknown or missing or len(header) != len(set(header)):
        problem = []
        if unknown:
            problem.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            problem.append(f"missing column(s) {', '.join(missing)}")
        if not problem:
            problem.append("a column is repeated")
        raise InputError(path, f"line 1: {'; '.join(problem)}; the header must be {','.join(LEXICON_COLUMNS)}"
                               f" (and optionally {KIND_COLUMN})")

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
            kind = record.get(KIND_COLUMN, "")
            if kind not in KINDS:
                raise InputError(path, f"line {line}: kind {kind!r} of {term!r} is not one of "
                                       + ", ".join(repr(k) for k in KINDS))
            rows.append({"term": term, "category": category, "variants": tuple(variants),
                         "gloss": record["gloss"], "note": record["note"], "kind": kind, "line": line})
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
    return pd.DataFrame(rows, columns=[*LEXICON_COLUMNS, KIND_COLUMN, "line"])


def _check_string(path: Path, line: int, value: str, what: str) -> None:
    if re.search(r"\s", value):
        raise InputError(path, f"line {line}: {what} {value!r} contains whitespace; a term must be one token")
    if VARIANT_SEPARATOR in value or "," in value:
        raise InputError(path, f"line {line}: {what} {value!r} contains a separator ('|' or ',')")


def canonical_map(lexicon: pd.DataFrame) -> dict[str, str]:
    """Every lexicon string (terms and variants) mapped to its canonical term.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).

    Returns
    -------
    dict[str, str]
        Each term to itself, and each variant to its term.
    """
    mapping: dict[str, str] = {}
    for term, variants in zip(lexicon["term"], lexicon["variants"]):
        mapping[term] = term
        for variant in variants:
            mapping[variant] = term
    return mapping


def lexicon_strings(lexicon: pd.DataFrame) -> list[str]:
    """All terms and variants, sorted: what the tokenizer must keep whole.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).

    Returns
    -------
    list[str]
        The terms and variants, each once, in sorted order.
    """
    return sorted(canonical_map(lexicon))


def category_map(lexicon: pd.DataFrame) -> dict[str, str]:
    """Canonical term -> category.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).

    Returns
    -------
    dict[str, str]
        Each canonical term and its category (governance dimension), in lexicon order.
    """
    return dict(zip(lexicon["term"], lexicon["category"]))


def read_utf8(path: Path, what: str) -> str:
    """A UTF-8 text file without its byte-order mark; InputError naming the file otherwise.

    Parameters
    ----------
    path : Path
        An input of the study (the lexicon, a word list, the notation file).
    what : str
        What the file is, for the message when it is missing ("lexicon file").

    Returns
    -------
    str
        The decoded text.

    Raises
    ------
    InputError
        When the file is missing or not UTF-8.
    """
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

    Parameters
    ----------
    path : Path
        A word list of the lexicon folder (domain stopwords, place suffixes, the one-character whitelist).

    Returns
    -------
    list[str]
        The words, in file order.

    Raises
    ------
    InputError
        Naming the line, for an entry with inner whitespace, a
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

    A word may appear in one section only.

    Parameters
    ----------
    path : Path
        The word list (lexicon/vocab_exclusions.txt).
    sections : Sequence[str]
        The section names it may have, such as ("exclude", "keep").

    Returns
    -------
    dict[str, list[str]]
        Every name in `sections` and its words in file order (empty lists where a section
        is absent).
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
