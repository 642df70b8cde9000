"""The generated parts of the codebook: the lexicon's terms, and its concepts, dimension by dimension.

`lexicon/CODEBOOK.md` is written by hand except for the section between the
markers `<!-- terms-by-dimension:start -->` and `<!-- terms-by-dimension:end -->`,
which lists every term of `lexicon/governance_terms.csv` with its gloss, so
that the codebook and the dictionary never disagree on what a dimension holds;
likewise the section between `<!-- concepts-by-dimension:start -->` and
`<!-- concepts-by-dimension:end -->` lists every concept of
`lexicon/concepts.csv` with its terms (`lexicon/term_concepts.csv`).

The CSV is read with the csv module, not through `load_lexicon`, so that a
column added to the lexicon (such as a flag for local brands) does not stop
the codebook from being built. The last column says which terms are local
brands or otherwise special: the `kind` column when the lexicon has one, else
"local brand" where the note says so.

    python -m pipeline.report.codebook          # rewrite the section in place
"""

from __future__ import annotations

import csv
import io
import sys

from pipeline.common.config import Paths
from pipeline.common.errors import InputError

__all__ = ["CONCEPT_END", "CONCEPT_NOTE", "CONCEPT_START", "END", "NOTE", "REQUIRED", "START", "concepts_markdown",
           "current_section", "main", "read_terms", "replace_section", "terms_markdown"]

START = "<!-- terms-by-dimension:start -->"
END = "<!-- terms-by-dimension:end -->"
NOTE = ("<!-- Generated from lexicon/governance_terms.csv by pipeline.report.codebook; "
        "do not edit by hand. -->")
REQUIRED = ("term", "category", "gloss")
CONCEPT_START = "<!-- concepts-by-dimension:start -->"
CONCEPT_END = "<!-- concepts-by-dimension:end -->"
CONCEPT_NOTE = ("<!-- Generated from lexicon/concepts.csv and lexicon/term_concepts.csv by pipeline.report.codebook; "
                "do not edit by hand. -->")


def read_terms(text: str, source: str = "lexicon CSV") -> list[dict[str, str]]:
    """Rows of the lexicon CSV as dicts, in file order; InputError on a missing column.

    Parameters
    ----------
    text : str
        The text of the lexicon CSV (`lexicon/governance_terms.csv`).
    source : str, optional
        Where the text came from, named in the error message.

    Returns
    -------
    list[dict[str, str]]
        One dict per non-blank row, column name to stripped cell.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(source, f"line 1: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k is not None}
            for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))]


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def _kind(row: dict[str, str]) -> str:
    if "kind" in row:
        return row["kind"]
    return "local brand" if "local brand" in row.get("note", "") else ""


def terms_markdown(rows: list[dict[str, str]]) -> str:
    """One table per category (in order of first appearance), terms in file order.

    Parameters
    ----------
    rows : list[dict[str, str]]
        The lexicon's rows as `read_terms` gives them (term, category, gloss and any further columns).

    Returns
    -------
    str
        The codebook's terms-by-dimension section in Markdown, its do-not-edit note first.
    """
    categories: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        categories.setdefault(row["category"], []).append(row)
    parts = [NOTE, ""]
    for category, members in categories.items():
        parts += [f"### {category} ({len(members)} terms)", "", "| term | gloss | kind |", "|---|---|---|"]
        parts += [f"| {_cell(r['term'])} | {_cell(r['gloss'])} | {_cell(_kind(r))} |" for r in members]
        parts.append("")
    return "\n".join(parts)


def replace_section(document: str, section: str, source: str = "codebook", start: str = START,
                    end: str = END) -> str:
    """The document with the text between the two markers replaced by `section`.

    Parameters
    ----------
    document : str
        The codebook's text (`lexicon/CODEBOOK.md`).
    section : str
        The generated Markdown to put between the markers.
    source : str, optional
        Where the document came from, named in the InputError when the markers are not there exactly once each.
    start : str, optional
        The marker that opens the generated section (the terms-by-dimension one by default).
    end : str, optional
        The marker that closes it.

    Returns
    -------
    str
        The document with the markers kept and only the text between them replaced.
    """
    if document.count(start) != 1 or document.count(end) != 1 or document.index(start) > document.index(end):
        raise InputError(source, f"needs exactly one {start} followed by one {end}")
    head, rest = document.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{section.rstrip()}\n{end}{tail}"


def concepts_markdown(concepts_text: str, term_concepts_text: str) -> str:
    """One table per dimension (in order of first appearance in concepts.csv): each concept with its label,
    gloss, terms (in term_concepts.csv order) and the reason its terms form one idea.

    Parameters
    ----------
    concepts_text : str
        The text of `lexicon/concepts.csv`: one row per concept with its dimension, label, gloss and reason.
    term_concepts_text : str
        The text of `lexicon/term_concepts.csv`: one row per term with the concept it belongs to.

    Returns
    -------
    str
        The codebook's concepts-by-dimension section in Markdown, its do-not-edit note first.
    """
    terms: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(term_concepts_text)):
        terms.setdefault(row["concept"], []).append(row["term"])
    dimensions: dict[str, list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(concepts_text)):
        dimensions.setdefault(row["dimension"], []).append(row)
    parts = [CONCEPT_NOTE, ""]
    for dimension, members in dimensions.items():
        parts += [f"### {dimension} ({len(members)} concepts)", "", "| concept | label | gloss | terms | why one concept |",
                  "|---|---|---|---|---|"]
        parts += [f"| {_cell(r['concept'])} | {_cell(r['label'])} | {_cell(r['gloss'])} | "
                  f"{_cell('、'.join(terms.get(r['concept'], [])))} | {_cell(r['reason'])} |" for r in members]
        parts.append("")
    return "\n".join(parts)


def current_section(document: str) -> str:
    """The text between the markers, as `replace_section` writes it."""
    _, rest = document.split(START, 1)
    return rest.split(END, 1)[0].strip("\n")


def main(paths: Paths | None = None) -> None:
    paths = paths or Paths.at()
    lexicon = paths.lexicon / "governance_terms.csv"
    codebook = paths.lexicon / "CODEBOOK.md"
    section = terms_markdown(read_terms(lexicon.read_text(encoding="utf-8"), str(lexicon)))
    codebook.write_text(replace_section(codebook.read_text(encoding="utf-8"), section, str(codebook)),
                        encoding="utf-8")
    print(f"wrote the terms section of {codebook}", file=sys.stderr)


if __name__ == "__main__":
    main()
