"""The codebook's generated terms section matches the lexicon, and its generator behaves."""

from __future__ import annotations

import pytest

from pipeline.common.config import Paths
from pipeline.common.errors import InputError
from pipeline.report.codebook import (END, START, current_section, read_terms, replace_section,
                                      terms_markdown)

CSV = """term,category,variants,gloss,note
网格化,grid_management,,grid-based management,in: huainan
网格员,grid_management,,grid worker,in: huainan
五网智治,digital_governance,,five networks of smart governance (Hefei),in: hefei; local brand
一网通办,digital_governance,一网办,one-network service | online,general vocabulary; not in this corpus
"""


def test_committed_section_matches_the_lexicon():
    paths = Paths.at()
    lexicon = paths.lexicon / "governance_terms.csv"
    codebook = (paths.lexicon / "CODEBOOK.md").read_text(encoding="utf-8")
    expected = terms_markdown(read_terms(lexicon.read_text(encoding="utf-8"), str(lexicon)))
    assert current_section(codebook) == expected.rstrip(), (
        "lexicon/CODEBOOK.md is out of date with the lexicon: run `make results` (or `python -m pipeline.report.codebook`)")


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
