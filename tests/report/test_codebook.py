"""The codebook's generated terms section matches the lexicon, and its generator behaves."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.report.codebook import (END, START, current_section, read_terms, replace_section,
                                      terms_markdown)

CSV = """term,category,variants,gloss,note
网格化,grid_management,,grid-based management,in: huainan
网格员,grid_management,,grid worker,in: huainan
五网智治,digital_governance,,five networks of smart governance (Hefei),in: hefei; local brand
一网通办,digital_governance,一网办,one-network service | online,general vocabulary; not in this corpus
"""


def _lexicon_by_category(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """(term, gloss, kind) of every lexicon row, grouped by category in order of first appearance."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        if row["term"]:
            grouped.setdefault(row["category"], []).append((row["term"], row["gloss"], row["kind"]))
    return grouped


def _codebook_tables(document: str) -> tuple[dict[str, int], dict[str, list[tuple[str, str, str]]]]:
    """The generated section's headings (category -> stated count) and table rows, parsed from the Markdown."""
    section = document.split("<!-- terms-by-dimension:start -->", 1)[1].split("<!-- terms-by-dimension:end -->", 1)[0]
    stated: dict[str, int] = {}
    tables: dict[str, list[tuple[str, str, str]]] = {}
    category = None
    for line in section.splitlines():
        heading = re.fullmatch(r"### (\S+) \((\d+) terms?\)", line.strip())
        if heading:
            category = heading.group(1)
            stated[category] = int(heading.group(2))
            tables[category] = []
        elif line.startswith("|") and category is not None:
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if cells != ["term", "gloss", "kind"] and not set("".join(cells)) <= {"-"}:
                assert len(cells) == 3, f"CODEBOOK.md: a row of {len(cells)} cells: {line!r}"
                tables[category].append(tuple(cells))
    return stated, tables


def test_committed_codebook_lists_exactly_the_terms_of_the_lexicon_csv():
    """Every category's table in lexicon/CODEBOOK.md holds the CSV's terms, glosses and kinds, in file order.

    The expected tables come from lexicon/governance_terms.csv read with the csv
    module and the codebook's Markdown parsed here, not from the generator, so
    a generator that drops, moves or mislabels a term fails even after it has
    rewritten the codebook.
    """
    expected = _lexicon_by_category(PROJECT_ROOT / "lexicon" / "governance_terms.csv")
    stated, tables = _codebook_tables((PROJECT_ROOT / "lexicon" / "CODEBOOK.md").read_text(encoding="utf-8"))
    assert list(tables) == list(expected), "CODEBOOK.md: categories differ from the lexicon's (order of first use)"
    for category, rows in expected.items():
        assert stated[category] == len(rows), f"CODEBOOK.md: heading of {category} states {stated[category]} terms"
        assert tables[category] == rows, f"CODEBOOK.md: the table of {category} differs from the lexicon"


def test_tables_group_by_category_in_file_order_and_flag_local_brands():
    text = terms_markdown(read_terms(CSV))
    assert text.index("### grid_management (2 terms)") < text.index("### digital_governance (2 terms)")
    assert "| 五网智治 | five networks of smart governance (Hefei) | local brand |" in text
    assert "| 网格员 | grid worker |  |" in text
    assert "one-network service \\| online" in text  # a pipe in a gloss cannot break the table


def test_an_extra_column_is_tolerated_and_a_kind_column_is_shown():
    with_kind = CSV.replace("gloss,note", "gloss,note,kind").replace("in: huainan\n", "in: huainan,\n", 1)
    with_kind = with_kind.replace("local brand\n", "local brand,brand\n")
    text = terms_markdown(read_terms(with_kind))
    assert "| 五网智治 | five networks of smart governance (Hefei) | brand |" in text
    assert "| 网格化 | grid-based management |  |" in text


def test_missing_column_names_the_source():
    with pytest.raises(InputError, match="lexicon.csv: line 1: missing column"):
        read_terms("term,variants\n社区,\n", "lexicon.csv")


def test_replace_section_keeps_the_prose_and_is_idempotent():
    document = f"# Codebook\n\nprose\n\n{START}\nold\n{END}\n\nafter\n"
    once = replace_section(document, "new table\n")
    assert once == f"# Codebook\n\nprose\n\n{START}\nnew table\n{END}\n\nafter\n"
    assert replace_section(once, "new table\n") == once
    assert current_section(once) == "new table"


@pytest.mark.parametrize("document", ["no markers", f"{END}\n{START}", f"{START}{START}{END}"])
def test_replace_section_refuses_bad_markers(document):
    with pytest.raises(InputError, match="needs exactly one"):
        replace_section(document, "x", "CODEBOOK.md")


def test_committed_codebook_lists_every_concept_with_its_terms():
    """The concepts section, parsed from the Markdown, holds exactly the rows of lexicon/concepts.csv, each with
    the terms lexicon/term_concepts.csv gives it, in that file's order (both CSVs read with the csv module)."""
    lexicon = PROJECT_ROOT / "lexicon"
    with open(lexicon / "term_concepts.csv", encoding="utf-8", newline="") as handle:
        members: dict[str, list[str]] = {}
        for row in csv.DictReader(handle):
            members.setdefault(row["concept"], []).append(row["term"])
    with open(lexicon / "concepts.csv", encoding="utf-8", newline="") as handle:
        expected = [(r["concept"], r["label"], "、".join(members[r["concept"]])) for r in csv.DictReader(handle)]
    document = (lexicon / "CODEBOOK.md").read_text(encoding="utf-8")
    section = document.split("<!-- concepts-by-dimension:start -->", 1)[1].split("<!-- concepts-by-dimension:end -->")[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| concept |")]
    assert [(r[0], r[1], r[3]) for r in rows] == expected
