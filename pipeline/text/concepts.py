"""The lexicon's middle level: every term belongs to one concept, every concept to one dimension.

A policy idea is often written with many one-off compounds (慈善, 社区慈善基金,
慈善资金, 公益创投 ...). Counted term by term, each compound is too rare to
pass the evidence floor; counted as one concept, the idea is one thing with
all its evidence. Two data files hold the level, each checked on loading:

* `lexicon/concepts.csv` (`concept,dimension,label,gloss,reason`): one row a
  concept, its snake_case id, the dimension (a lexicon category) it belongs
  to, a Chinese label, an English gloss and why its terms form one idea;
* `lexicon/term_concepts.csv` (`term,concept`): one row for every term of
  `lexicon/governance_terms.csv`, naming its concept.

A third, `lexicon/dimensions.csv` (`dimension,name,label,reason`), gives each
dimension the English name and Chinese label a reader sees in the findings
instead of its snake_case id.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from pipeline.common.errors import InputError

__all__ = ["Concept", "Concepts", "Dimension", "load_concepts", "load_dimensions", "CONCEPT_COLUMNS",
           "TERM_CONCEPT_COLUMNS", "DIMENSION_COLUMNS"]

CONCEPT_COLUMNS = ["concept", "dimension", "label", "gloss", "reason"]
DIMENSION_COLUMNS = ["dimension", "name", "label", "reason"]
TERM_CONCEPT_COLUMNS = ["term", "concept"]
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Concept:
    """One concept of the lexicon."""

    concept: str
    dimension: str
    label: str
    gloss: str
    reason: str


@dataclass(frozen=True)
class Dimension:
    """How a reader sees one dimension: an English name and a Chinese label."""

    dimension: str
    name: str
    label: str
    reason: str

    def readable(self) -> str:
        """The name with its Chinese label, e.g. `rule of law (法治)`."""
        return f"{self.name} ({self.label})"


@dataclass(frozen=True)
class Concepts:
    """The concept level: the concepts in file order, the concept of every lexicon term, and the readable
    names of the dimensions (empty when no names file was given)."""

    concepts: tuple[Concept, ...]
    term_concept: Mapping[str, str] = field(repr=False)
    dimensions: Mapping[str, Dimension] = field(default_factory=dict, repr=False)

    def by_id(self) -> dict[str, Concept]:
        return {c.concept: c for c in self.concepts}

    def terms_of(self) -> dict[str, tuple[str, ...]]:
        """Each concept's terms, in lexicon order."""
        out: dict[str, list[str]] = {c.concept: [] for c in self.concepts}
        for term, concept in self.term_concept.items():
            out[concept].append(term)
        return {k: tuple(v) for k, v in out.items()}


def _rows(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "not found: the lexicon's concept level needs it (see lexicon/README.md)") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header != columns:
        raise InputError(path, f"the header must be `{','.join(columns)}`, found `{','.join(header or [])}`")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise InputError(path, f"line {line}: {len(row)} fields, expected {len(columns)}")
        rows.append((line, {k: v.strip() for k, v in zip(columns, row)}))
    return rows


def load_concepts(concepts_csv: Path, term_concepts_csv: Path, term_categories: Mapping[str, str]) -> Concepts:  # noqa: C901, PLR0912 (one check per rule of the concept files, each with its message)
    """Read and check the concept level against the lexicon's terms and their categories.

    Parameters
    ----------
    concepts_csv, term_concepts_csv : Path
        `lexicon/concepts.csv` and `lexicon/term_concepts.csv`.
    term_categories : Mapping[str, str]
        Every lexicon term and its category (dimension), in lexicon order.

    Returns
    -------
    Concepts

    Raises
    ------
    InputError
        Naming the file and line of every problem: a duplicate or malformed
        concept id, an unknown dimension, an empty label or reason, a term
        missing, unknown or listed twice, an undefined or unused concept, or a
        term whose category is not its concept's dimension.
    """
    concepts_csv, term_concepts_csv = Path(concepts_csv), Path(term_concepts_csv)
    dimensions = set(term_categories.values())
    problems: list[str] = []
    defined: dict[str, Concept] = {}
    for line, row in _rows(concepts_csv, CONCEPT_COLUMNS):
        cid = row["concept"]
        if not _ID.match(cid):
            problems.append(f"line {line}: concept id {cid!r} is not snake_case")
        elif cid in defined:
            problems.append(f"line {line}: concept {cid} is defined twice")
        if row["dimension"] not in dimensions:
            problems.append(f"line {line}: dimension {row['dimension']!r} is not a category of the lexicon")
        for key in ("label", "reason"):
            if not row[key]:
                problems.append(f"line {line}: concept {cid} has no {key}")
        defined.setdefault(cid, Concept(**row))
    if problems:
        raise InputError(concepts_csv, problems)
    term_concept: dict[str, str] = {}
    for line, row in _rows(term_concepts_csv, TERM_CONCEPT_COLUMNS):
        term, cid = row["term"], row["concept"]
        if term not in term_categories:
            problems.append(f"line {line}: {term} is not a term of the lexicon")
        elif term in term_concept:
            problems.append(f"line {line}: {term} is listed twice")
        elif cid not in defined:
            problems.append(f"line {line}: concept {cid!r} of {term} is not defined in {concepts_csv.name}")
        elif defined[cid].dimension != term_categories[term]:
            problems.append(f"line {line}: {term} is in {term_categories[term]}, but its concept {cid} is in "
                            f"{defined[cid].dimension}")
        else:
            term_concept[term] = cid
    missing = [t for t in term_categories if t not in term_concept]
    if missing and not problems:
        problems.append(f"{len(missing)} lexicon term(s) have no concept: {', '.join(missing[:10])}")
    unused = sorted(set(defined) - set(term_concept.values()))
    if unused and not problems:
        problems.append(f"concept(s) without a term: {', '.join(unused)}")
    if problems:
        raise InputError(term_concepts_csv, problems)
    ordered = {t: term_concept[t] for t in term_categories}
    return Concepts(tuple(defined.values()), ordered)


def load_dimensions(dimensions_csv: Path, dimensions: Iterable[str]) -> dict[str, Dimension]:
    """Read `lexicon/dimensions.csv`: one readable name per dimension of the lexicon.

    Parameters
    ----------
    dimensions_csv : Path
        The names file.
    dimensions : Iterable[str]
        Every category of the lexicon; each needs a row, and no row may name another.

    Returns
    -------
    dict[str, Dimension]
        In the file's order.

    Raises
    ------
    InputError
        Naming the file and line of a duplicate, unknown or unnamed dimension, or the dimensions missing.
    """
    dimensions_csv, known = Path(dimensions_csv), list(dict.fromkeys(dimensions))
    out: dict[str, Dimension] = {}
    problems: list[str] = []
    for line, row in _rows(dimensions_csv, DIMENSION_COLUMNS):
        key = row["dimension"]
        if key in out:
            problems.append(f"line {line}: dimension {key} is named twice")
        elif key not in known:
            problems.append(f"line {line}: {key!r} is not a category of the lexicon")
        elif not (row["name"] and row["label"] and row["reason"]):
            problems.append(f"line {line}: dimension {key} needs a name, a label and a reason")
        else:
            out[key] = Dimension(**row)
    missing = [d for d in known if d not in out]
    if missing and not problems:
        problems.append(f"no row for the lexicon's dimension(s) {', '.join(missing)}; add one with its name")
    if problems:
        raise InputError(dimensions_csv, problems)
    return out
